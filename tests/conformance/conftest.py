"""A Prism mock server for the whole conformance session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._prism import REPO, Prism


@pytest.fixture(scope="session")
def prism_url() -> Iterator[str]:
    (REPO / ".prism").mkdir(exist_ok=True)
    prism = Prism(errors=True)
    try:
        prism.wait_ready()
        yield prism.url
    finally:
        prism.stop()
