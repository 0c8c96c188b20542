"""One frozen configuration: checked once, shared by copies, never showing the key."""

from __future__ import annotations

import dataclasses

import pytest

from telnyx_ai import AsyncTelnyx, Telnyx, Timeout
from telnyx_ai._config import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, ClientConfig
from telnyx_ai._http.request import RequestBuilder

KEY = "KEY-do-not-show-123"


def test_defaults_come_from_the_named_constants() -> None:
    config = AsyncTelnyx(api_key=KEY)._transport.config
    assert (config.max_retries, config.timeout) == (DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT)
    assert Timeout() == DEFAULT_TIMEOUT


def test_the_config_is_frozen_and_copies_share_it_where_unchanged() -> None:
    client = AsyncTelnyx(api_key=KEY, default_headers={"X-App": "a"}, max_connections=7)
    config = client._transport.config
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.max_retries = 5  # type: ignore[misc]
    copy = client.with_options(max_retries=0)._transport.config
    assert copy.max_retries == 0
    assert dataclasses.replace(copy, max_retries=config.max_retries) == config


def test_the_key_stays_out_of_the_config_and_request_reprs() -> None:
    config = ClientConfig(api_key=KEY)
    request = RequestBuilder(config).build("GET", "/ai/models", options={})
    assert request.headers["Authorization"] == f"Bearer {KEY}"  # what aiohttp is handed
    for text in (repr(config), str(config), repr(request), str(request)):
        assert KEY not in text
    assert "<redacted>" in repr(request)


@pytest.mark.parametrize("make", [AsyncTelnyx, Telnyx])
def test_a_misspelled_client_keyword_is_an_error_naming_it(make: type[AsyncTelnyx] | type[Telnyx]) -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'max_retry'\. Did you mean 'max_retries'\?"):
        make(api_key=KEY, max_retry=3)  # type: ignore[call-arg]


def test_a_misspelled_with_options_keyword_is_an_error_naming_it() -> None:
    client = AsyncTelnyx(api_key=KEY)
    with pytest.raises(TypeError, match=r"with_options\(\) got an unexpected keyword argument 'timout'"):
        client.with_options(timout=3)  # type: ignore[call-arg]


def test_settings_are_checked_on_copies_too() -> None:
    client = AsyncTelnyx(api_key=KEY)
    with pytest.raises(ValueError, match="max_retries must be 0 or more"):
        client.with_options(max_retries=-1)
