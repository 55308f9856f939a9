"""ShortsService: start shorts, transcribe and download jobs from a URL or an upload.

An upload is received into a private dir on the API host (``data_dir/incoming/<random>/``)
because the job must not exist before the file is complete and known to be media: a refused
upload leaves no job and no bytes behind. An accepted file goes into `Storage` as the job's
``upload`` file (key ``<job id>/upload/source.<ext>``) before the job is queued, so a worker on
another machine can fetch it; it is the job's *input*, kept while a retry may need it and
expired by the retention sweeper (`clipmill.storage.sweeper`), like every other file.
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from pathlib import Path
from typing import IO

from clipmill.accounts.principal import Principal
from clipmill.config import Settings
from clipmill.downloads.service import DownloadService
from clipmill.errors import (
    BrokenMedia,
    DurationTooLong,
    FileTooLarge,
    InvalidOption,
    UnsupportedMedia,
)
from clipmill.jobs.lifecycle import JobLifecycle
from clipmill.jobs.models import new_id
from clipmill.jobs.schemas import UPLOAD_ROLE, JobRecord, NewFile
from clipmill.jobs.service import JobService
from clipmill.media.containers import refuse_unless_media
from clipmill.media.ffmpeg import MediaProbe, probe_file
from clipmill.media.integrity import check_complete
from clipmill.media.naming import content_type_for
from clipmill.shorts.job_schemas import (
    JobCreate,
    JobSpec,
    JobType,
    ShortsJobOptions,
    ShortsOptions,
    ShortsResults,
    UploadRef,
    incoming_dir,
)
from clipmill.shorts.transcribe import available_models, model_languages
from clipmill.storage.base import Storage

log = logging.getLogger(__name__)

FORM_SLACK = 1024 * 1024  # room for the form's other fields and multipart headers
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")


def check_media(path: Path, *, name: str) -> MediaProbe:
    """Accept a file only if ffprobe reads it as media with an audio track.

    The content decides, never the extension: a text file called ``talk.mp4`` is refused, and
    a playlist or manifest (which would make ffmpeg read other files) before ffmpeg sees it.
    """
    refuse_unless_media(path, name=name)
    try:
        probe = probe_file(path)
    except BrokenMedia as exc:
        raise UnsupportedMedia(f"{name} is not a video or audio file that can be read.") from exc
    except UnsupportedMedia as exc:
        raise UnsupportedMedia(f"{name} is not a video or audio file clipmill reads.") from exc
    if not probe.has_audio:
        raise UnsupportedMedia(f"{name} has no audio track to transcribe.")
    try:
        check_complete(path)
    except BrokenMedia as exc:
        raise BrokenMedia(f"{name}: {exc.message}") from exc
    return probe


class StagedUpload:
    """One upload being received: counted against the size limit as it is written.

    The request handler calls `release` when it is done; an accepted file has moved by then.
    """

    def __init__(self, root: Path, filename: str, limit: int) -> None:
        suffix = Path(filename).suffix
        self.dir = root / uuid.uuid4().hex
        self.dir.mkdir(parents=True)
        self.path = self.dir / (
            "upload" + (suffix.lower() if _SAFE_SUFFIX.fullmatch(suffix) else "")
        )
        self.filename = filename
        self.limit = limit
        self.size = 0
        self._file: IO[bytes] | None = self.path.open("xb")

    def write(self, chunk: bytes) -> None:
        if self._file is None:
            raise ValueError("the upload is closed")
        if self.size + len(chunk) > self.limit:
            self.discard()
            raise FileTooLarge(
                f"The upload is larger than the limit of {self.limit} bytes.", limit=self.limit
            )
        self._file.write(chunk)
        self.size += len(chunk)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def discard(self) -> None:
        self.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def release(self) -> None:
        """Done with the request: whatever was not moved into storage goes."""
        self.discard()


class ShortsService:
    """The shorts jobs API's use cases; every job still goes through `JobService`."""

    def __init__(
        self,
        jobs: JobService,
        lifecycle: JobLifecycle,
        storage: Storage,
        settings: Settings,
        downloads: DownloadService,
    ) -> None:
        self.jobs = jobs
        self.lifecycle = lifecycle
        self.storage = storage
        self.settings = settings
        self.downloads = downloads
        self.incoming_dir = incoming_dir(settings)

    def create(self, owner: Principal, request: JobCreate) -> JobRecord:
        """Start a job for a URL; the URL is checked before any job exists."""
        self.downloads.check_url(request.url)
        if request.job_type is JobType.DOWNLOAD_ONLY:
            return self.downloads.start(
                owner,
                request.url,
                request.options.download_options(),
                priority=request.priority,
                webhook_url=request.webhook_url,
            )
        self._check_options(request.options)
        stored = ShortsJobOptions(
            url=request.url,
            url_field="youtube_url" if request.youtube_url else "source_url",
            shorts=request.options,
        )
        return self.jobs.create(
            owner,
            request.job_type.kind,
            stored.model_dump(mode="json"),
            source_url=request.url,
            priority=request.priority,
            webhook_url=request.webhook_url,
        )

    def check_declared_size(self, content_length: int | None) -> None:
        """Refuse a request whose declared body is over the limit before reading any of it."""
        if (
            content_length is not None
            and content_length > self.settings.max_upload_size + FORM_SLACK
        ):
            raise FileTooLarge(
                f"The upload is larger than the limit of {self.settings.max_upload_size} bytes.",
                limit=self.settings.max_upload_size,
            )

    def open_upload(self, filename: str | None) -> StagedUpload:
        """Somewhere to stream an upload to, limited to ``settings.max_upload_size`` bytes."""
        return StagedUpload(self.incoming_dir, filename or "upload", self.settings.max_upload_size)

    def create_from_upload(
        self, owner: Principal, spec: JobSpec, upload: StagedUpload
    ) -> JobRecord:
        """Start a job for a completely received upload, after ffprobe accepted its content."""
        upload.close()
        if spec.job_type is JobType.DOWNLOAD_ONLY:
            raise InvalidOption("download_only needs a URL; an upload is already here.",
                                field="job_type")  # fmt: skip
        self._check_options(spec.options)
        if upload.size == 0:
            raise UnsupportedMedia("The upload is empty.")
        probe = check_media(upload.path, name=upload.filename)
        if probe.duration is not None and probe.duration > self.settings.max_duration:
            raise DurationTooLong(
                f"The upload is {probe.duration:.0f} s long; the limit is "
                f"{self.settings.max_duration:.0f} s."
            )
        # the input is in storage before the job (and its file row) exists, so a worker anywhere
        # can fetch it; if storing the job fails, the stored bytes go again
        job_id = new_id()
        key = f"{job_id}/upload/source{upload.path.suffix}"
        content_type = content_type_for(upload.path.suffix)
        size = self.storage.put(key, upload.path, content_type=content_type)
        ref = UploadRef(key=key, filename=upload.filename, size=size, duration=probe.duration)
        try:
            return self.jobs.create(
                owner,
                spec.job_type.kind,
                ShortsJobOptions(upload=ref, shorts=spec.options).model_dump(mode="json"),
                title=Path(upload.filename).stem or None,
                priority=spec.priority,
                job_id=job_id,
                webhook_url=spec.webhook_url,
                files=[NewFile(role=UPLOAD_ROLE, key=key, name=upload.filename, size=size,
                               content_type=content_type)],
            )  # fmt: skip
        except BaseException:
            self.storage.delete(key)
            raise

    def results(self, job: JobRecord) -> ShortsResults:
        """The results a finished (or partly finished) job stored; empty while it runs."""
        return ShortsResults.model_validate(job.result or {})

    def _check_options(self, options: ShortsOptions) -> None:
        """Options whose valid values depend on this server's settings."""
        models = available_models(self.settings)
        if options.whisper_model is not None and options.whisper_model not in models:
            raise InvalidOption(
                f"Unknown whisper_model {options.whisper_model!r}; available: {', '.join(models)}.",
                field="whisper_model",
                available=models,
            )
        language = options.language
        if language is None:
            return
        understood = model_languages(options.whisper_model, self.settings)
        if understood is not None and language.split("-")[0].lower() not in understood:
            model = options.whisper_model or self.settings.whisper_model
            raise InvalidOption(
                f"The {model} model understands {', '.join(understood)} only, not {language!r}. "
                "Leave language unset, or ask the operator for a multilingual model "
                "(CLIPMILL_WHISPER_MODELS).",
                field="language",
                languages=list(understood),
            )
