"""Emulated assistants: create, chat, versions, canary deploys, and running their tests.

An assistant is stored with its versions (``v1`` at creation, one more per update); the assistant is
its promoted version. Chat replies are `expected_reply` of the message. A test run is ``pending`` when
triggered and ``completed`` (each rubric item ``pass``) once read back.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, cast

import msgspec
from aiohttp import web

from . import _handlers
from ._fixtures import DEFAULT_CHAT_MODEL, expected_reply, reply_pieces
from ._handlers import _body, _validated, route  # pyright: ignore[reportPrivateUsage]
from ._records import Call
from ._responses import json_response, telnyx_error, validation_error
from ._stream import send_events

__all__: list[str] = []

CREATED = "2025-04-15T13:07:28.764Z"
_REQUIRED = ("name", "instructions")  # contract v2: ``model`` is optional
_STRINGS = ("model",)


def _strings(body: dict[str, Any], names: tuple[str, ...], *, required: bool) -> web.Response | None:
    for name in names:
        value = body.get(name)
        if (value is None and required) or (value is not None and not isinstance(value, str)):
            return validation_error(["body", name], f"{name} must be a string.", "string_type")
    return None


def _stored(call: Call) -> dict[str, Any] | web.Response:
    assistant_id = call.params["assistant_id"]
    stored = call.state.assistants.get(assistant_id)
    return stored if stored is not None else telnyx_error(404, f"No assistant with id {assistant_id!r}.")


def _main(stored: dict[str, Any]) -> dict[str, Any]:
    """The assistant as the API shows it: its promoted version, under the assistant's id."""
    return {**stored["versions"][stored["main"]], "id": stored["id"]}


@route("GET", "/ai/assistants")
async def list_assistants(call: Call) -> web.StreamResponse:
    """Every stored assistant, as ``AssistantsListData``."""
    return json_response({"data": [_main(s) for s in call.state.assistants.values()]})


@route("POST", "/ai/assistants")
@_validated
async def create_assistant(call: Call) -> web.StreamResponse:
    """Store an assistant (``name`` and ``instructions`` required) as its version ``v1``."""
    body = _body(call)
    invalid = _strings(body, _REQUIRED, required=True) or _strings(body, _STRINGS, required=False)
    if invalid is not None:
        return invalid
    assistant_id = "assistant-" + str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"telnyx-ai-emulator/assistants/{len(call.state.assistants)}")
    )
    version = {"model": DEFAULT_CHAT_MODEL, **body, "id": "v1", "created_at": CREATED}  # the server picks a model
    call.state.assistants[assistant_id] = {"id": assistant_id, "versions": {"v1": version}, "main": "v1"}
    return json_response(_main(call.state.assistants[assistant_id]))


@route("GET", "/ai/assistants/{assistant_id}")
async def retrieve_assistant(call: Call) -> web.StreamResponse:
    """The assistant's promoted version, or a 404."""
    stored = _stored(call)
    return stored if isinstance(stored, web.Response) else json_response(_main(stored))


@route("POST", "/ai/assistants/{assistant_id}")
@_validated
async def update_assistant(call: Call) -> web.StreamResponse:
    """Save the changes as a new version, promoted unless ``promote_to_main`` is false."""
    stored = _stored(call)
    if isinstance(stored, web.Response):
        return stored
    body = _body(call)
    invalid = _strings(body, _REQUIRED + _STRINGS, required=False)
    if invalid is not None:
        return invalid
    promote = body.pop("promote_to_main", True)
    version_id = f"v{len(stored['versions']) + 1}"
    stored["versions"][version_id] = {**_main(stored), **body, "id": version_id}
    if promote:
        stored["main"] = version_id
    return json_response(_main(stored))


@route("DELETE", "/ai/assistants/{assistant_id}")
async def delete_assistant(call: Call) -> web.StreamResponse:
    """Forget the assistant: ``AssistantDeletedResponse``."""
    stored = _stored(call)
    if isinstance(stored, web.Response):
        return stored
    del call.state.assistants[stored["id"]]
    return json_response({"id": stored["id"], "object": "assistant", "deleted": True})


@route("POST", "/ai/assistants/{assistant_id}/chat")
@_validated
async def chat(call: Call) -> web.StreamResponse:
    """``{"content": expected_reply([{"role": "user", "content": content}])}``; with ``stream: true``, an
    ``event: delta`` per word (``{"content": piece}``), then ``event: done`` with the whole reply."""
    stored = _stored(call)
    if isinstance(stored, web.Response):
        return stored
    body = _body(call)
    invalid = _strings(body, ("content", "conversation_id"), required=True)
    if invalid is not None:
        return invalid
    reply = call.state.stream.reply or expected_reply([{"role": "user", "content": body["content"]}])
    if not call.streaming:
        return json_response({"content": reply})
    pieces = reply_pieces(reply, call.state.stream.chunks)
    payloads = [msgspec.json.encode({"content": piece}) for piece in pieces]
    payloads.append(msgspec.json.encode({"content": reply, "whatsapp_template": None}))
    names = ["delta"] * len(pieces) + ["done"]
    return await send_events(call, payloads, call.state.stream, names=names, done=False, protocol="assistant_chat")


@route("POST", "/ai/assistants/{assistant_id}/chat/sms")
@_validated
async def send_sms(call: Call) -> web.StreamResponse:
    """Record an SMS as sent (`EmulatorState.sent_messages`): ``{"conversation_id": ...}``."""
    stored = _stored(call)
    if isinstance(stored, web.Response):
        return stored
    body = _body(call)
    invalid = _strings(body, ("from", "to"), required=True) or _strings(body, ("text",), required=False)
    if invalid is not None:
        return invalid
    conversation_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"telnyx-ai-emulator/sms/{len(call.state.sent_messages)}"))
    call.state.sent_messages.append({**body, "assistant_id": stored["id"], "conversation_id": conversation_id})
    return json_response({"conversation_id": conversation_id})


# -- versions and canary deploys ---------------------------------------------------------------


@route("GET", "/ai/assistants/{assistant_id}/versions")
async def list_versions(call: Call) -> web.StreamResponse:
    """Every version, oldest first, as ``AssistantsListData`` (each ``id`` is the version's)."""
    stored = _stored(call)
    return stored if isinstance(stored, web.Response) else json_response({"data": list(stored["versions"].values())})


def _version(call: Call) -> tuple[dict[str, Any], str] | web.Response:
    stored = _stored(call)
    if isinstance(stored, web.Response):
        return stored
    version_id = call.params["version_id"]
    if version_id not in stored["versions"]:
        return telnyx_error(404, f"Assistant {stored['id']!r} has no version {version_id!r}.")
    return stored, version_id


@route("GET", "/ai/assistants/{assistant_id}/versions/{version_id}")
async def retrieve_version(call: Call) -> web.StreamResponse:
    """One version, or a 404."""
    found = _version(call)
    if isinstance(found, web.Response):
        return found
    stored, version_id = found
    return json_response(stored["versions"][version_id])


@route("POST", "/ai/assistants/{assistant_id}/versions/{version_id}/promote")
async def promote_version(call: Call) -> web.StreamResponse:
    """Make the version the assistant's main one; the assistant as it now is."""
    found = _version(call)
    if isinstance(found, web.Response):
        return found
    stored, version_id = found
    stored["main"] = version_id
    return json_response(_main(stored))


def _canary_problem(rules: list[dict[str, Any]], versions: Mapping[str, Any]) -> str | None:
    """What is wrong with a canary deploy's ``rules``, or None: each serves known versions, a rollout's
    weights add up to at most 100 (the rest goes to the main version), a match clause lists values."""
    for n, rule in enumerate(rules):
        serve = rule.get("serve")
        if not isinstance(serve, dict):
            return f"Rule {n} needs `serve`: a version_id or a rollout."
        served = cast("dict[str, Any]", serve)
        rollout = cast("list[dict[str, Any]]", served.get("rollout") or [])
        named = [slot.get("version_id") for slot in rollout] + (
            [served["version_id"]] if "version_id" in served else []
        )
        if not named:
            return f"Rule {n} serves nothing: give serve.version_id or serve.rollout."
        unknown = [v for v in named if v not in versions]
        if unknown:
            return f"Rule {n} serves unknown versions: {unknown}."
        if sum(float(slot.get("weight", 0)) for slot in rollout) > 100:
            return f"Rule {n}: the rollout's weights add up to more than 100."
        for clause in cast("list[dict[str, Any]]", rule.get("match") or []):
            if clause.get("operator") not in ("in", "not_in", "starts_with") or not clause.get("values"):
                return f"Rule {n}: each match clause needs an operator (in, not_in, starts_with) and values."
    return None


def _canary(call: Call, stored: dict[str, Any]) -> web.Response:
    """Store the ``rules`` of the body (contract v2: rules replaced v1's ``versions`` split)."""
    given = _body(call).get("rules", [])
    if not isinstance(given, list) or not all(isinstance(r, dict) for r in cast("list[object]", given)):
        return validation_error(["body", "rules"], "`rules` must be a list of rules.", "list_type")
    rules = cast("list[dict[str, Any]]", given)
    problem = _canary_problem(rules, stored["versions"])
    if problem is not None:
        return validation_error(["body", "rules"], problem)
    stored["canary"] = {"assistant_id": stored["id"], "rules": rules, "created_at": CREATED, "updated_at": CREATED}
    return json_response(stored["canary"])


@route("POST", "/ai/assistants/{assistant_id}/canary-deploys")
@_validated
async def create_canary(call: Call) -> web.StreamResponse:
    """Split traffic between versions: ``CanaryDeployResponse``."""
    stored = _stored(call)
    return stored if isinstance(stored, web.Response) else _canary(call, stored)


@route("PUT", "/ai/assistants/{assistant_id}/canary-deploys")
@_validated
async def update_canary(call: Call) -> web.StreamResponse:
    """Replace the split."""
    stored = _stored(call)
    return stored if isinstance(stored, web.Response) else _canary(call, stored)


@route("GET", "/ai/assistants/{assistant_id}/canary-deploys")
async def retrieve_canary(call: Call) -> web.StreamResponse:
    """The split, or a 404 when there is none."""
    stored = _stored(call)
    if isinstance(stored, web.Response):
        return stored
    canary = stored.get("canary")
    return json_response(canary) if canary else telnyx_error(404, f"Assistant {stored['id']!r} has no canary deploy.")


@route("DELETE", "/ai/assistants/{assistant_id}/canary-deploys")
async def delete_canary(call: Call) -> web.StreamResponse:
    """End the split: 204."""
    stored = _stored(call)
    if isinstance(stored, web.Response):
        return stored
    stored.pop("canary", None)
    return web.Response(status=204)


# -- tests and their runs ----------------------------------------------------------------------

# Registered again, after the ``{assistant_id}`` routes above (the newest route wins): "tests" is no assistant.
route("GET", "/ai/assistants/tests")(_handlers.list_assistant_tests)


@route("POST", "/ai/assistants/tests")
@_validated
async def create_test(call: Call) -> web.StreamResponse:
    """Store a test (201, ``AssistantTestResponse``); ``GET /ai/assistants/tests`` then lists it."""
    body = _body(call)
    invalid = _strings(body, ("name", "destination", "instructions"), required=True)
    if invalid is not None:
        return invalid
    rubric = body.get("rubric")
    if not isinstance(rubric, list) or not rubric:
        return validation_error(["body", "rubric"], "Field required: a list of {name, criteria}.", "missing")
    number = len(call.state.assistant_tests) + 1
    test = {
        "telnyx_conversation_channel": "web_chat",
        "test_suite": None,
        "description": None,
        "max_duration_seconds": None,
        **body,
        "test_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"telnyx-ai-emulator/created-tests/{number}")),
        "created_at": CREATED,
    }
    call.state.assistant_tests.append(test)
    return json_response(test, status=201)


def _test(call: Call) -> dict[str, Any] | web.Response:
    test_id = call.params["test_id"]
    found = next((t for t in call.state.assistant_tests if t["test_id"] == test_id), None)
    return found if found is not None else telnyx_error(404, f"No assistant test with id {test_id!r}.")


@route("GET", "/ai/assistants/tests/{test_id}")
async def retrieve_test(call: Call) -> web.StreamResponse:
    """One test, or a 404."""
    test = _test(call)
    return test if isinstance(test, web.Response) else json_response(test)


@route("POST", "/ai/assistants/tests/{test_id}/runs")
async def trigger_run(call: Call) -> web.StreamResponse:
    """Start a run (201, ``TestRunResponse`` with status ``pending``)."""
    test = _test(call)
    if isinstance(test, web.Response):
        return test
    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"telnyx-ai-emulator/runs/{len(call.state.test_runs)}"))
    run = {
        "run_id": run_id,
        "test_id": test["test_id"],
        "status": "pending",
        "triggered_by": "api",
        "created_at": CREATED,
    }
    call.state.test_runs[run_id] = run
    return json_response(run, status=201)


@route("GET", "/ai/assistants/tests/{test_id}/runs/{run_id}")
async def retrieve_run(call: Call) -> web.StreamResponse:
    """The run, ``completed`` with every rubric item ``pass`` (a 404 for a run of another test)."""
    test = _test(call)
    if isinstance(test, web.Response):
        return test
    run = call.state.test_runs.get(call.params["run_id"])
    if run is None or run["test_id"] != test["test_id"]:
        return telnyx_error(404, f"No run {call.params['run_id']!r} of test {test['test_id']!r}.")
    run.update(
        status="completed",
        completed_at=CREATED,
        detail_status=[{"name": item["name"], "status": "pass"} for item in test["rubric"]],
    )
    return json_response(run)
