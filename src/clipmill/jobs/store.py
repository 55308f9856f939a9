"""What the three job services share: transactions, stored events and published events.

`JobService` (owner-facing), `JobLifecycle` (workers and the system) and `ProgressReporter`
(progress ticks and log lines) are the only writers of jobs; they all write through one
`JobStore`, so they share its transaction helper and the lock that orders result merges.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from clipmill.events.bus import EventBus, JobEventMessage
from clipmill.jobs.enums import EventType
from clipmill.jobs.models import Job, JobEvent, utcnow
from clipmill.jobs.repository import JobRepository
from clipmill.jobs.schemas import JobRecord


class JobStore:
    """Sessions and the event bus, with the few helpers every job writer needs."""

    def __init__(self, sessions: sessionmaker[Session], bus: EventBus) -> None:
        self.sessions = sessions
        self.bus = bus
        # `result` is merged read-modify-write by the runner and by finishing children at the
        # same time; in one process this lock orders them, and the row lock (FOR UPDATE, on
        # PostgreSQL) orders them across processes
        self.result_lock = threading.RLock()

    @contextmanager
    def tx(self) -> Iterator[tuple[Session, JobRepository]]:
        """One transaction; committed when the block ends without an exception."""
        with self.sessions() as session, session.begin():
            yield session, JobRepository(session)

    @staticmethod
    def record(session: Session, job: Job, type_: EventType, message: str | None) -> None:
        """Store a status or stage change as a `JobEvent` (in the caller's transaction)."""
        session.add(
            JobEvent(
                job_id=job.id,
                type=type_.value,
                status=job.status,
                stage=job.stage,
                progress=job.progress or 0.0,
                message=message,
            )
        )

    def publish_record(self, record: JobRecord, type_: EventType, message: str | None) -> None:
        """Publish a job's current state (after the transaction that made it committed)."""
        data: dict[str, Any] = {}
        if record.error_code:
            data["error"] = {"code": record.error_code, "message": record.error_message}
        self.publish(record, type_, message, progress=record.progress, data=data)

    def publish(
        self,
        record: JobRecord,
        type_: EventType,
        message: str | None,
        *,
        progress: float,
        data: dict[str, Any],
    ) -> None:
        self.bus.publish(
            JobEventMessage(
                job_id=record.id,
                owner_id=record.owner_id,
                type=type_.value,
                status=record.status.value,
                stage=record.stage.value,
                progress=progress,
                message=message,
                timestamp=utcnow(),
                parent_id=record.parent_id,
                data=data,
            )
        )
