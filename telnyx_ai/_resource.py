"""The base of every resource class: a node of the ``client.ai.chat...`` tree holding the transport."""

from __future__ import annotations

from ._http.transport import Transport

__all__ = ["AsyncResource"]


class AsyncResource:
    """A group of operations. Each operation builds its path, query and body and hands them to the transport."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
