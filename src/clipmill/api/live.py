"""Live job updates as envelopes, shared by the WebSocket and the SSE endpoints.

{"type": "initial_status" | "job_update" | "job_completed" | "job_failed",
 "data": {"job_id", "status", "stage", "progress", "message", "timestamp", ...}}
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool

from clipmill.accounts.principal import Principal
from clipmill.bootstrap import Container
from clipmill.events.bus import JobEventMessage
from clipmill.jobs.enums import JobStatus
from clipmill.jobs.models import utcnow
from clipmill.jobs.schemas import JobRecord

KEEPALIVE_SECONDS = 15.0


def _type_for(status: str) -> str:
    if status == JobStatus.COMPLETED.value:
        return "job_completed"
    if status == JobStatus.FAILED.value:
        return "job_failed"
    return "job_update"


def _initial(job: JobRecord) -> dict[str, Any]:
    data: dict[str, Any] = {
        "job_id": job.id,
        "status": job.status.value,
        "stage": job.stage.value,
        "progress": job.progress,
        "message": job.message,
        "timestamp": utcnow().isoformat(),
        "title": job.title,
        **(job.progress_info or {}),
    }
    if job.error_code:
        data["error"] = {"code": job.error_code, "message": job.error_message}
    return {"type": "initial_status", "data": data}


def _update(msg: JobEventMessage) -> dict[str, Any]:
    data: dict[str, Any] = {
        "job_id": msg.job_id,
        "status": msg.status,
        "stage": msg.stage,
        "progress": msg.progress,
        "message": msg.message,
        "timestamp": msg.timestamp.isoformat(),
        "event": msg.type,
        **msg.data,
    }
    return {"type": _type_for(msg.status), "data": data}


async def job_envelopes(
    container: Container, owner: Principal, job_id: str
) -> AsyncIterator[dict[str, Any] | None]:
    """Yield the initial status, then every update until the job ends; None is a keep-alive.

    Subscribes before reading the row, so no event between the two is lost.
    """
    subscription = container.bus.subscribe(job_id)
    try:
        job = await run_in_threadpool(container.jobs.get, owner, job_id)
        yield _initial(job)
        if job.status.is_terminal:
            return
        while True:
            msg = await subscription.get(timeout=KEEPALIVE_SECONDS)
            if msg is None:
                yield None
                continue
            yield _update(msg)
            if JobStatus(msg.status).is_terminal and msg.type == "status":
                return
    finally:
        subscription.close()
