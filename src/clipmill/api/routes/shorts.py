"""The shorts jobs API: start a job from a URL or an upload; shorts fields in the job detail.

Listing, reading, cancelling and retrying are the generic routes in ``jobs.py``; this module
adds ``POST /api/v1/jobs`` and ``POST /api/v1/jobs/upload``; the ``video_title``/``transcript``/
``generated_clips``... fields of ``GET /api/v1/jobs/{id}`` come from `clipmill.api.shorts_view`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.status import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from clipmill.api.deps import BaseUrlDep, ContainerDep, PrincipalDep
from clipmill.api.presenters import file_url
from clipmill.api.shorts_view import (
    TranscriptWordOut,
    TranscriptWordsOut,
    clip_out,
    transcript_words,
)
from clipmill.bootstrap import Container
from clipmill.errors import InvalidRequest
from clipmill.shorts.clip_edits import ClipAdd, ClipChange, ClipEdit
from clipmill.shorts.corrections import WordFix
from clipmill.shorts.job_schemas import JobCreate, JobSpec, JobStatusResponse
from clipmill.shorts.job_service import StagedUpload

router = APIRouter(prefix="/api/v1/jobs", tags=["shorts"])

MAX_FIELD_BYTES = 64 * 1024
_UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary", "description": "Video or audio."},
                "job_type": {"type": "string", "enum": ["full_processing", "transcribe_only"]},
                "priority": {"type": "integer", "minimum": -10, "maximum": 10},
                "options": {"type": "string", "description": "The options object, as JSON."},
            },
        }}},
    }
}  # fmt: skip


@router.post(
    "", response_model=JobStatusResponse, status_code=HTTP_201_CREATED,
    summary="Start a job (full_processing, transcribe_only or download_only) for a URL",
)  # fmt: skip
def create_job(
    request: JobCreate, container: ContainerDep, owner: PrincipalDep
) -> JobStatusResponse:
    return JobStatusResponse.of(container.shorts.create(owner, request))


@router.post(
    "/upload", response_model=JobStatusResponse, status_code=HTTP_201_CREATED,
    summary="Start a job for an uploaded video (multipart: file, job_type, priority, options)",
    openapi_extra=_UPLOAD_FORM,
)  # fmt: skip
async def create_job_from_upload(
    request: Request, container: ContainerDep, owner: PrincipalDep
) -> JobStatusResponse:
    service = container.shorts
    length = request.headers.get("content-length")
    service.check_declared_size(int(length) if length and length.isdigit() else None)
    form = _StreamingForm(service.open_upload)
    try:
        await form.read(request)
        if form.upload is None:
            raise InvalidRequest("Send the video in the 'file' field.", code="invalid_upload")
        job = await run_in_threadpool(
            service.create_from_upload, owner, _spec(form.fields), form.upload
        )
    finally:
        if form.upload is not None:
            form.upload.release()
    return JobStatusResponse.of(job)


def _spec(fields: dict[str, str]) -> JobSpec:
    """The form's text fields as a JobSpec; errors look like any other request's 422."""
    data: dict[str, Any] = dict(fields)
    if "options" in data:
        try:
            data["options"] = json.loads(data["options"] or "{}")
        except json.JSONDecodeError:
            raise RequestValidationError(
                [{"loc": ("options",), "msg": "options must be a JSON object", "type": "json"}]
            ) from None
    try:
        return JobSpec.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None


class _StreamingForm:
    """Reads a multipart body as it arrives: the ``file`` part goes straight into a
    `StagedUpload` (which enforces the size limit), the other parts are small text fields.

    Starlette's own parser would first spool the whole file into the temp dir, so an
    oversized upload would fill the disk before any limit could refuse it.
    """

    def __init__(self, open_upload: Callable[[str], StagedUpload]) -> None:
        self.open_upload = open_upload
        self.fields: dict[str, str] = {}
        self.upload: StagedUpload | None = None
        self._header_name = self._header_value = b""
        self._disposition = b""
        self._name: str | None = None
        self._text: bytearray | None = None
        self._pending: list[bytes] = []

    async def read(self, request: Request) -> None:
        content_type, params = parse_options_header(request.headers.get("content-type", ""))
        if content_type != b"multipart/form-data" or b"boundary" not in params:
            raise InvalidRequest("Send the upload as multipart/form-data.", code="invalid_upload")
        parser = MultipartParser(params[b"boundary"], {
            "on_part_begin": self._part_begin, "on_part_data": self._part_data,
            "on_part_end": self._part_end, "on_header_field": self._header_field,
            "on_header_value": self._header_value_data, "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
        })  # fmt: skip
        try:
            async for chunk in request.stream():
                parser.write(chunk)
                await self._flush()
            parser.finalize()
            await self._flush()
        except FormParserError as exc:
            raise InvalidRequest(
                f"Malformed multipart body: {exc}", code="invalid_upload"
            ) from None

    async def _flush(self) -> None:
        """File bytes are written off the event loop, one batch per received chunk."""
        if self._pending and self.upload is not None:
            data, self._pending = b"".join(self._pending), []
            await run_in_threadpool(self.upload.write, data)

    def _part_begin(self) -> None:
        self._disposition, self._name, self._text = b"", None, None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            self._text = bytearray()
        elif self._name != "file" or self.upload is not None:
            raise InvalidRequest(
                "Send exactly one file, in the 'file' field.", code="invalid_upload"
            )
        else:
            filename = options[b"filename"].decode("utf-8", "replace")
            self.upload = self.open_upload(filename.replace("\\", "/").rpartition("/")[2])

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._text is None:
            self._pending.append(data[start:end])
            return
        self._text += data[start:end]
        if len(self._text) > MAX_FIELD_BYTES:
            raise InvalidRequest(f"Form field {self._name!r} is too long.", code="invalid_upload")

    def _part_end(self) -> None:
        if self._text is not None and self._name:
            self.fields[self._name] = self._text.decode("utf-8", "replace")


@router.get(
    "/{job_id}/transcript", response_model=TranscriptWordsOut,
    summary="The transcript's words with their times (optionally a window of it)",
)  # fmt: skip
def job_transcript(
    job_id: str,
    container: ContainerDep,
    owner: PrincipalDep,
    start: Annotated[float, Query(ge=0, le=86_400, description="From this time (s).")] = 0.0,
    end: Annotated[float | None, Query(gt=0, le=86_400, description="To this time (s).")] = None,
) -> TranscriptWordsOut:
    return transcript_words(container, owner, job_id, start, end)


# -- editing the clips of a finished job -------------------------------------------------------
class ClipChangeOut(BaseModel):
    clip: dict[str, Any] = Field(description="The clip as it will be once rendered.")
    render_job_id: str | None = Field(
        default=None, description="The job rendering it (follow it at /ws/{id}); null: no render."
    )


def _change_out(container: Container, job_id: str, change: ClipChange, base: str) -> ClipChangeOut:
    files = {f.id: f for f in container.lifecycle.files_of([job_id])[job_id]}

    def link(file_id: str) -> str | None:
        file = files.get(file_id)
        return file_url(container, file, base) if file is not None else None

    return ClipChangeOut(clip=clip_out(change.clip, link), render_job_id=change.render_job_id)


@router.patch(
    "/{job_id}/clips/{clip_id}", response_model=ClipChangeOut,
    summary="Edit a clip (times snap to words); a new picture renders as its own job",
)  # fmt: skip
def edit_clip(
    job_id: str, clip_id: str, edit: ClipEdit, container: ContainerDep, owner: PrincipalDep,
    base: BaseUrlDep,
) -> ClipChangeOut:  # fmt: skip
    change = container.clip_editor.edit(owner, job_id, clip_id, edit)
    return _change_out(container, job_id, change, base)


@router.post(
    "/{job_id}/clips", response_model=ClipChangeOut, status_code=HTTP_202_ACCEPTED,
    summary="Add a clip from a span of the video (times snap to words)",
)  # fmt: skip
def add_clip(
    job_id: str, new: ClipAdd, container: ContainerDep, owner: PrincipalDep, base: BaseUrlDep
) -> ClipChangeOut:
    change = container.clip_editor.add(owner, job_id, new)
    return _change_out(container, job_id, change, base)


@router.delete(
    "/{job_id}/clips/{clip_id}", status_code=HTTP_204_NO_CONTENT, response_class=Response,
    summary="Remove a clip and its files",
)  # fmt: skip
def delete_clip(
    job_id: str, clip_id: str, container: ContainerDep, owner: PrincipalDep
) -> Response:
    container.clip_editor.delete(owner, job_id, clip_id)
    return Response(status_code=HTTP_204_NO_CONTENT)


class WordCorrectionOut(BaseModel):
    word: TranscriptWordOut = Field(description="The word as it reads now.")
    previous_text: str = Field(description="What the transcript said before.")
    clips: list[ClipChangeOut] = Field(
        description="The clips that show the word: their new text and title, and the job "
        "rendering each again. Other clips are not rendered again."
    )


@router.patch(
    "/{job_id}/transcript/words/{index}", response_model=WordCorrectionOut,
    summary="Correct a misheard word; the clips that show it follow and render again",
)  # fmt: skip
def correct_word(
    job_id: str,
    index: Annotated[int, Path(ge=0, description="The word's index (see the transcript).")],
    fix: WordFix,
    container: ContainerDep,
    owner: PrincipalDep,
    base: BaseUrlDep,
) -> WordCorrectionOut:
    done = container.clip_editor.correct_word(owner, job_id, index, fix.text)
    word = done.word
    return WordCorrectionOut(
        word=TranscriptWordOut(
            index=done.index, start=round(word.start, 3), end=round(word.end, 3), text=word.text
        ),
        previous_text=done.previous_text,
        clips=[_change_out(container, job_id, change, base) for change in done.changes],
    )
