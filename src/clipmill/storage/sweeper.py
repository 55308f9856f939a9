"""Retention: delete files some time after their job finished; the job keeps its record."""

from __future__ import annotations

import logging
import shutil
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clipmill.jobs.enums import JobStatus
from clipmill.jobs.models import Job, StoredFile, utcnow
from clipmill.storage.base import Storage

log = logging.getLogger(__name__)


class RetentionSweeper:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        storage: Storage,
        *,
        retention_seconds: int,
        interval: float,
        jobs_dir: Path,
    ) -> None:
        self._sessions = sessions
        self._storage = storage
        self._retention = timedelta(seconds=retention_seconds)
        self._interval = interval
        self._jobs_dir = jobs_dir
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> int:
        """Expire every file older than the retention; return how many were deleted."""
        cutoff = utcnow() - self._retention
        expired = 0
        with self._sessions() as session, session.begin():
            rows = session.scalars(
                select(StoredFile).where(
                    StoredFile.expired_at.is_(None), StoredFile.created_at <= cutoff
                )
            ).all()
            for row in rows:
                try:
                    self._storage.delete(row.key)
                except OSError:
                    log.warning("could not delete %s", row.key, exc_info=True)
                    continue
                row.expired_at = utcnow()
                expired += 1
            # work dirs of finished download jobs hold nothing worth keeping past retention
            finished = session.scalars(
                select(Job.id).where(
                    Job.status.in_([s.value for s in JobStatus if s.is_terminal]),
                    Job.finished_at <= cutoff,
                )
            ).all()
        for job_id in finished:
            workdir = self._jobs_dir / job_id
            if workdir.exists():
                shutil.rmtree(workdir, ignore_errors=True)
        return expired

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="clipmill-sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.sweep()
            except Exception:
                log.exception("retention sweep failed")
