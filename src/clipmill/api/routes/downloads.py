"""Single downloads: preview, formats, start, status, logs, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.status import HTTP_202_ACCEPTED

from clipmill.api.deps import BaseUrlDep, ContainerDep, PrincipalDep
from clipmill.api.disconnect import until_disconnected
from clipmill.api.presenters import job_out
from clipmill.api.routes.jobs import job_logs
from clipmill.downloads.schemas import DownloadRequest, FormatsOut, MetadataOut
from clipmill.downloads.service import DownloadService
from clipmill.errors import NotFound, UnsupportedUrl
from clipmill.jobs.enums import JobKind
from clipmill.jobs.views import JobOut, LogsOut

router = APIRouter(prefix="/api/v1", tags=["downloads"])

UrlQuery = Annotated[str, Query(min_length=1, max_length=4096, description="A page or media URL.")]


def downloads(container: ContainerDep) -> DownloadService:
    return container.downloads


@router.get("/metadata", response_model=MetadataOut, summary="What a URL is, without downloading")
async def metadata(
    url: UrlQuery,
    container: ContainerDep,
    request: Request,
    playlists: Annotated[
        bool,
        Query(description="Answer a playlist link with is_playlist=true instead of 422."),
    ] = False,
) -> MetadataOut:
    # the probe stops when the client goes away (and after probe_timeout in any case)
    service = downloads(container)
    try:
        return await until_disconnected(request, lambda cancel: service.preview(url, cancel=cancel))
    except UnsupportedUrl as exc:
        # the paste bar asks about any link: a playlist is an answer there, not an error
        if playlists and exc.details.get("playlist"):
            return MetadataOut(webpage_url=url, is_playlist=True)
        raise


@router.get("/formats", response_model=FormatsOut, summary="The formats a URL offers")
async def formats(url: UrlQuery, container: ContainerDep, request: Request) -> FormatsOut:
    service = downloads(container)
    info = await until_disconnected(request, lambda cancel: service.preview(url, cancel=cancel))
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
