"""GET /api/v1/thumbnail: a preview's thumbnail, fetched through the network guard.

The UI shows previews with images from this route, never from the origin site: its CSP allows
images from this origin only, and the service must work without reaching any other one from
the browser. See `clipmill.media.thumbnails`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from clipmill.api.deps import ContainerDep, PrincipalDep
from clipmill.api.errors import ErrorEnvelope
from clipmill.media.thumbnails import IMAGE_SIGNATURES

router = APIRouter(prefix="/api/v1", tags=["downloads"])

ThumbnailUrl = Annotated[
    str, Query(min_length=1, max_length=4096, description="The thumbnail URL a preview gave.")
]
_IMAGE = {
    "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_SIGNATURES}
}
_ORIGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorEnvelope, "description": "The origin failed, or the image is too large."},
    504: {"model": ErrorEnvelope, "description": "The origin took longer than allowed."},
}


@router.get(
    "/thumbnail",
    response_class=Response,
    responses={200: _IMAGE, **_ORIGIN_ERRORS},
    summary="A preview's thumbnail, fetched by the server (images only, at most 2 MiB)",
)
async def thumbnail(url: ThumbnailUrl, container: ContainerDep, _owner: PrincipalDep) -> Response:
    image = await run_in_threadpool(container.thumbnails.fetch, url)
    return Response(
        image.content,
        media_type=image.content_type,
        headers={
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
