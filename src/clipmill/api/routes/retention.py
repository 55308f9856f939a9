"""``POST /api/v1/jobs/{id}/keep``: keep a finished job's files longer than the retention."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from clipmill.api.deps import BaseUrlDep, ContainerDep, PrincipalDep
from clipmill.api.details import job_detail
from clipmill.jobs.retention import KeepIn

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


@router.post(
    "/{job_id}/keep",
    summary="Keep a job's files longer (up to the server's maximum)",
    description="Moves the date the job's files (a parent's: its items' too) are deleted: "
    "`days` more than now planned (default: one retention period), or `until` a date; "
    "never past the operator's `retention_max_seconds` after the job was made. Answers the "
    "job as `GET` does; its `retention` says the new date and whether it can move again.",
)
def keep_job(
    job_id: str,
    container: ContainerDep,
    owner: PrincipalDep,
    base: BaseUrlDep,
    body: Annotated[KeepIn | None, Body()] = None,
) -> dict[str, Any]:
    job = container.retention.keep(owner, job_id, body or KeepIn())
    return job_detail(container, owner, job, base)
