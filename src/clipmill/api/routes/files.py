"""Signed file links: GET /files/{token}, with Range, content type and a UTF-8 download name."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

from clipmill.api.deps import ContainerDep
from clipmill.errors import FileExpired, NotFound
from clipmill.storage.disposition import content_disposition

router = APIRouter(tags=["files"])


@router.get("/files/{token}", summary="Download a file through a signed, expiring link")
def download_file(token: str, container: ContainerDep) -> Response:
    file_id = container.signer.verify(token)
    file = container.lifecycle.file_by_id(file_id)
    if file is None:
        raise NotFound("No such file.")
    if file.expired:
        raise FileExpired("This file was deleted after the retention period.")
    path = container.storage.local_path(file.key)
    if path is None:
        direct = container.storage.presigned_url(file.key, download_name=file.name, ttl=60)
        if direct is None:
            raise FileExpired("This file is no longer stored.")
        return RedirectResponse(direct)
    return FileResponse(
        path,
        media_type=file.content_type,
        headers={"Content-Disposition": content_disposition(file.name)},
    )
