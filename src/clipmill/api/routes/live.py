"""WS /ws/{job_id} and SSE /api/v1/jobs/{id}/events."""

from __future__ import annotations

import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sse_starlette.sse import EventSourceResponse, ServerSentEvent

from clipmill.api.deps import ContainerDep, PrincipalDep, get_container, get_principal
from clipmill.api.errors import envelope
from clipmill.api.live import job_envelopes
from clipmill.errors import ClipmillError

router = APIRouter()


@router.websocket("/ws/{job_id}")
async def job_socket(websocket: WebSocket, job_id: str) -> None:
    container, owner = get_container(websocket), get_principal(websocket)
    await websocket.accept()
    try:
        async for env in job_envelopes(container, owner, job_id):
            if env is not None:
                await websocket.send_json(env)
        await websocket.close()
    except ClipmillError as exc:
        await websocket.send_json({"type": "error", **envelope(exc.code, exc.message)})
        await websocket.close(code=4404 if exc.status_code == 404 else 4400)
    except WebSocketDisconnect:
        return


@router.get(
    "/api/v1/jobs/{job_id}/events",
    summary="Job updates as Server-Sent Events (same envelopes as the WebSocket)",
    response_class=EventSourceResponse,
)
async def job_events(
    job_id: str, container: ContainerDep, owner: PrincipalDep
) -> EventSourceResponse:
    stream = job_envelopes(container, owner, job_id)
    first = await anext(stream)  # a missing job is a 404 before the stream starts

    async def events():
        if first is not None:
            yield ServerSentEvent(data=json.dumps(first), event=first["type"])
        async for env in stream:
            if env is None:
                yield ServerSentEvent(comment="keep-alive")
            else:
                yield ServerSentEvent(data=json.dumps(env), event=env["type"])

    return EventSourceResponse(events())
