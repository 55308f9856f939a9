"""ProgressReporter: a running job's stage changes, progress ticks and log lines.

Stage changes are stored as events and published; progress ticks are published at most
`PUBLISH_INTERVAL` apart and written to the row at most `PERSIST_INTERVAL` apart. Every write
names the attempt that makes it and is dropped with `Superseded` once that attempt no longer
owns the job (see `clipmill.jobs.lifecycle`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from clipmill.errors import Superseded
from clipmill.jobs.enums import EventType, JobStage, JobStatus
from clipmill.jobs.models import Job, JobLog
from clipmill.jobs.repository import JobRepository
from clipmill.jobs.schemas import JobRecord
from clipmill.jobs.store import JobStore
from clipmill.observability.redact import redact

PUBLISH_INTERVAL = 0.25  # at most 4 progress events a second per job
PERSIST_INTERVAL = 1.0  # progress is written to the row at most once a second
MAX_LOG_LINE = 2000


class ProgressReporter:
    def __init__(self, store: JobStore, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self._clock = clock
        self._ticks: dict[str, tuple[float, float]] = {}  # job -> (last publish, last persist)
        self._lock = threading.Lock()

    def set_stage(
        self,
        job_id: str,
        attempt: int | None,
        stage: JobStage,
        message: str | None = None,
        progress: float | None = None,
    ) -> None:
        with self.store.tx() as (session, repo):
            job = _running(repo, job_id, attempt)
            if job is None:
                return
            job.stage = stage.value
            if progress is not None:
                job.progress = progress
            job.message = message
            self.store.record(session, job, EventType.STAGE, message)
            record = JobRecord.model_validate(job)
        self.store.publish_record(record, EventType.STAGE, message)

    def report(
        self,
        job_id: str,
        attempt: int | None,
        progress: float,
        *,
        info: dict[str, Any] | None = None,
        message: str | None = None,
        force: bool = False,
    ) -> None:
        """Publish a progress tick (throttled) and persist it (less often)."""
        now = self._clock()
        with self._lock:
            last_pub, last_save = self._ticks.get(job_id, (float("-inf"), float("-inf")))
            publish = force or now - last_pub >= PUBLISH_INTERVAL
            persist = force or now - last_save >= PERSIST_INTERVAL
            if publish or persist:
                self._ticks[job_id] = (now if publish else last_pub, now if persist else last_save)
        if not (publish or persist):
            return
        progress = max(0.0, min(100.0, progress))
        with self.store.tx() as (_s, repo):
            job = _running(repo, job_id, attempt)
            if job is None:
                return
            if persist:
                job.progress, job.progress_info = progress, info
                if message is not None:
                    job.message = message
            record = JobRecord.model_validate(job)
        if publish:
            self.store.publish(
                record, EventType.PROGRESS, message, progress=progress, data=info or {}
            )

    def log(
        self, job_id: str, line: str, level: str = "info", *, attempt: int | None = None
    ) -> None:
        """Append a line to the job's log (what users see: server paths are redacted)."""
        with self.store.tx() as (session, repo):
            if attempt is not None and not repo.owns(job_id, attempt):
                raise Superseded("This attempt no longer owns the job.", attempt=attempt)
            session.add(JobLog(job_id=job_id, level=level, line=redact(line)[:MAX_LOG_LINE]))

    def forget(self, job_id: str) -> None:
        """Drop a finished run's throttling state."""
        with self._lock:
            self._ticks.pop(job_id, None)


def _running(repo: JobRepository, job_id: str, attempt: int | None) -> Job | None:
    """The job, if it still runs (None once it ended); Superseded if another attempt has it."""
    job = repo.get(job_id)
    if JobStatus(job.status).is_terminal:
        return None
    if attempt is not None and job.attempts != attempt:
        raise Superseded("This attempt no longer owns the job.", attempt=attempt)
    return job
