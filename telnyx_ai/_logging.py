"""The ``telnyx_ai`` logger: off unless ``TELNYX_LOG`` is set, and never shows the API key."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

__all__ = ["logger", "redact_headers", "setup_logging"]

logger = logging.getLogger("telnyx_ai")

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "cookie"})


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` safe to log: credentials replaced by ``<redacted>``."""
    return {k: ("<redacted>" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}


def setup_logging() -> None:
    """Honour ``TELNYX_LOG=debug|info`` by attaching a stderr handler once."""
    level_name = os.environ.get("TELNYX_LOG", "").strip().upper()
    if level_name not in ("DEBUG", "INFO"):
        return
    logger.setLevel(level_name)
    if not any(getattr(h, "_telnyx_ai", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        handler._telnyx_ai = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
