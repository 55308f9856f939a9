"""Retention: delete files some time after they were made; the job keeps its record.

What goes, at every sweep:

* a job's output files, ``retention_seconds`` after they were stored, or at the job's
  ``keep_until`` ("keep longer", `clipmill.jobs.retention`) when that is later (their rows stay,
  marked expired, so the job still lists them as deleted and a link answers 410
  ``file_expired``);
* a job's uploaded input (role ``upload``) once the job completed, or once it failed or was
  cancelled longer than the retention ago (until then a retry may need it);
* the work dirs of jobs that ended longer than the retention ago and are not kept longer (a
  kept shorts job's transcript and source stay, so its clips can still be edited);
* uploads that never became a job (the request died halfway), an hour after their last write.
"""

from __future__ import annotations

import logging
import shutil
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from clipmill.clock import Clock, SystemClock
from clipmill.jobs.enums import JobStatus
from clipmill.jobs.models import Job, StoredFile
from clipmill.jobs.schemas import UPLOAD_ROLE
from clipmill.storage.base import Storage

log = logging.getLogger(__name__)

ORPHAN_SECONDS = 3600
_TERMINAL = [s.value for s in JobStatus if s.is_terminal]


class RetentionSweeper:
    """Deletes what retention says is due, every ``interval`` seconds (or when `sweep` is
    called: tests move an injected clock and sweep)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        storage: Storage,
        *,
        retention_seconds: int,
        interval: float,
        jobs_dir: Path,
        incoming_dir: Path,
        clock: Clock | None = None,
    ) -> None:
        self._sessions = sessions
        self._storage = storage
        self._retention = timedelta(seconds=retention_seconds)
        self._interval = interval
        self._jobs_dir = jobs_dir
        self._incoming_dir = incoming_dir
        self._clock = clock or SystemClock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> int:
        """Expire what is due; return how many stored files were deleted."""
        now = self._clock.now()
        cutoff = now - self._retention
        expired = 0
        with self._sessions() as session, session.begin():
            not_kept = or_(Job.keep_until.is_(None), Job.keep_until <= now)
            outputs = (
                select(StoredFile)
                .join(Job, Job.id == StoredFile.job_id)
                .where(
                    StoredFile.expired_at.is_(None),
                    StoredFile.role != UPLOAD_ROLE,
                    StoredFile.created_at <= cutoff,
                    not_kept,
                )
            )
            inputs = (
                select(StoredFile)
                .join(Job, Job.id == StoredFile.job_id)
                .where(
                    StoredFile.expired_at.is_(None),
                    StoredFile.role == UPLOAD_ROLE,
                    or_(
                        Job.status == JobStatus.COMPLETED.value,
                        and_(Job.status.in_(_TERMINAL), Job.finished_at <= cutoff),
                    ),
                )
            )
            for query in (outputs, inputs):
                for row in session.scalars(query).all():
                    try:
                        self._storage.delete(row.key)
                    except OSError:
                        log.warning("could not delete %s", row.key, exc_info=True)
                        continue
                    row.expired_at = now
                    expired += 1
            # work dirs of finished jobs hold nothing worth keeping past retention
            finished = session.scalars(
                select(Job.id).where(Job.status.in_(_TERMINAL), Job.finished_at <= cutoff, not_kept)
            ).all()
        for job_id in finished:
            workdir = self._jobs_dir / job_id
            if workdir.exists():
                shutil.rmtree(workdir, ignore_errors=True)
        self._sweep_incoming()
        return expired

    def _sweep_incoming(self) -> None:
        if not self._incoming_dir.is_dir():
            return
        horizon = self._clock.time() - ORPHAN_SECONDS
        for staged in self._incoming_dir.iterdir():
            try:
                touched = max(p.stat().st_mtime for p in [staged, *staged.rglob("*")])
            except (FileNotFoundError, NotADirectoryError):
                continue
            if touched < horizon:
                shutil.rmtree(staged, ignore_errors=True)

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
