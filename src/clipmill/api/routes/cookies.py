"""The cookie vault: upload a cookies.txt, list yours, delete one (see docs/cookies.md).

An upload is either ``multipart/form-data`` (a ``file`` part and an optional ``name`` field) or
the file itself as a ``text/plain`` body (``?name=`` names it). Either way the body is read up
to the size limit and no further, before anything parses it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.status import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from clipmill.api.deps import ContainerDep, PrincipalDep
from clipmill.cookies.netscape import MAX_COOKIE_FILE_BYTES, invalid
from clipmill.cookies.schemas import CookieFileList, CookieFileOut
from clipmill.errors import InvalidRequest, PayloadTooLarge

router = APIRouter(prefix="/api/v1/auth/cookies", tags=["cookies"])

MAX_BODY_BYTES = MAX_COOKIE_FILE_BYTES + 64 * 1024
"""The file plus room for multipart headers and the name field."""

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary",
                             "description": "A Netscape cookies.txt (at most 1 MiB)."},
                    "name": {"type": "string", "maxLength": 200},
                },
            }},
            "text/plain": {"schema": {"type": "string", "description": "The cookies.txt."}},
        },
    }
}  # fmt: skip


@router.post(
    "", response_model=CookieFileOut, status_code=HTTP_201_CREATED,
    summary="Store a cookies.txt (encrypted); answers its name and domains, never a value",
    openapi_extra=_UPLOAD_BODY,
)  # fmt: skip
async def upload_cookies(
    request: Request, container: ContainerDep, owner: PrincipalDep, name: str | None = None
) -> CookieFileOut:
    body = await _read_capped(request)
    content_type, _params = parse_options_header(request.headers.get("content-type", ""))
    if content_type == b"multipart/form-data":
        data, form_name = await _from_multipart(request.headers, body)
        name = form_name or name
    elif content_type in (b"text/plain", b"application/octet-stream", b""):
        data = body
    else:
        raise InvalidRequest(
            "Send the cookies.txt as multipart/form-data (field 'file') or as text/plain.",
            code="invalid_cookies",
        )
    return await run_in_threadpool(container.cookies.add, owner, data, name)


@router.get("", response_model=CookieFileList, summary="Your cookie files")
def list_cookies(container: ContainerDep, owner: PrincipalDep) -> CookieFileList:
    return CookieFileList(items=container.cookies.list_files(owner))


@router.delete(
    "/{cookie_id}", status_code=HTTP_204_NO_CONTENT, response_class=Response,
    summary="Delete one of your cookie files (jobs that name it afterwards get 404)",
)  # fmt: skip
def delete_cookies(cookie_id: str, container: ContainerDep, owner: PrincipalDep) -> Response:
    container.cookies.delete(owner, cookie_id)
    return Response(status_code=HTTP_204_NO_CONTENT)


async def _read_capped(request: Request) -> bytes:
    """The body, refused (413) as soon as it outgrows `MAX_BODY_BYTES`."""
    too_large = PayloadTooLarge(
        f"A cookie file may be at most {MAX_COOKIE_FILE_BYTES} bytes.",
        limit=MAX_COOKIE_FILE_BYTES,
    )
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_large
    return bytes(body)


async def _from_multipart(headers: Headers, body: bytes) -> tuple[bytes, str | None]:
    """(file bytes, name field) of an already size-capped multipart body."""

    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(headers, stream(), max_files=1, max_fields=4)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidRequest(
            f"Malformed multipart body: {exc.message}", code="invalid_cookies"
        ) from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise invalid("send the file in the multipart field 'file'")
        data = await upload.read()
        name = form.get("name")
        chosen = name if isinstance(name, str) and name.strip() else upload.filename
        return data, chosen
    finally:
        await form.close()
