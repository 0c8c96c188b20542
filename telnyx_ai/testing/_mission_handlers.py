"""Emulated missions and their runs: enough to create a mission, start runs and read them back.

Starting a run is an action with an effect (`EmulatorState.mission_runs` gains one), which the
idempotency tests count: a retried start with the same ``Idempotency-Key`` must not start a second run.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from ._handlers import _body, _validated, route  # pyright: ignore[reportPrivateUsage]
from ._records import Call
from ._responses import json_response, telnyx_error, validation_error

__all__: list[str] = []

STARTED = "2025-04-15T13:07:28.764Z"


def _new_id(kind: str, count: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"telnyx-ai-emulator/{kind}/{count}"))


def _mission(call: Call) -> dict[str, Any] | web.Response:
    mission_id = call.params["mission_id"]
    mission = call.state.missions.get(mission_id)
    return mission if mission is not None else telnyx_error(404, f"No mission with id {mission_id!r}.")


@route("POST", "/ai/missions")
@_validated
async def create_mission(call: Call) -> web.StreamResponse:
    """Store a mission (``name`` required): 201 and ``{"data": MissionData}``."""
    body = _body(call)
    if not isinstance(body.get("name"), str) or not body["name"]:
        return validation_error(["body", "name"], "Field required: the mission's name.", "missing")
    mission_id = _new_id("missions", len(call.state.missions))
    mission = {
        "execution_mode": "external",
        **body,
        "mission_id": mission_id,
        "created_at": STARTED,
        "updated_at": STARTED,
    }
    call.state.missions[mission_id] = mission
    return json_response({"data": mission}, status=201)


@route("GET", "/ai/missions/{mission_id}")
async def retrieve_mission(call: Call) -> web.StreamResponse:
    """``{"data": MissionData}``, or a 404."""
    mission = _mission(call)
    return mission if isinstance(mission, web.Response) else json_response({"data": mission})


@route("POST", "/ai/missions/{mission_id}/runs")
@_validated
async def start_run(call: Call) -> web.StreamResponse:
    """Start a run (`EmulatorState.mission_runs` gains it): 201 and ``{"data": MissionRunData}``."""
    mission = _mission(call)
    if isinstance(mission, web.Response):
        return mission
    body = _body(call)
    run_id = _new_id("mission-runs", len(call.state.mission_runs))
    run = {
        **{k: v for k, v in body.items() if k in ("input", "metadata")},
        "run_id": run_id,
        "mission_id": mission["mission_id"],
        "status": "running",
        "started_at": STARTED,
        "updated_at": STARTED,
    }
    call.state.mission_runs[run_id] = run
    return json_response({"data": run}, status=201)


@route("GET", "/ai/missions/{mission_id}/runs/{run_id}")
async def retrieve_run(call: Call) -> web.StreamResponse:
    """``{"data": MissionRunData}``, or a 404."""
    run = call.state.mission_runs.get(call.params["run_id"])
    if run is None or run["mission_id"] != call.params["mission_id"]:
        return telnyx_error(404, f"Mission {call.params['mission_id']!r} has no run {call.params['run_id']!r}.")
    return json_response({"data": run})


@route("GET", "/ai/missions/{mission_id}/runs")
async def list_runs(call: Call) -> web.StreamResponse:
    """The mission's runs, oldest first, on one page."""
    mission = _mission(call)
    if isinstance(mission, web.Response):
        return mission
    runs = [r for r in call.state.mission_runs.values() if r["mission_id"] == mission["mission_id"]]
    meta = {"page_number": 1, "page_size": max(len(runs), 1), "total_pages": 1, "total_results": len(runs)}
    return json_response({"data": runs, "meta": meta})
