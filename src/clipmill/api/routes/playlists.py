"""Playlists, channels and batches: previews, starts, items, cancel, and ZIPs of their items."""

from __future__ import annotations

import threading
import urllib.parse
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.status import HTTP_202_ACCEPTED

from clipmill.api.deps import MAX_OFFSET, BaseUrlDep, ContainerDep, PrincipalDep
from clipmill.api.details import job_detail
from clipmill.api.disconnect import until_disconnected
from clipmill.api.parents import items_page_out
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.playlists.schemas import (
    BatchDownloadRequest,
    BatchOut,
    ChannelDownloadRequest,
    ChannelInfoOut,
    ChannelOut,
    ItemsPageOut,
    ParentOut,
    PlaylistDownloadRequest,
    PlaylistPreviewOut,
)
from clipmill.playlists.zipstream import ZIP_CONTENT_TYPE, ZipPlan

router = APIRouter(tags=["playlists"])

UrlQuery = Annotated[
    str, Query(min_length=1, max_length=4096, description="A playlist, channel or feed URL.")
]


# -- playlists ---------------------------------------------------------------------------------
@router.get(
    "/api/v1/playlist/preview", response_model=PlaylistPreviewOut, summary="A playlist's entries"
)
async def preview_playlist(
    url: UrlQuery,
    container: ContainerDep,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="Skip entries up to this index.")
    ] = 0,
) -> PlaylistPreviewOut:
    parents = container.parents

    def work(cancel: threading.Event) -> PlaylistPreviewOut:  # stops when the client goes away
        return parents.preview(url, limit=limit, offset=offset, cancel=cancel)

    return await until_disconnected(request, work)


@router.post(
    "/api/v1/playlist/download",
    response_model=ParentOut,
    status_code=HTTP_202_ACCEPTED,
    summary="Download a playlist (all items, or those `items` selects)",
)
def download_playlist(
    request: PlaylistDownloadRequest, container: ContainerDep, owner: PrincipalDep, base: BaseUrlDep
) -> ParentOut:
    job = container.parents.start_playlist(owner, request)
    return ParentOut.model_validate(job_detail(container, owner, job, base))


# -- channels ----------------------------------------------------------------------------------
@router.get(
    "/api/v1/channel/info", response_model=ChannelInfoOut, summary="A channel and its first entries"
)
async def channel_info(
    url: UrlQuery,
    container: ContainerDep,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200)] = 30,
) -> ChannelInfoOut:
    parents = container.parents

    def work(cancel: threading.Event) -> ChannelInfoOut:
        return parents.channel_info(url, limit=limit, cancel=cancel)

    return await until_disconnected(request, work)


@router.post(
    "/api/v1/channel/download",
    response_model=ChannelOut,
    status_code=HTTP_202_ACCEPTED,
    summary="Download a channel's videos, filtered and sorted",
)
def download_channel(
    request: ChannelDownloadRequest, container: ContainerDep, owner: PrincipalDep, base: BaseUrlDep
) -> ChannelOut:
    job, report = container.parents.start_channel(owner, request)
    body = job_detail(container, owner, job, base)
    body["filters"] = report.model_dump(mode="json")
    return ChannelOut.model_validate(body)


# -- batches -----------------------------------------------------------------------------------
@router.post(
    "/api/v1/batch/download",
    response_model=BatchOut,
    status_code=HTTP_202_ACCEPTED,
    summary="Download many URLs as one job (bad URLs are reported, not fatal)",
)
def download_batch(
    request: BatchDownloadRequest, container: ContainerDep, owner: PrincipalDep, base: BaseUrlDep
) -> BatchOut:
    job = container.parents.start_batch(owner, request)
    return BatchOut.model_validate(job_detail(container, owner, job, base))


# -- reading and cancelling parents, by kind -----------------------------------------------------
def _add_parent_routes(kind: JobKind, model: type[ParentOut]) -> None:
    path = f"/api/v1/{kind.value}/{{job_id}}"

    def get_parent(
        job_id: str, container: ContainerDep, owner: PrincipalDep, base: BaseUrlDep
    ) -> ParentOut:
        job = container.parents.parent(owner, job_id, kind)
        return model.model_validate(job_detail(container, owner, job, base))

    def cancel_parent(
        job_id: str, container: ContainerDep, owner: PrincipalDep, base: BaseUrlDep
    ) -> ParentOut:
        job = container.parents.cancel(owner, job_id, kind)
        return model.model_validate(job_detail(container, owner, job, base))

    router.add_api_route(
        path, get_parent, methods=["GET"], response_model=model,
        summary=f"A {kind.value} job with every item", name=f"get_{kind.value}",
    )  # fmt: skip
    router.add_api_route(
        path, cancel_parent, methods=["DELETE"], response_model=model,
        summary=f"Cancel a {kind.value} job and its unfinished items", name=f"cancel_{kind.value}",
    )  # fmt: skip


_add_parent_routes(JobKind.PLAYLIST, ParentOut)
_add_parent_routes(JobKind.CHANNEL, ChannelOut)
_add_parent_routes(JobKind.BATCH, BatchOut)


# -- items and ZIPs of any parent ------------------------------------------------------------------
@router.get(
    "/api/v1/jobs/{job_id}/items", response_model=ItemsPageOut, summary="A parent job's items"
)
def job_items(
    job_id: str,
    container: ContainerDep,
    owner: PrincipalDep,
    base: BaseUrlDep,
    status: Annotated[JobStatus | None, Query(description="Only items in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ItemsPageOut:
    page = container.parents.items(
        owner, job_id, limit=limit, offset=offset, statuses=[status] if status else []
    )
    return items_page_out(container, page, base)


@router.get(
    "/api/v1/jobs/{job_id}/zip",
    response_class=StreamingResponse,
    responses={200: {"content": {ZIP_CONTENT_TYPE: {}}}},
    summary="A ZIP of every finished item, streamed",
)
def job_zip(job_id: str, container: ContainerDep, owner: PrincipalDep) -> StreamingResponse:
    return _zip_response(container, container.archives.plan(owner, job_id))


@router.get(
    "/files/zip/{token}",
    response_class=StreamingResponse,
    responses={200: {"content": {ZIP_CONTENT_TYPE: {}}}},
    summary="A ZIP of a parent's finished items through a signed, expiring link",
)
def signed_zip(token: str, container: ContainerDep) -> StreamingResponse:
    return _zip_response(container, container.archives.plan_for_token(token))


def _zip_response(container: ContainerDep, plan: ZipPlan) -> StreamingResponse:
    archive = container.archives.open(plan)
    headers = {
        "Content-Length": str(len(archive)),
        "Content-Disposition": _attachment(plan.name),
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(iter(archive), media_type=ZIP_CONTENT_TYPE, headers=headers)


def _attachment(name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    fallback = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "'")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(name)}"
