"""The ``ssl`` setting: which certificates a client trusts, worked out once when it is configured.

- an `ssl.SSLContext`: used as it is (client certificates, pinned CAs, ...);
- a path: a CA bundle file (PEM) or a directory of hashed certificates, trusted instead of the system's;
- ``False``: no verification at all, said once in the log, since it exposes the API key to anyone on the path;
- ``True`` or left out: the system's trust store, or ``$SSL_CERT_FILE``/``$SSL_CERT_DIR`` when set
  (as OpenSSL, curl and httpx read them), so a corporate CA needs no code.

Loading a CA bundle costs about 20 ms, as much as importing the SDK. aiohttp loads one when it is imported
(its default context, ``ssl=True``), from OpenSSL's default verify paths, which are ``$SSL_CERT_FILE`` and
``$SSL_CERT_DIR`` when both are set. When both are, and still hold what the process started with, that
context already trusts exactly them and no second one is built (see `_default_context_trusts`).
"""

from __future__ import annotations

import os
import ssl
import sys
from functools import cache
from pathlib import Path
from typing import TypeAlias

from ._logging import logger

__all__ = ["SSLOption", "SSLSetting", "resolve_ssl"]

SSLOption: TypeAlias = ssl.SSLContext | str | os.PathLike[str] | bool
"""What the ``ssl`` keyword takes: a context, a CA bundle path, or whether to verify."""
SSLSetting: TypeAlias = ssl.SSLContext | bool
"""What a request is sent with (aiohttp's ``ssl=``): a context, or True (its default context) or False."""

_warned_unverified = False


def _context_for(path: str | os.PathLike[str], origin: str) -> ssl.SSLContext:
    location = Path(path)
    if location.is_dir():
        return ssl.create_default_context(capath=str(location))
    if not location.is_file():
        raise FileNotFoundError(f"{origin}: no CA bundle file or certificate directory at {location}.")
    try:
        return ssl.create_default_context(cafile=str(location))
    except ssl.SSLError as exc:
        raise ValueError(f"{origin}: {location} holds no PEM certificates OpenSSL can read ({exc}).") from None


@cache
def _started_with() -> dict[bytes, bytes]:
    """``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` as the process was started with them (Linux; else empty)."""
    try:
        with open("/proc/self/environ", "rb") as environ:
            entries = environ.read().split(b"\0")
    except OSError:
        return {}
    pairs = (entry.partition(b"=") for entry in entries if entry.startswith((b"SSL_CERT_FILE=", b"SSL_CERT_DIR=")))
    return {name: value for name, _, value in pairs}


def _default_context_trusts(cafile: str, capath: str) -> bool:
    """Whether aiohttp's default context trusts exactly ``cafile`` and ``capath`` (both from the environment).

    It was built when aiohttp was imported, with OpenSSL's default verify paths: those variables when both
    are set (``openssl_*_env`` names them). Unless the process changed them since it started, aiohttp saw
    what we see now; when it did change them (or on other systems, where we cannot tell), we build our own.
    """
    paths = ssl.get_default_verify_paths()
    if sys.platform != "linux" or (paths.openssl_cafile_env, paths.openssl_capath_env) != _ENV_NAMES:
        return False
    started = _started_with()
    return started.get(b"SSL_CERT_FILE") == os.fsencode(cafile) and started.get(b"SSL_CERT_DIR") == os.fsencode(capath)


_ENV_NAMES = ("SSL_CERT_FILE", "SSL_CERT_DIR")


def _from_environment() -> SSLSetting:
    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = os.environ.get("SSL_CERT_DIR") or None
    if cafile is None and capath is None:
        return True  # aiohttp's own default context: the system's trust store
    if cafile is not None and not Path(cafile).is_file():
        raise FileNotFoundError(f"SSL_CERT_FILE names {cafile}, which is not a file: fix or unset it.")
    if capath is not None and not Path(capath).is_dir():
        raise FileNotFoundError(f"SSL_CERT_DIR names {capath}, which is not a directory: fix or unset it.")
    if cafile is not None and capath is not None and _default_context_trusts(cafile, capath):
        return True  # the same trust, already loaded
    return ssl.create_default_context(cafile=cafile, capath=capath)


def resolve_ssl(value: object) -> SSLSetting:
    """The setting requests are sent with, for the ``ssl`` keyword's ``value`` (see the module docstring)."""
    global _warned_unverified
    if isinstance(value, ssl.SSLContext):
        return value
    if value is True:
        return _from_environment()
    if value is False:
        if not _warned_unverified:
            _warned_unverified = True
            logger.warning(
                "ssl=False: TLS certificates are not verified, so anyone on the network path can read the "
                "API key. Pass ssl='path/to/ca.pem' (or an SSLContext) to trust your own CA instead."
            )
        return False
    if isinstance(value, str | os.PathLike):
        return _context_for(value, "ssl")  # pyright: ignore[reportUnknownArgumentType]
    raise TypeError(f"ssl must be an ssl.SSLContext, a CA bundle path, or True/False, got {type(value).__name__}.")
