"""Emulated speech to text and text to speech: answers a test can predict from the request alone.

A transcript is the uploaded file's bytes read as UTF-8 (so a test picks it by what it uploads), and
synthesized speech is `SPEECH_HEADER` followed by the text's UTF-8 bytes (not playable, but exact).
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
from typing import Any, cast

from aiohttp import web

from ._handlers import _body, _Invalid, _validated, route  # pyright: ignore[reportPrivateUsage]
from ._records import Call
from ._responses import json_response, validation_error

__all__ = ["SPEECH_HEADER", "TRANSCRIPTION_MODELS", "VOICES", "speech_bytes", "transcript_of"]

TRANSCRIPTION_MODELS = ("distil-whisper/distil-large-v2", "openai/whisper-large-v3-turbo", "deepgram/nova-3")
SPEECH_HEADER = b"ID3\x04\x00\x00\x00\x00\x00\x00"
"""The first bytes of every emulated speech file: an empty ID3v2.4 tag, as an MP3 file starts."""
VOICES: list[dict[str, str]] = [
    {
        "voice_id": "telnyx.NaturalHD.astra",
        "name": "Astra",
        "provider": "telnyx",
        "language": "en-US",
        "gender": "female",
    },
    {
        "voice_id": "telnyx.NaturalHD.orion",
        "name": "Orion",
        "provider": "telnyx",
        "language": "en-US",
        "gender": "male",
    },
    {"voice_id": "aws.Polly.Joanna", "name": "Joanna", "provider": "aws", "language": "en-US", "gender": "female"},
    {"voice_id": "azure.en-GB-RyanNeural", "name": "Ryan", "provider": "azure", "language": "en-GB", "gender": "male"},
]
"""What ``GET /text-to-speech/voices`` lists (``?provider=`` keeps that provider's)."""
_SECONDS_PER_WORD = 0.4


def transcript_of(audio: bytes) -> str:
    """The emulator's transcript of an uploaded file: its bytes as UTF-8, or a description of binary audio."""
    try:
        return audio.decode("utf-8").strip()
    except UnicodeDecodeError:
        return f"{len(audio)} bytes of audio"


def speech_bytes(text: str) -> bytes:
    """The audio the emulator synthesizes for ``text``."""
    return SPEECH_HEADER + text.encode("utf-8")


def _form(call: Call) -> tuple[dict[str, str], dict[str, bytes]]:
    """The fields and files of a multipart/form-data body."""
    content_type = call.request.headers.get("Content-Type", "")
    if not content_type.startswith("multipart/form-data"):
        raise _Invalid(validation_error(["body"], "Expected a multipart/form-data body.", "model_attributes_type"))
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + call.record.body)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = cast("bytes", part.get_payload(decode=True) or b"")
        if part.get_filename() is not None:
            files[name] = payload
        else:
            fields[name] = payload.decode("utf-8")
    return fields, files


@route("POST", "/ai/audio/transcriptions")
@_validated
async def transcribe(call: Call) -> web.StreamResponse:
    """An ``AudioTranscriptionResponse`` of the uploaded ``file`` (see `transcript_of`) or of ``file_url``."""
    fields, files = _form(call)
    model = fields.get("model")
    if model not in TRANSCRIPTION_MODELS:
        known = ", ".join(TRANSCRIPTION_MODELS)
        return validation_error(["body", "model"], f"Unknown transcription model {model!r}; available: {known}.")
    if "file" in files:
        text = transcript_of(files["file"])
    elif fields.get("file_url"):
        text = f"Audio fetched from {fields['file_url']}"
    else:
        return validation_error(["body", "file"], "Send either file or file_url.", "missing")
    words = text.split()
    answer: dict[str, Any] = {"text": text, "duration": round(len(words) * _SECONDS_PER_WORD, 2)}
    if fields.get("response_format") == "verbose_json":
        answer["segments"] = [
            {"id": 0, "start": 0.0, "end": answer["duration"], "text": text},
        ]
    return json_response(answer)


@route("POST", "/text-to-speech/speech")
@_validated
async def speech(call: Call) -> web.StreamResponse:
    """`speech_bytes` of ``text``: as ``audio/mpeg``, or base64 in JSON for ``output_type="base64_output"``
    (left out, whichever the ``Accept`` header prefers, as the SDK asks)."""
    body = _body(call)
    text = body.get("text")
    if not isinstance(text, str) or not text:
        return validation_error(["body", "text"], "Field required: the text to speak.", "missing")
    output = body.get("output_type")
    if output is None:
        accept = call.request.headers.get("Accept", "")
        output = "base64_output" if accept.startswith("application/json") else "binary_output"
    if output not in ("binary_output", "base64_output"):
        return validation_error(["body", "output_type"], "output_type must be 'binary_output' or 'base64_output'.")
    audio = speech_bytes(text)
    if output == "base64_output":
        return json_response({"base64_audio": base64.b64encode(audio).decode()})
    return web.Response(body=audio, content_type="audio/mpeg")


@route("GET", "/text-to-speech/voices")
async def voices(call: Call) -> web.StreamResponse:
    """`VOICES`, as ``VoicesResponse``; ``?provider=`` keeps one provider's."""
    provider = call.request.query.get("provider")
    return json_response({"voices": [v for v in VOICES if provider in (None, v["provider"])]})
