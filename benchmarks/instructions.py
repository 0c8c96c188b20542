"""Instructions per event of each protocol's stream, telnyx_ai against the floor, counted by callgrind.

    python -m benchmarks.instructions [chat|responses|anthropic ...]   # needs valgrind (apt-get install valgrind)
    python -m benchmarks.instructions --per-event [chat ...]           # one event per read, also through to_sse()

Timings on a shared machine swing by 2x; instruction counts do not. Each figure is one process reading
the 20,000-event body of scenario 3 (3r, 3a) from memory, in 64 KiB reads, minus a process that only
starts up: the floor splits on blank lines and decodes each ``data:`` line into the same structs; telnyx_ai
reads the same reads through `AsyncStream` (SSE framing, decoding, the final object folded, ``async for``).

``--per-event`` cuts the body into one read per event, as a paced stream arrives (the many-streams scenario's
shape, without its network and event loop, whose share of a chunk swings with the machine's load), and adds
``to_sse()`` against the floor re-framing each event as ``data: <json>``: the stream's own cost per chunk.
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
        self._reads = reads[::-1]  # popped from the end: pop(0) of 20,000 reads would cost more than a read

    async def readany(self) -> bytes:
        return self._reads.pop() if self._reads else b""

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


def _run(protocol: str, who: str, path: str, cut: str = "64k") -> None:
    """One measured process: read the body at ``path`` as ``who`` (floor, floor_sse, telnyx_ai, telnyx_ai_sse,
    or none), in 64 KiB reads or (``cut`` "event") one read per event."""
    import msgspec

    from telnyx_ai._streams import anthropic, chat, responses
    from telnyx_ai._streams.stream import AsyncStream
    from telnyx_ai._types import DEFAULT_STREAM_IDLE_TIMEOUT

    body = Path(path).read_bytes()
    if cut == "event":
        reads = [event + b"\n\n" for event in body.split(b"\n\n") if event]
    else:
        reads = [body[i : i + READ] for i in range(0, len(body), READ)]
    stream_protocol: Any = {"chat": chat.PROTOCOL, "responses": responses.PROTOCOL, "anthropic": anthropic.PROTOCOL}[
        protocol
    ]
    if who in ("floor", "floor_sse"):
        decode = stream_protocol.decoder.decode
        frames: list[bytes] = []
        pending = b""
        for piece in reads:
            blocks = (pending + piece).split(b"\n\n")
            pending = blocks.pop()
            for block in blocks:
                for line in block.split(b"\n"):
                    if line.startswith(b"data:") and line != b"data: [DONE]":
                        data = line[5:].lstrip(b" ")
                        decode(data)
                        if who == "floor_sse":
                            frames.append(b"data: " + data + b"\n\n")
                            frames.clear()
    elif who in ("telnyx_ai", "telnyx_ai_sse"):

        async def read() -> None:
            stream = AsyncStream(  # with the SDK's default idle limit, as a client opens it
                _Response(reads),
                stream_protocol,
                method="POST",
                url="memory",
                max_event_bytes=1 << 24,
                stream_idle=DEFAULT_STREAM_IDLE_TIMEOUT,
            )
            if who == "telnyx_ai_sse":
                async for _ in stream.to_sse():
                    pass
            else:
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
        _run(*argv[1:5])
        return
    per_event = "--per-event" in argv
    argv = [arg for arg in argv if arg != "--per-event"]
    cut = "event" if per_event else "64k"
    pairs = [("floor", "telnyx_ai"), ("floor_sse", "telnyx_ai_sse")] if per_event else [("floor", "telnyx_ai")]
    for protocol in argv or ["chat", "responses", "anthropic"]:
        with tempfile.NamedTemporaryFile(suffix=".sse") as body:
            body.write(_body(protocol))
            body.flush()
            base = _instructions(["--run", protocol, "none", body.name, cut])
            for floor_name, sdk_name in pairs:
                floor, sdk = (
                    _instructions(["--run", protocol, who, body.name, cut]) - base for who in (floor_name, sdk_name)
                )
                print(
                    f"{protocol:10s} {cut:5s} {floor_name:9s} {floor / EVENTS:8.0f}  "
                    f"{sdk_name:13s} {sdk / EVENTS:8.0f}  ratio {sdk / floor:.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main(sys.argv[1:])
