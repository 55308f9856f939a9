"""ClipX-compatible paths: thin aliases over the v1 API with ClipX's request/response shapes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.status import HTTP_202_ACCEPTED

from clipmill.api.deps import BaseUrlDep, ContainerDep, PrincipalDep
from clipmill.api.disconnect import until_disconnected
from clipmill.api.presenters import file_url
from clipmill.api.routes.downloads import downloads
from clipmill.errors import InvalidOption
from clipmill.jobs.enums import JobStatus
from clipmill.media.options import DownloadOptions

router = APIRouter(prefix="/api", tags=["clipx"])

_AUDIO = {"mp3", "m4a", "flac", "wav", "opus", "aac"}
_VIDEO = {"mp4", "mkv", "webm"}


class PreviewIn(BaseModel):
    url: str = Field(..., min_length=1, max_length=4096)


class ClipxDownloadIn(BaseModel):
    url: str = Field(..., min_length=1, max_length=4096)
    format: str = Field("mp4", description="mp4, webm, mkv, or an audio format (mp3, m4a, ...).")
    resolution: str = Field("best", description="best, 2160p ... 360p, or audio.")
    filename: str | None = Field(None, max_length=200)
    cookies_id: str | None = Field(None, max_length=64, description="One of your cookie files.")


class CancelIn(BaseModel):
    downloadId: str


def clipx_options(body: ClipxDownloadIn) -> DownloadOptions:
    fmt = body.format.lower().lstrip(".")
    resolution = body.resolution.lower()
    if resolution.isdigit():
        resolution += "p"
    if resolution in ("highest", "max"):
        resolution = "best"
    values: dict[str, Any] = {"quality": resolution}
    if fmt in _AUDIO:
        values.update(quality="audio", audio_format=fmt)
    elif fmt in _VIDEO:
        values["container"] = fmt
    else:
        raise InvalidOption(f"format: unknown format {body.format!r}.", field="format")
    if body.filename:
        values["filename"] = body.filename
    if body.cookies_id:
        values["cookies_id"] = body.cookies_id
    return DownloadOptions.model_validate(values)


@router.post("/preview", summary="ClipX: preview a URL")
async def preview(body: PreviewIn, container: ContainerDep, request: Request) -> dict[str, Any]:
    service, url = downloads(container), body.url
    info = await until_disconnected(request, lambda cancel: service.preview(url, cancel=cancel))
    return {
        "status": "success",
        "data": {
            "title": info.title,
            "thumbnail": info.thumbnail,
            "duration": info.duration,
            "formats": [f.model_dump() for f in info.formats],
        },
    }


@router.post("/download", status_code=HTTP_202_ACCEPTED, summary="ClipX: start a download")
def start(body: ClipxDownloadIn, container: ContainerDep, owner: PrincipalDep) -> dict[str, Any]:
    service = downloads(container)
    service.check_url(body.url)
    job = service.start(owner, body.url, clipx_options(body))
    status = "processing" if job.status is JobStatus.PROCESSING else "queued"
    return {"status": status, "downloadId": job.id}


@router.get("/download/status/{download_id}", summary="ClipX: a download's status")
def status(
    download_id: str, container: ContainerDep, owner: PrincipalDep, base: BaseUrlDep
) -> dict[str, Any]:
    job = container.jobs.get(owner, download_id)
    body: dict[str, Any] = {
        "status": "queued" if job.status is JobStatus.PENDING else job.status.value,
        "progress": round(job.progress, 2),
        "speed": (job.progress_info or {}).get("speed"),
    }
    if job.status is JobStatus.COMPLETED:
        files = container.jobs.files(owner, job.id)
        media = next(
            (f for f in files if f.role in ("media", "audio")), files[0] if files else None
        )
        if media is not None:
            body["fileUrl"] = file_url(container, media, base)
    if job.error_message or job.message:
        body["message"] = job.error_message or job.message
    return body


@router.post("/download/cancel", summary="ClipX: cancel a download")
def cancel(body: CancelIn, container: ContainerDep, owner: PrincipalDep) -> dict[str, str]:
    container.jobs.cancel(owner, body.downloadId)
    return {"status": "cancelled"}
