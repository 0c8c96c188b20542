"""Instructions per event of each protocol's stream, telnyx_ai against the floor, counted by callgrind.

    python -m benchmarks.instructions [chat|responses|anthropic ...]   # needs valgrind (apt-get install valgrind)

Timings on a shared machine swing by 2x; instruction counts do not. Each figure is one process reading
the 20,000-event body of scenario 3 (3r, 3a) from memory, in 64 KiB reads, minus a process that only
starts up: the floor splits on blank lines and decodes each ``data:`` line into the same structs; telnyx_ai
reads the same reads through `AsyncStream` (SSE framing, decoding, the final object folded, ``async for``).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

EVENTS = 20_000
READ = 64 * 1024


def _body(protocol: str) -> bytes:
    from .fixtures import build
    from .protocol_fixtures import anthropic_stream, responses_stream

    if protocol == "chat":
        return build(EVENTS).routes["/sse/v2/ai/chat/completions"].body
    return (responses_stream if protocol == "responses" else anthropic_stream)(EVENTS)[0]


class _Content:
    def __init__(self, reads: list[bytes]) -> None:
        self._reads = reads

    async def readany(self) -> bytes:
        return self._reads.pop(0) if self._reads else b""

    def at_eof(self) -> bool:
        return not self._reads


class _Response:
    status = 200
    headers: dict[str, str] = {}

    def __init__(self, reads: list[bytes]) -> None:
        self.content = _Content(reads)

    def close(self) -> None:
        pass

    def release(self) -> None:
        pass


def _run(protocol: str, who: str, path: str) -> None:
    """One measured process: read the body at ``path`` as ``who`` (floor, telnyx_ai, or none)."""
    import msgspec

    from telnyx_ai._streams import anthropic, chat, responses
    from telnyx_ai._streams.stream import AsyncStream

    body = Path(path).read_bytes()
    reads = [body[i : i + READ] for i in range(0, len(body), READ)]
    stream_protocol: Any = {"chat": chat.PROTOCOL, "responses": responses.PROTOCOL, "anthropic": anthropic.PROTOCOL}[
        protocol
    ]
    if who == "floor":
        decode = stream_protocol.decoder.decode
        pending = b""
        for piece in reads:
            blocks = (pending + piece).split(b"\n\n")
            pending = blocks.pop()
            for block in blocks:
                for line in block.split(b"\n"):
                    if line.startswith(b"data:") and line != b"data: [DONE]":
                        decode(line[5:].lstrip(b" "))
    elif who == "telnyx_ai":

        async def read() -> None:
            stream = AsyncStream(
                _Response(reads), stream_protocol, method="POST", url="memory", max_event_bytes=1 << 24
            )
            async for _ in stream:
                pass

        asyncio.run(read())
    else:
        msgspec.json.decode(b"{}")
        asyncio.run(asyncio.sleep(0))


def _instructions(args: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "benchmarks.instructions",
            *args,
        ]
        subprocess.run(command, check=True, capture_output=True)
        for line in out.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError("callgrind wrote no total")


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--run":
        _run(*argv[1:4])
        return
    for protocol in argv or ["chat", "responses", "anthropic"]:
        with tempfile.NamedTemporaryFile(suffix=".sse") as body:
            body.write(_body(protocol))
            body.flush()
            base = _instructions(["--run", protocol, "none", body.name])
            floor, sdk = (_instructions(["--run", protocol, who, body.name]) - base for who in ("floor", "telnyx_ai"))
            print(f"{protocol:10s} floor {floor / EVENTS:8.0f}  telnyx_ai {sdk / EVENTS:8.0f}  ratio {sdk / floor:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
