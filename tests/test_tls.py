"""The ``ssl`` option and ``SSL_CERT_FILE``/``SSL_CERT_DIR`` (issue 21.5), against a local HTTPS server
whose certificate comes from a CA made in the test (trustme), so no system trust store can vouch for it."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from telnyx_ai import APIConnectionError, AsyncTelnyx, Telnyx
from telnyx_ai import _tls as tls_module
from telnyx_ai.testing import MockServer
from telnyx_ai.testing._fixtures import model_metadata

from ._aiohttp_app import serve_app

MODELS = {"object": "list", "data": [model_metadata("m1")]}


@pytest.fixture(autouse=True)
def _no_trust_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
async def https_url(ca: trustme.CA) -> AsyncIterator[str]:
    """A tiny HTTPS API on 127.0.0.1 with a certificate for 127.0.0.1 issued by ``ca``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)

    async def models(request: web.Request) -> web.Response:
        return web.json_response(MODELS)

    app = web.Application()
    app.router.add_get("/v2/ai/models", models)
    async with serve_app(app, context) as url:
        yield f"{url}/v2"


async def _models(client: AsyncTelnyx) -> list[str]:
    return [model.id for model in (await client.ai.retrieve_models()).data]


async def test_an_unknown_ca_is_refused_with_a_way_out(https_url: str) -> None:
    async with AsyncTelnyx(api_key="k", base_url=https_url, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.ai.retrieve_models()
    message = str(caught.value)
    assert "certificate verify failed" in message
    assert "pass ssl='path/to/ca.pem' or an ssl.SSLContext, or set SSL_CERT_FILE" in message


async def test_a_ca_bundle_path_is_trusted(https_url: str, ca_file: Path) -> None:
    for given in (str(ca_file), ca_file):
        async with AsyncTelnyx(api_key="k", base_url=https_url, ssl=given) as client:
            assert await _models(client) == ["m1"]


async def test_an_ssl_context_is_used_as_it_is(https_url: str, ca: trustme.CA) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    async with AsyncTelnyx(api_key="k", base_url=https_url, ssl=context) as client:
        assert await _models(client) == ["m1"]


async def test_ssl_false_skips_verification_and_says_so_once(
    https_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tls_module, "_warned_unverified", False)
    with caplog.at_level(logging.WARNING, logger="telnyx_ai"):
        async with (
            AsyncTelnyx(api_key="k", base_url=https_url, ssl=False) as first,
            AsyncTelnyx(api_key="k", base_url=https_url, ssl=False) as second,
        ):
            assert await _models(first) == await _models(second) == ["m1"]
    warnings = [r.getMessage() for r in caplog.records if "not verified" in r.getMessage()]
    assert len(warnings) == 1 and "anyone on the network path can read the API key" in warnings[0]


async def test_ssl_cert_file_is_honoured(https_url: str, ca_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    async with AsyncTelnyx(api_key="k", base_url=https_url) as client:
        assert await _models(client) == ["m1"]


@pytest.fixture
def hashed_ca_dir(ca_file: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "certs"
    folder.mkdir()
    shutil.copy(ca_file, folder / "test-ca.pem")
    openssl = shutil.which("openssl")
    assert openssl, "the openssl command is needed to hash a certificate directory (scripts/test installs it)"
    subprocess.run([openssl, "rehash", str(folder)], check=True, capture_output=True)
    assert any(p.name.endswith(".0") for p in folder.iterdir())
    return folder


async def test_ssl_cert_dir_is_honoured(https_url: str, hashed_ca_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_DIR", str(hashed_ca_dir))
    async with AsyncTelnyx(api_key="k", base_url=https_url) as client:
        assert await _models(client) == ["m1"]
    monkeypatch.delenv("SSL_CERT_DIR")
    async with AsyncTelnyx(api_key="k", base_url=https_url, ssl=hashed_ca_dir) as client:  # a directory as ssl=
        assert await _models(client) == ["m1"]


async def test_a_copy_changes_what_it_trusts_and_shares_the_pool(https_url: str, ca_file: Path) -> None:
    async with AsyncTelnyx(api_key="k", base_url=https_url, max_retries=0) as client:
        trusting = client.with_options(ssl=ca_file)
        assert await _models(trusting) == ["m1"]
        with pytest.raises(APIConnectionError, match="certificate verify failed"):
            await client.ai.retrieve_models()
        assert trusting._transport.pool is client._transport.pool  # pyright: ignore[reportPrivateUsage]


def test_the_sync_client_takes_ssl_too(ca: trustme.CA, ca_file: Path) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with (
        MockServer.in_thread(ssl_context=context) as server,
        Telnyx(api_key="k", base_url=server.url, ssl=ca_file) as client,
    ):
        assert server.url.startswith("https://")
        assert client.ai.retrieve_models().data


def test_bad_settings_fail_before_any_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FileNotFoundError, match="ssl: no CA bundle file or certificate directory at"):
        AsyncTelnyx(api_key="k", ssl=tmp_path / "missing.pem")
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate\n")
    with pytest.raises(ValueError, match="holds no PEM certificates"):
        AsyncTelnyx(api_key="k", ssl=empty)
    with pytest.raises(TypeError, match=r"ssl must be an ssl\.SSLContext, a CA bundle path, or True/False, got int"):
        AsyncTelnyx(api_key="k", ssl=1)  # type: ignore[typeddict-item]
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "nope.pem"))
    with pytest.raises(FileNotFoundError, match=r"SSL_CERT_FILE names .*nope\.pem, which is not a file"):
        AsyncTelnyx(api_key="k")


_PROBE = """
import asyncio, os, sys
from telnyx_ai import APIConnectionError, AsyncTelnyx
if len(sys.argv) > 2:
    os.environ["SSL_CERT_FILE"] = sys.argv[2]  # changed after the process started
async def main():
    async with AsyncTelnyx(api_key="k", base_url=sys.argv[1], max_retries=0) as client:
        own = client._transport.config.ssl is not True
        try:
            models = [m.id for m in (await client.ai.retrieve_models()).data]
        except APIConnectionError as exc:
            models = "certificate verify failed" in str(exc)
        print(own, models)
asyncio.run(main())
"""


async def _probe(https_url: str, cafile: Path, capath: Path, *changed: str) -> str:
    """A fresh process started with ``SSL_CERT_FILE``/``SSL_CERT_DIR`` set: whether its client built its own
    context, and the models it got (or True for a refused certificate)."""
    env = {**os.environ, "SSL_CERT_FILE": str(cafile), "SSL_CERT_DIR": str(capath)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _PROBE, https_url, *changed, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    return out.decode().strip()


async def test_trust_from_the_starting_environment_reuses_aiohttps_context(
    https_url: str, ca_file: Path, tmp_path: Path
) -> None:
    # Both variables set when the process starts: aiohttp's default context already trusts exactly them.
    empty_dir = tmp_path / "no-certs"
    empty_dir.mkdir()
    expected_own = "False" if sys.platform == "linux" else "True"
    assert await _probe(https_url, ca_file, empty_dir) == f"{expected_own} ['m1']"
    # ... and nothing else: a bundle without the test CA refuses the server.
    other = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    assert await _probe(https_url, other, empty_dir) == f"{expected_own} True"
    # Changed after the start (aiohttp may have seen the old value): the SDK builds its own context.
    assert await _probe(https_url, other, empty_dir, str(ca_file)) == "True ['m1']"
