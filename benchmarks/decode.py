"""Decoding cost of the SDK's response types against plain msgspec Structs of the same shape.

    python -m benchmarks.decode [--repeats 7] [--out DIR]

The SDK's types carry methods for web frameworks (``__iter__``, ``__get_pydantic_core_schema__``,
``to_dict``); msgspec never calls them while decoding, so decoding should cost what plain msgspec
costs. Each case decodes the same bytes with ``decoder_for(SDKType)`` and with a decoder for a
mirror: a Struct built by ``msgspec.defstruct`` with the same fields, defaults and options, and no
methods. The cases alternate, the best of ``--repeats`` rounds is kept, and the table gives the
ratio SDK / mirror (1.00 is "unchanged"). The table is appended to ``results.md`` in ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fixtures import build
from telnyx_ai._models import APIResponse, BaseModel, decoder_for
from telnyx_ai.types.chat import ChatCompletion, ChatCompletionChunk
from telnyx_ai.types.openai import OpenAIEmbeddingResponse

RESULTS = Path(__file__).resolve().parent / "results"
_mirrors: dict[type[Any], type[Any]] = {}


def mirror(tp: Any) -> Any:
    """``tp`` with every SDK Struct in it replaced by a plain Struct of the same fields and options."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if tp not in _mirrors:
            config = tp.__struct_config__
            fields = [
                (f.encode_name, mirror(f.type))
                if f.required
                else (
                    f.encode_name,
                    mirror(f.type),
                    f.default
                    if f.default is not msgspec.NODEFAULT
                    else msgspec.field(default_factory=f.default_factory),
                )
                for f in msgspec.structs.fields(tp)
            ]
            _mirrors[tp] = msgspec.defstruct(
                f"Plain{tp.__name__}",
                fields,
                kw_only=True,
                omit_defaults=config.omit_defaults,
                gc=config.gc,
                dict=issubclass(tp, APIResponse),  # room for the request id, as the SDK's top-level types have
            )
        return _mirrors[tp]
    args = typing.get_args(tp)
    if not args:
        return tp
    mapped = tuple(mirror(a) for a in args)
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return typing.Union[mapped]  # noqa: UP007  # built from a tuple
    if origin is typing.Literal:
        return tp
    return origin[mapped if len(mapped) > 1 else mapped[0]]


def _cases() -> list[tuple[str, type[Any], list[bytes], int]]:
    """(name, SDK type, bodies, loops per round): a reply, a stream's chunks, an embedding response."""
    fixtures = build(stream_chunks=2000)
    chat = fixtures.routes["/v2/ai/chat/completions"].body
    stream = fixtures.routes["/sse/v2/ai/chat/completions"].body
    chunks = [line[6:] for line in stream.split(b"\n") if line.startswith(b"data: {")]
    embedding = fixtures.routes["/e16/v2/ai/openai/embeddings"].body
    return [
        ("chat completion", ChatCompletion, [chat], 20_000),
        ("2,000 stream chunks", ChatCompletionChunk, chunks, 10),
        ("16 x 1024 floats", OpenAIEmbeddingResponse, [embedding], 100),
    ]


def _timer(decode: Callable[[bytes], Any], bodies: list[bytes], loops: int) -> float:
    started = time.perf_counter()
    for _ in range(loops):
        for body in bodies:
            decode(body)
    return (time.perf_counter() - started) / (loops * len(bodies))


def run(repeats: int) -> list[tuple[str, float, float]]:
    """(case, seconds per body with the SDK type, seconds with the mirror): best of ``repeats`` rounds each."""
    rows: list[tuple[str, float, float]] = []
    for name, sdk_type, bodies, loops in _cases():
        sdk = decoder_for(sdk_type).decode
        plain = msgspec.json.Decoder(mirror(sdk_type)).decode
        assert msgspec.to_builtins(sdk(bodies[0])) == msgspec.to_builtins(plain(bodies[0])), name
        best_sdk = best_plain = float("inf")
        for _ in range(repeats):  # interleaved, so a noisy neighbour hits both alike
            best_sdk = min(best_sdk, _timer(sdk, bodies, loops))
            best_plain = min(best_plain, _timer(plain, bodies, loops))
        rows.append((name, best_sdk, best_plain))
    return rows


def markdown(rows: list[tuple[str, float, float]], repeats: int) -> str:
    lines = [
        "",
        "## Decoding: SDK types against plain msgspec Structs",
        "",
        f"`python -m benchmarks.decode --repeats {repeats}`: best of {repeats} interleaved rounds, "
        "per body decoded. The mirror has the same fields and options and no methods.",
        "",
        "| body | SDK type | plain Struct | SDK / plain |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | {sdk * 1e6:.2f} µs | {plain * 1e6:.2f} µs | {sdk / plain:.2f} |" for name, sdk, plain in rows
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.decode", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="append the table to DIR/results.md")
    args = parser.parse_args(argv)
    table = markdown(run(args.repeats), args.repeats)
    print(table)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        with open(args.out / "results.md", "a", encoding="utf-8") as report:
            report.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
