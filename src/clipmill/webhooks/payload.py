"""The JSON body of a delivery: the job as its view shows it, without links, cookies or options.

File links are left out on purpose: they expire (a retry an hour later would carry dead links)
and they would put bearer URLs into third-party logs. Receivers fetch the job from the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clipmill.jobs.schemas import UPLOAD_ROLE, FileRecord, JobRecord
from clipmill.webhooks.schemas import WebhookEvent


def job_view(
    job: JobRecord, files: list[FileRecord], *, progress: float | None = None
) -> dict[str, Any]:
    """What a delivery says about ``job`` (``progress`` overrides the stored figure)."""
    error = {"code": job.error_code, "message": job.error_message or ""} if job.error_code else None
    return {
        "id": job.id,
        "kind": job.kind.value,
        "status": job.status.value,
        "stage": job.stage.value,
        "progress": round(job.progress if progress is None else progress, 2),
        "title": job.title,
        "source_url": job.source_url,
        "error": error,
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at),
        "files": [
            {"name": f.name, "size": f.size, "content_type": f.content_type}
            for f in files
            if f.role != UPLOAD_ROLE and not f.expired
        ],
    }


def event_body(
    delivery_id: str, event: WebhookEvent, created_at: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": delivery_id,
        "type": event.value,
        "created_at": _iso(created_at),
        "data": data,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
