"""Single downloads: preview, formats, start, status, logs, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.status import HTTP_202_ACCEPTED

from clipmill.api.deps import BaseUrlDep, ContainerDep, PrincipalDep
from clipmill.api.presenters import job_out
from clipmill.api.routes.jobs import job_logs
from clipmill.api.schemas import JobOut, LogsOut
from clipmill.downloads.schemas import DownloadRequest, FormatsOut, MetadataOut
from clipmill.downloads.service import DownloadService
from clipmill.errors import NotFound
from clipmill.jobs.enums import JobKind

router = APIRouter(prefix="/api/v1", tags=["downloads"])

UrlQuery = Annotated[str, Query(min_length=1, max_length=4096, description="A page or media URL.")]


def downloads(container: ContainerDep) -> DownloadService:
    return container.extras["downloads"]


@router.get("/metadata", response_model=MetadataOut, summary="What a URL is, without downloading")
def metadata(url: UrlQuery, container: ContainerDep) -> MetadataOut:
    return downloads(container).preview(url)


@router.get("/formats", response_model=FormatsOut, summary="The formats a URL offers")
def formats(url: UrlQuery, container: ContainerDep) -> FormatsOut:
    info = downloads(container).preview(url)
    return FormatsOut(url=url, title=info.title, formats=info.formats)


@router.post(
    "/download", response_model=JobOut, status_code=HTTP_202_ACCEPTED, summary="Start a download"
)
def start_download(
    request: DownloadRequest, container: ContainerDep, owner: PrincipalDep, base: BaseUrlDep
) -> JobOut:
    job = downloads(container).submit(owner, request)
    return job_out(container, job, base, files=[])


def _download_job(container: ContainerDep, owner: PrincipalDep, job_id: str):
    job = container.jobs.get(owner, job_id)
    if job.kind is not JobKind.DOWNLOAD:
        raise NotFound(f"No download {job_id}.", resource="download")
    return job


@router.get("/download/{job_id}", response_model=JobOut, summary="A download's status and files")
def get_download(
    job_id: str, container: ContainerDep, owner: PrincipalDep, base: BaseUrlDep
) -> JobOut:
    return job_out(container, _download_job(container, owner, job_id), base)


@router.get("/download/{job_id}/logs", response_model=LogsOut, summary="A download's log lines")
def download_logs(job_id: str, container: ContainerDep, owner: PrincipalDep) -> LogsOut:
    _download_job(container, owner, job_id)
    return job_logs(job_id, container, owner)


@router.delete("/download/{job_id}", response_model=JobOut, summary="Cancel a download")
def cancel_download(
    job_id: str, container: ContainerDep, owner: PrincipalDep, base: BaseUrlDep
) -> JobOut:
    _download_job(container, owner, job_id)
    return job_out(container, container.jobs.cancel(owner, job_id), base)
