"""Turn service records into API responses (signed links included)."""

from __future__ import annotations

from clipmill.bootstrap import Container
from clipmill.jobs.schemas import UPLOAD_ROLE, FileRecord, JobRecord
from clipmill.jobs.views import ErrorOut, FileOut, JobOut, ProgressOut
from clipmill.storage.signing import link_ttl


def error_out(job: JobRecord) -> ErrorOut | None:
    """A job's error as the API shows it, or None when it has none."""
    if not job.error_code:
        return None
    return ErrorOut(code=job.error_code, message=job.error_message or "")


def file_url(container: Container, file: FileRecord, base: str) -> str | None:
    """A link that works as long as the file is kept; None once retention deleted it."""
    expires_at = container.retention.policy.file_expires_at(file)
    if expires_at is None:
        return None
    ttl = link_ttl(expires_at - container.retention.clock.now(), container.signer.ttl)
    direct = container.storage.presigned_url(file.key, download_name=file.name, ttl=ttl)
    return direct or f"{base}/files/{container.signer.sign(file.id)}"


def file_out(container: Container, file: FileRecord, base: str) -> FileOut:
    return FileOut(
        id=file.id,
        name=file.name,
        size=file.size,
        role=file.role,
        content_type=file.content_type,
        url=file_url(container, file, base),
        expired=file.expired,
        expires_at=container.retention.policy.file_expires_at(file),
        deleted_at=file.expired_at,
    )


def job_out(
    container: Container, job: JobRecord, base: str, files: list[FileRecord] | None = None
) -> JobOut:
    info = job.progress_info or {}
    progress = ProgressOut(
        percent=round(job.progress, 2),
        **{k: v for k, v in info.items() if k in ProgressOut.model_fields and k != "percent"},
    )
    if files is None:
        files = container.lifecycle.files_of([job.id])[job.id]
    error = error_out(job)
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        stage=job.stage,
        progress=progress,
        message=job.message,
        priority=job.priority,
        title=job.title,
        url=job.source_url,
        options=job.options,
        parent_id=job.parent_id,
        item_index=job.item_index,
        attempts=job.attempts,
        error=error,
        files=[file_out(container, f, base) for f in visible(files)],
        result=job.result,
        created_at=job.created_at,
        updated_at=job.updated_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        retention=container.retention.summary(job, visible(files)),
    )


def visible(files: list[FileRecord]) -> list[FileRecord]:
    """The files a job offers its owner (its uploaded input is not one of them)."""
    return [f for f in files if f.role != UPLOAD_ROLE]


def jobs_out(container: Container, jobs: list[JobRecord], base: str) -> list[JobOut]:
    files = container.lifecycle.files_of([j.id for j in jobs])
    return [job_out(container, j, base, files[j.id]) for j in jobs]
