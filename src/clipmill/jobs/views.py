"""Jobs as clients see them: the response shapes every job route builds on (from the records)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from clipmill.jobs.enums import JobKind, JobStage, JobStatus
from clipmill.jobs.retention import RetentionOut


class ErrorOut(BaseModel):
    code: str
    message: str


class FileOut(BaseModel):
    id: str
    name: str = Field(description="The download name (from the title or the filename template).")
    size: int
    role: str
    content_type: str
    url: str | None = Field(
        description="Signed link, valid while the file is kept; null once it was deleted."
    )
    expired: bool = False
    expires_at: datetime | None = Field(
        None, description="When retention deletes the file; null once it was deleted."
    )
    deleted_at: datetime | None = Field(None, description="When retention deleted the file.")


class ProgressOut(BaseModel):
    percent: float
    downloaded_bytes: int | None = None
    total_bytes: int | None = None
    total_is_estimate: bool | None = None
    speed: float | None = Field(None, description="Bytes per second.")
    eta: float | None = Field(None, description="Seconds left.")
    fragment_index: int | None = None
    fragment_count: int | None = None


class JobOut(BaseModel):
    id: str
    kind: JobKind
    status: JobStatus
    stage: JobStage
    progress: ProgressOut
    message: str | None = None
    priority: int
    title: str | None = None
    url: str | None = None
    options: dict[str, Any]
    parent_id: str | None = None
    item_index: int | None = None
    attempts: int
    error: ErrorOut | None = None
    files: list[FileOut] = []
    result: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    retention: RetentionOut | None = Field(
        None, description="When the job's files are deleted (or were); null while it has none."
    )


class JobListOut(BaseModel):
    items: list[JobOut]
    total: int
    limit: int
    offset: int


class LogLineOut(BaseModel):
    time: datetime
    level: str
    line: str


class LogsOut(BaseModel):
    job_id: str
    lines: list[LogLineOut]
