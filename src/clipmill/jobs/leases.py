"""Leases: which worker runs a job, until when, and how a lost one is told from a live one.

`claim` stamps the job with the claiming worker's `WorkerId` and an expiry; the worker's
`LeaseKeeper` renews the expiry of every job it runs (one thread per process) until the job
ends. Recovery (`JobLifecycle.requeue_lost`) queues a ``processing`` job again only when

* its lease expired (the worker, on whatever host, stopped renewing it), or
* its owner is provably gone: a process on *this* host that no longer exists (or a container
  in this process that stopped), which lets a restarted server resume at once, or
* it has no owner (the worker let go of it cleanly when it stopped, or it predates leases).

A live worker on another host is never second-guessed: only its lease's expiry frees its jobs.
Clocks of the hosts are assumed to agree (NTP) to well within ``lease_seconds``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from clipmill.jobs.enums import JobStatus
from clipmill.jobs.models import Job, utcnow

log = logging.getLogger(__name__)

_LIVE: set[str] = set()
"""Nonces of the lease keepers running in this process (a stopped container's are gone)."""
_LIVE_LOCK = threading.Lock()


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (tells it from a later process with the same pid)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if stat[0] in ("Z", "X") else stat[19]


@dataclass(frozen=True)
class WorkerId:
    """``host/pid/start-time/nonce``: one lease keeper, in one process, on one host."""

    host: str
    pid: int
    started: str
    nonce: str

    @classmethod
    def here(cls) -> WorkerId:
        pid = os.getpid()
        return cls(socket.gethostname(), pid, _start_time(pid) or "?", uuid.uuid4().hex[:12])

    @classmethod
    def parse(cls, text: str) -> WorkerId | None:
        parts = text.rsplit("/", 3)
        if len(parts) != 4 or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2], parts[3])

    def __str__(self) -> str:
        return f"{self.host}/{self.pid}/{self.started}/{self.nonce}"


def owner_gone(owner: str) -> bool:
    """True only when ``owner`` certainly runs nothing any more (see the module docstring)."""
    worker = WorkerId.parse(owner)
    if worker is None or worker.started == "?" or worker.host != socket.gethostname():
        return False
    if worker.pid == os.getpid():
        with _LIVE_LOCK:
            return worker.nonce not in _LIVE
    return _start_time(worker.pid) != worker.started


class LeaseKeeper:
    """Holds this worker's leases: renews them while their jobs run, from one thread."""

    def __init__(self, sessions: sessionmaker[Session], lease_seconds: float) -> None:
        self._sessions = sessions
        self.lease_seconds = lease_seconds
        self.owner = str(WorkerId.here())
        self._nonce = self.owner.rsplit("/", 1)[1]
        self._jobs: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def expiry(self) -> datetime:
        """When a lease taken or renewed now expires."""
        return utcnow() + timedelta(seconds=self.lease_seconds)

    def start(self) -> None:
        with _LIVE_LOCK:
            _LIVE.add(self._nonce)
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="clipmill-leases", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop renewing; this keeper's jobs count as lost to a recovery in this process."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        with _LIVE_LOCK:
            _LIVE.discard(self._nonce)

    def hold(self, job_id: str) -> None:
        with self._lock:
            self._jobs.add(job_id)

    def drop(self, job_id: str) -> None:
        with self._lock:
            self._jobs.discard(job_id)

    def renew(self) -> int:
        """Push the expiry of every lease held here; returns how many rows still had it."""
        with self._lock:
            ids = list(self._jobs)
        if not ids:
            return 0
        with self._sessions() as session, session.begin():
            result = session.execute(
                update(Job)
                .where(
                    Job.id.in_(ids),
                    Job.lease_owner == self.owner,
                    Job.status == JobStatus.PROCESSING.value,
                )
                .values(lease_expires_at=self.expiry())
                .execution_options(synchronize_session=False)
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _loop(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            try:
                self.renew()
            except Exception:  # a database blip: the next beat tries again, well before expiry
                log.warning("could not renew job leases", exc_info=True)
