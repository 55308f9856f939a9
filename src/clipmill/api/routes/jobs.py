"""Every job, whatever its kind: list, read, logs, cancel, retry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from clipmill.api.deps import MAX_OFFSET, BaseUrlDep, ContainerDep, PrincipalDep
from clipmill.api.details import job_detail
from clipmill.api.parents import JobListItemOut, job_list_out
from clipmill.errors import InvalidOption
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.jobs.views import LogLineOut, LogsOut

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])

#: job_type names of the shorts API, mapped onto kinds
JOB_TYPES = {
    "full_processing": JobKind.SHORTS,
    "transcribe_only": JobKind.TRANSCRIBE,
    "download_only": JobKind.DOWNLOAD,
}


def parse_kind(value: str) -> JobKind:
    if value in JOB_TYPES:
        return JOB_TYPES[value]
    try:
        return JobKind(value)
    except ValueError:
        names = sorted([k.value for k in JobKind] + list(JOB_TYPES))
        raise InvalidOption(f"Unknown job type {value!r}; one of {', '.join(names)}.") from None


class CancelIn(BaseModel):
    reason: str | None = Field(None, max_length=500)


class RetryIn(BaseModel):
    force: bool = Field(False, description="Run every stage again instead of resuming.")


def parse_kinds(value: str) -> list[JobKind]:
    """``download,playlist``: several kinds at once (the download page lists four)."""
    return [parse_kind(part.strip()) for part in value.split(",") if part.strip()]


class JobListPage(BaseModel):
    items: list[JobListItemOut]
    total: int
    limit: int
    offset: int
    has_more: bool


@router.get("", response_model=JobListPage, summary="List your jobs")
def list_jobs(
    container: ContainerDep,
    owner: PrincipalDep,
    base: BaseUrlDep,
    status: Annotated[JobStatus | None, Query(description="Filter by status.")] = None,
    status_filter: Annotated[JobStatus | None, Query(description="Alias of status.")] = None,
    type: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Kind (download, playlist, ...) or job_type; several comma-separated.",
        ),
    ] = None,
    job_type: Annotated[str | None, Query(description="Alias of type.")] = None,
    parent_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only this parent's items.")
    ] = None,
    include_children: Annotated[bool, Query(description="Also list items of parents.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> JobListPage:
    wanted_status = status or status_filter
    wanted_type = type or job_type
    page = container.jobs.list_jobs(
        owner,
        statuses=[wanted_status] if wanted_status else [],
        kinds=parse_kinds(wanted_type) if wanted_type else [],
        parent_id=parent_id,
        top_level=not include_children and parent_id is None,
        limit=limit,
        offset=offset,
    )
    return JobListPage(
        items=job_list_out(container, owner, page.items, base),
        total=page.total,
        limit=limit,
        offset=offset,
        has_more=offset + len(page.items) < page.total,
    )


@router.get("/{job_id}", summary="One job with its progress, files, error and results")
def get_job(
    job_id: str, container: ContainerDep, owner: PrincipalDep, base: BaseUrlDep
) -> dict[str, Any]:
    return job_detail(container, owner, container.jobs.get(owner, job_id), base)


@router.get("/{job_id}/logs", response_model=LogsOut, summary="The job's log lines")
def job_logs(
    job_id: str,
    container: ContainerDep,
    owner: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> LogsOut:
    lines = container.jobs.logs(owner, job_id, limit)
    return LogsOut(
        job_id=job_id,
        lines=[
            LogLineOut(time=line.created_at, level=line.level, line=line.line) for line in lines
        ],
    )


@router.post("/{job_id}/cancel", summary="Cancel a job (and its unfinished items)")
def cancel_job(
    job_id: str,
    container: ContainerDep,
    owner: PrincipalDep,
    base: BaseUrlDep,
    body: Annotated[CancelIn | None, Body()] = None,
) -> dict[str, Any]:
    job = container.jobs.cancel(owner, job_id, body.reason if body else None)
    return job_detail(container, owner, job, base)


@router.post("/{job_id}/retry", summary="Retry a failed or cancelled job")
def retry_job(
    job_id: str,
    container: ContainerDep,
    owner: PrincipalDep,
    base: BaseUrlDep,
    body: Annotated[RetryIn | None, Body()] = None,
) -> dict[str, Any]:
    job = container.jobs.retry(owner, job_id, force=bool(body and body.force))
    return job_detail(container, owner, job, base)
