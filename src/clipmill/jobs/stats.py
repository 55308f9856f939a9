"""Figures about jobs and stored files, for one owner or the whole service (`GET /api/v1/stats`,
the storage gauges of `/metrics`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from clipmill.jobs.models import Job, StoredFile, User


class StorageFigures(BaseModel):
    files: int = Field(description="Files kept now (not yet expired).")
    bytes: int = Field(description="Their total size.")
    expired_files: int = Field(description="Files already deleted by retention.")


class JobFigures(BaseModel):
    total: int
    by_status: dict[str, int]
    by_kind: dict[str, int]
    average_seconds: float | None = Field(
        None, description="Mean run time of completed jobs (started to finished)."
    )


class Figures(BaseModel):
    jobs: JobFigures
    storage: StorageFigures


class JobStats:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def figures(self, owner_id: str | None = None) -> Figures:
        """Figures of ``owner_id``'s jobs and files, or of everyone's when None."""

        def scoped(query: Any, column: Any) -> Any:
            return query if owner_id is None else query.where(column == owner_id)

        with self.sessions() as session:
            by_status = dict(
                session.execute(
                    scoped(select(Job.status, func.count()), Job.owner_id).group_by(Job.status)
                ).all()
            )
            by_kind = dict(
                session.execute(
                    scoped(select(Job.kind, func.count()), Job.owner_id).group_by(Job.kind)
                ).all()
            )
            durations = session.execute(
                scoped(select(Job.started_at, Job.finished_at), Job.owner_id)
                .where(Job.status == "completed")
                .where(Job.started_at.is_not(None), Job.finished_at.is_not(None))
                .order_by(Job.finished_at.desc())
                .limit(1000)
            ).all()
            kept = session.execute(
                scoped(
                    select(func.count(), func.coalesce(func.sum(StoredFile.size), 0)),
                    StoredFile.owner_id,
                ).where(StoredFile.expired_at.is_(None))
            ).one()
            expired = session.scalar(
                scoped(select(func.count()).select_from(StoredFile), StoredFile.owner_id).where(
                    StoredFile.expired_at.is_not(None)
                )
            )
        seconds = [(end - start).total_seconds() for start, end in durations]
        return Figures(
            jobs=JobFigures(
                total=sum(by_status.values()),
                by_status={str(k): int(v) for k, v in by_status.items()},
                by_kind={str(k): int(v) for k, v in by_kind.items()},
                average_seconds=round(sum(seconds) / len(seconds), 3) if seconds else None,
            ),
            storage=StorageFigures(
                files=int(kept[0]), bytes=int(kept[1]), expired_files=int(expired or 0)
            ),
        )

    def running(self) -> int:
        """Jobs processing now, service-wide (in scaled mode they run in other processes)."""
        with self.sessions() as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(Job).where(Job.status == "processing")
                )
                or 0
            )

    def users(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(User)) or 0)

    def stored(self) -> tuple[int, int]:
        """(files, bytes) kept now, service-wide."""
        with self.sessions() as session:
            files, size = session.execute(
                select(func.count(), func.coalesce(func.sum(StoredFile.size), 0)).where(
                    StoredFile.expired_at.is_(None)
                )
            ).one()
        return int(files), int(size)

    def facts(self, job_id: str) -> tuple[str, float | None, float | None, int] | None:
        """(kind, queue wait s, run time s, bytes of its files) of a finished job."""
        with self.sessions() as session:
            job = session.get(Job, job_id)
            if job is None:
                return None
            size = session.scalar(
                select(func.coalesce(func.sum(StoredFile.size), 0)).where(
                    StoredFile.job_id == job_id
                )
            )
            wait = run = None
            if job.started_at is not None:
                wait = (job.started_at - job.created_at).total_seconds()
                if job.finished_at is not None:
                    run = (job.finished_at - job.started_at).total_seconds()
            return job.kind, wait, run, int(size or 0)
