"""How long a job's files are kept, and "keep longer".

A stored file is deleted ``retention_seconds`` after it was made, or at its job's
``keep_until`` when that is later. "Keep longer" moves ``keep_until`` of a job and of its items
(a playlist's, channel's or batch's children; a shorts job's clips, re-renders included, are
the shorts job's own files), never past the operator's ``retention_max_seconds`` counted from
when the job was made, and never earlier than it was. The retention sweeper
(`clipmill.storage.sweeper`) deletes by the same rule; the API shows it per file
(``expires_at``, ``deleted_at``) and per job (``retention``), so a card says when its files go
and, once they went, that they did, instead of offering a link that answers 410.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from clipmill.accounts.principal import Principal
from clipmill.clock import Clock, SystemClock
from clipmill.config import Settings
from clipmill.errors import Conflict, FileExpired, InvalidOption
from clipmill.jobs.models import Job, StoredFile
from clipmill.jobs.schemas import UPLOAD_ROLE, FileRecord, JobRecord
from clipmill.jobs.store import JobStore

MAX_KEEP_DAYS = 3650
"""The most days one "keep longer" request may ask for (the operator's maximum applies too)."""


@dataclass(frozen=True)
class RetentionPolicy:
    """The operator's rule: files live ``retention``, "keep longer" reaches ``longest`` after
    the job was made (None: no limit)."""

    retention: timedelta
    longest: timedelta | None

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        longest = settings.retention_max_seconds
        return cls(
            retention=timedelta(seconds=settings.retention_seconds),
            longest=timedelta(seconds=longest) if longest else None,
        )

    def expires_at(self, created_at: datetime, keep_until: datetime | None) -> datetime:
        """When a file made at ``created_at`` of a job kept until ``keep_until`` is deleted."""
        due = created_at + self.retention
        return max(due, keep_until) if keep_until is not None else due

    def file_expires_at(self, file: FileRecord) -> datetime | None:
        """When ``file`` will be deleted; None once it was."""
        return None if file.expired else self.expires_at(file.created_at, file.keep_until)

    def limit_for(self, job: JobRecord) -> datetime | None:
        """The latest date "keep longer" may keep ``job``'s files to (None: no limit)."""
        return None if self.longest is None else job.created_at + self.longest


class RetentionOut(BaseModel):
    """When a job's files go: what its card shows as "Kept until" or "Deleted on"."""

    expires_at: datetime | None = Field(
        description="When the first of the job's kept files (a parent's: its items') is "
        "deleted; null once none is kept."
    )
    deleted_at: datetime | None = Field(
        description="When the last of its files was deleted, once none is kept; else null."
    )
    files_kept: int
    files_deleted: int
    keep_limit: datetime | None = Field(
        description='The latest date "keep longer" reaches (the operator\'s maximum); null: '
        "no limit."
    )
    can_keep_longer: bool = Field(
        description="Whether POST /api/v1/jobs/{id}/keep would move expires_at."
    )


class KeepIn(BaseModel):
    """How much longer to keep a job's files: ``days`` more (default: one retention period)
    after the date they would be deleted, or ``until`` a date. Capped at the operator's
    maximum."""

    days: float | None = Field(None, gt=0, le=MAX_KEEP_DAYS, examples=[7])
    until: datetime | None = Field(None, description="An ISO 8601 date and time.")

    @model_validator(mode="after")
    def _one_of(self) -> KeepIn:
        if self.days is not None and self.until is not None:
            raise ValueError("give days or until, not both")
        return self


@dataclass(frozen=True)
class _Stamp:
    """What retention needs of one stored file."""

    created_at: datetime
    expired_at: datetime | None
    keep_until: datetime | None


class RetentionService:
    """Reads when files go (``summary``) and moves it for their owner (``keep``)."""

    def __init__(self, store: JobStore, policy: RetentionPolicy, clock: Clock | None = None):
        self._store = store
        self.policy = policy
        self.clock = clock or SystemClock()

    def summary(self, job: JobRecord, files: Sequence[FileRecord]) -> RetentionOut | None:
        """``job``'s retention from its ``files`` (a parent's items' files are read here);
        None when it has no file to speak of."""
        stamps = [
            _Stamp(f.created_at, f.expired_at, f.keep_until) for f in files if f.role != UPLOAD_ROLE
        ]
        if job.kind.is_parent:
            with self._store.tx() as (session, _repo):
                stamps += self._item_stamps(session, job.id)
        return self._summarise(job, stamps)

    def keep(self, owner: Principal, job_id: str, request: KeepIn) -> JobRecord:
        """Keep ``owner``'s job's files (and its items') longer; another owner's job is a 404.

        Raises `Conflict` ``keep_limit`` when the operator's maximum is already reached,
        `FileExpired` when the files are gone, `InvalidOption` for a date that would not keep
        them any longer.
        """
        now = self.clock.now()
        with self._store.tx() as (session, repo):
            record = JobRecord.model_validate(repo.get_owned(owner, job_id))
            summary = self._summarise(record, self._job_stamps(session, record))
            if summary is None or summary.expires_at is None:
                if summary is not None:
                    raise FileExpired("These files were already deleted after the retention.")
                raise Conflict("This job has no files to keep yet.", code="nothing_to_keep")
            current = summary.expires_at
            limit = summary.keep_limit
            if limit is not None and current >= limit:
                raise Conflict(
                    f"These files are already kept as long as this server allows "
                    f"(until {limit:%Y-%m-%d %H:%M} UTC).",
                    code="keep_limit",
                )
            if request.until is not None:
                wanted = _aware(request.until)
            else:
                more = timedelta(days=request.days) if request.days else self.policy.retention
                wanted = max(current, now) + more
            target = min(wanted, limit) if limit is not None else wanted
            if target <= current:
                raise InvalidOption(
                    f"until: the files are already kept until {current:%Y-%m-%d %H:%M} UTC; "
                    "pick a later date."
                )
            session.execute(
                update(Job)
                .where(
                    or_(Job.id == record.id, Job.parent_id == record.id),
                    or_(Job.keep_until.is_(None), Job.keep_until < target),
                )
                .values(keep_until=target)
            )
        with self._store.tx() as (_s, repo):
            return JobRecord.model_validate(repo.get(job_id))

    # -- internals ------------------------------------------------------------------------------
    def _job_stamps(self, session: Session, job: JobRecord) -> list[_Stamp]:
        rows = session.execute(
            select(StoredFile.created_at, StoredFile.expired_at, StoredFile.keep_until).where(
                StoredFile.job_id == job.id, StoredFile.role != UPLOAD_ROLE
            )
        ).all()
        stamps = [_Stamp(*row) for row in rows]
        if job.kind.is_parent:
            stamps += self._item_stamps(session, job.id)
        return stamps

    @staticmethod
    def _item_stamps(session: Session, parent_id: str) -> list[_Stamp]:
        rows = session.execute(
            select(StoredFile.created_at, StoredFile.expired_at, Job.keep_until)
            .join(Job, Job.id == StoredFile.job_id)
            .where(Job.parent_id == parent_id, StoredFile.role != UPLOAD_ROLE)
        ).all()
        return [_Stamp(*row) for row in rows]

    def _summarise(self, job: JobRecord, stamps: Iterable[_Stamp]) -> RetentionOut | None:
        kept = [
            self.policy.expires_at(s.created_at, s.keep_until)
            for s in stamps
            if s.expired_at is None
        ]
        deleted = [s.expired_at for s in stamps if s.expired_at is not None]
        if not kept and not deleted:
            return None
        limit = self.policy.limit_for(job)
        expires_at = min(kept) if kept else None
        return RetentionOut(
            expires_at=expires_at,
            deleted_at=None if kept else max(deleted),
            files_kept=len(kept),
            files_deleted=len(deleted),
            keep_limit=limit,
            can_keep_longer=expires_at is not None and (limit is None or expires_at < limit),
        )


def _aware(moment: datetime) -> datetime:
    """A request's date without a zone is read as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
