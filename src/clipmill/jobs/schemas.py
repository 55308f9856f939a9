"""Values the job service hands out. ORM rows never leave `clipmill.jobs`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clipmill.jobs.enums import JobKind, JobStage, JobStatus


class JobHooks(BaseModel):
    """Fields any job-creating request takes besides its own options."""

    webhook_url: str | None = Field(
        None,
        min_length=1,
        max_length=2048,
        description="Receives a signed JSON event when the job completes, fails or is "
        "cancelled (see docs/webhooks.md).",
        examples=["https://hooks.example.com/clipmill"],
    )


class Record(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class FileRecord(Record):
    id: str
    job_id: str
    owner_id: str
    role: str
    key: str
    name: str
    size: int
    content_type: str
    created_at: datetime
    expired_at: datetime | None = None
    keep_until: datetime | None = None
    """Its job's "keep longer" date: the file stays at least until then."""

    @property
    def expired(self) -> bool:
        return self.expired_at is not None


UPLOAD_ROLE = "upload"
"""The stored-file role of a job's uploaded input (hidden from file lists, swept by its job)."""


class NewFile(BaseModel):
    """A file stored together with a new job (an upload is the job's input)."""

    model_config = ConfigDict(frozen=True)

    role: str
    key: str
    name: str
    size: int
    content_type: str


class JobRecord(Record):
    id: str
    kind: JobKind
    status: JobStatus
    stage: JobStage
    progress: float
    progress_info: dict[str, Any] | None = None
    message: str | None = None
    priority: int
    options: dict[str, Any]
    owner_id: str
    parent_id: str | None = None
    item_index: int | None = None
    source_url: str | None = None
    title: str | None = None
    attempts: int
    error_code: str | None = None
    error_message: str | None = None
    result: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    keep_until: datetime | None = None
    """"Keep longer": the job's files stay at least until then."""


class EventRecord(Record):
    id: int
    job_id: str
    type: str
    status: str
    stage: str
    progress: float
    message: str | None = None
    created_at: datetime


class LogRecord(Record):
    id: int
    level: str
    line: str
    created_at: datetime


class JobPage(BaseModel):
    items: list[JobRecord]
    total: int
    limit: int
    offset: int


class ChildCounts(BaseModel):
    total: int = 0
    pending: int = 0
    queued: int = 0
    processing: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def finished(self) -> int:
        return self.completed + self.failed + self.cancelled
