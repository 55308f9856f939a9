"""ShortsService: start shorts, transcribe and download jobs from a URL or an upload.

Uploads are received into a private staging dir (``data_dir/uploads/<random>/``) because the
job, and so its work dir, must not exist before the file is complete and known to be media: a
refused upload leaves no job and no bytes behind. The accepted file's path goes into the job's
options and the pipeline links it into the work dir. The staged file is the job's *input*, so it
outlives the work dir: ``retry(force=True)`` and a retry after a cancel delete the work dir and
need it again. It is deleted when its job completes, or once a failed or cancelled job has been
finished for longer than the retention (checked whenever a job ends, no extra thread).
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import time
import uuid
from datetime import datetime, timedelta
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
    NotFound,
    UnsupportedMedia,
)
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.jobs.models import utcnow
from clipmill.jobs.schemas import JobRecord
from clipmill.jobs.service import JobService
from clipmill.media.ffmpeg import MediaProbe, probe_file
from clipmill.shorts.job_schemas import (
    JobCreate,
    JobSpec,
    JobType,
    ShortsJobOptions,
    ShortsOptions,
    ShortsResults,
    UploadRef,
    uploads_dir,
)
from clipmill.shorts.transcribe import available_models

log = logging.getLogger(__name__)

FORM_SLACK = 1024 * 1024  # room for the form's other fields and multipart headers
ORPHAN_SECONDS = 3600  # a staged dir no job claimed (the process died mid-request)
JOB_MARKER = "job"  # file in a staged dir naming the job that owns it
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")
_PIPELINE_KINDS = (JobKind.SHORTS, JobKind.TRANSCRIBE)


def check_media(path: Path, *, name: str) -> MediaProbe:
    """Accept a file only if ffprobe reads it as media with an audio track.

    The content decides, never the extension: a text file called ``talk.mp4`` is refused.
    """
    try:
        probe = probe_file(path)
    except BrokenMedia as exc:
        raise UnsupportedMedia(f"{name} is not a video or audio file that can be read.") from exc
    if not probe.has_audio:
        raise UnsupportedMedia(f"{name} has no audio track to transcribe.")
    return probe


class StagedUpload:
    """One upload being received: counted against the size limit as it is written.

    The request handler calls `release` when it is done: the file stays only if a job claimed it.
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
        self.claimed = False
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
        """Done with the request: keep the file only if a job claimed it."""
        if self.claimed:
            self.close()
        else:
            self.discard()


class ShortsService:
    """The shorts jobs API's use cases; every job still goes through `JobService`."""

    def __init__(self, jobs: JobService, settings: Settings, downloads: DownloadService) -> None:
        self.jobs = jobs
        self.settings = settings
        self.downloads = downloads
        self.uploads_dir = uploads_dir(settings)
        jobs.on_terminal(self._tidy_uploads)

    def create(self, owner: Principal, request: JobCreate) -> JobRecord:
        """Start a job for a URL; the URL is checked before any job exists."""
        self.downloads.check_url(request.url)
        if request.job_type is JobType.DOWNLOAD_ONLY:
            return self.downloads.start(
                owner, request.url, request.options.download_options(), priority=request.priority
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
        return StagedUpload(self.uploads_dir, filename or "upload", self.settings.max_upload_size)

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
        ref = UploadRef(
            staged=upload.path.relative_to(self.uploads_dir).as_posix(),
            filename=upload.filename, size=upload.size,
            duration=probe.duration,
        )  # fmt: skip
        job = self.jobs.create(
            owner,
            spec.job_type.kind,
            ShortsJobOptions(upload=ref, shorts=spec.options).model_dump(mode="json"),
            title=Path(upload.filename).stem or None,
            priority=spec.priority,
        )
        upload.claimed = True
        # (the job may already have completed and its upload been removed)
        with contextlib.suppress(FileNotFoundError):
            (upload.dir / JOB_MARKER).write_text(job.id)
        return job

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

    def _tidy_uploads(self, job: JobRecord) -> None:
        """On any job's end: drop the upload of a completed job, and stale staged uploads.

        Housekeeping only: it runs inside JobService's state changes, so it never raises.
        """
        try:
            if job.kind in _PIPELINE_KINDS and job.status is JobStatus.COMPLETED:
                upload = ShortsJobOptions.model_validate(job.options).upload
                staged = upload.path(self.settings) if upload is not None else None
                if staged is not None:
                    shutil.rmtree(staged.parent, ignore_errors=True)
            self.sweep_uploads()
        except Exception:
            log.exception("tidying staged uploads failed")

    def sweep_uploads(self) -> int:
        """Delete staged uploads whose job is gone or ended longer than the retention ago."""
        if not self.uploads_dir.is_dir():
            return 0
        cutoff = utcnow() - timedelta(seconds=self.settings.retention_seconds)
        removed = 0
        for staged in self.uploads_dir.iterdir():
            if staged.is_dir() and self._stale(staged, cutoff):
                shutil.rmtree(staged, ignore_errors=True)
                removed += 1
        return removed

    def _stale(self, staged: Path, cutoff: datetime) -> bool:
        try:
            job_id = (staged / JOB_MARKER).read_text().strip()
        except FileNotFoundError:  # unclaimed: stale once nothing was written for a while
            try:
                touched = max(p.stat().st_mtime for p in [staged, *staged.iterdir()])
            except FileNotFoundError:
                return False
            return time.time() - touched > ORPHAN_SECONDS
        try:
            job = self.jobs.load(job_id)
        except NotFound:
            return True
        finished = job.finished_at
        return job.status.is_terminal and finished is not None and finished <= cutoff
