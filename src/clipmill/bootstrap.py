"""The composition root: one place that builds every service from Settings.

The API server, the worker and the CLI all call `bootstrap()`; nothing creates engines, pools or
clients at import time.
"""

from __future__ import annotations

import fcntl
import logging
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from clipmill import childproc
from clipmill.config import Settings
from clipmill.db import make_engine, make_sessions, migrate
from clipmill.events.bus import EventBus, InMemoryEventBus
from clipmill.jobs.enums import JobKind
from clipmill.jobs.models import User
from clipmill.jobs.service import JobService
from clipmill.pipeline.registry import default_pipelines
from clipmill.pipeline.runner import JobRunner, Pipeline
from clipmill.queue.local import LocalQueue
from clipmill.storage.base import Storage
from clipmill.storage.local import LocalStorage
from clipmill.storage.signing import LinkSigner, load_or_create_secret
from clipmill.storage.sweeper import RetentionSweeper

log = logging.getLogger(__name__)

#: held (flock) by the process whose worker pool may recover the data dir's unfinished jobs
WORKER_LOCK = "workers.lock"


@dataclass
class Container:
    """Everything a process of clipmill needs, built once and started/stopped together."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    bus: EventBus
    storage: Storage
    signer: LinkSigner
    jobs: JobService
    runner: JobRunner
    queue: LocalQueue
    sweeper: RetentionSweeper
    extras: dict[str, Any] = field(default_factory=dict)
    started: bool = False
    _lock_file: IO[str] | None = None

    def start(self, *, workers: bool = True, sweeper: bool = True, recover: bool = True) -> None:
        """Start workers (re-queuing jobs a dead process left, unless `recover` is off).

        Recovery needs the data dir's worker lock: a second process on the same data dir must
        not mistake the first one's running jobs for lost ones and run them twice.
        """
        if workers:
            if recover and not self._take_worker_lock():
                log.warning(
                    "another clipmill process holds %s; not recovering its jobs",
                    self.settings.data_dir / WORKER_LOCK,
                )
                recover = False
            self.queue.start(recover=recover)
            if self.settings.warm_spare:
                childproc.enable_spares("clipmill.media.isolation", ("clipmill.media.ytdlp",))
        if sweeper:
            self.sweeper.start()
        self.started = True

    def stop(self) -> None:
        self.queue.stop()
        if self.settings.warm_spare:
            childproc.shutdown_spares()
        self.sweeper.stop()
        self.bus.close()
        self.engine.dispose()
        if self._lock_file is not None:
            self._lock_file.close()  # closing the descriptor releases the flock
            self._lock_file = None
        self.started = False

    def _take_worker_lock(self) -> bool:
        if self._lock_file is not None:
            return True
        handle = (self.settings.data_dir / WORKER_LOCK).open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        return True


def ensure_local_user(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        if session.scalar(select(User).where(User.id == "local")) is None:
            session.add(User(id="local", name="local"))


def bootstrap(
    settings: Settings | None = None,
    *,
    bus: EventBus | None = None,
    storage: Storage | None = None,
    pipelines: dict[JobKind, Pipeline] | None = None,
) -> Container:
    """Build (but do not start) clipmill from settings; seams may be passed in for tests."""
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    migrate(engine)
    sessions = make_sessions(engine)
    ensure_local_user(sessions)

    bus = bus or InMemoryEventBus()
    storage = storage or LocalStorage(settings.files_dir)
    signer = LinkSigner(
        settings.secret_key or load_or_create_secret(settings.data_dir),
        ttl=settings.link_ttl_seconds,
    )
    jobs = JobService(sessions, bus, jobs_dir=settings.jobs_dir)
    runner = JobRunner(
        jobs, storage, settings, pipelines if pipelines is not None else default_pipelines()
    )
    queue = LocalQueue(
        runner.run,
        concurrency=settings.max_concurrent_jobs,
        recover=lambda: [(j.id, j.priority) for j in jobs.requeue_lost()],
    )
    jobs.dispatcher = queue
    sweeper = RetentionSweeper(
        sessions,
        storage,
        retention_seconds=settings.retention_seconds,
        interval=settings.sweep_interval_seconds,
        jobs_dir=settings.jobs_dir,
    )
    return Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        bus=bus,
        storage=storage,
        signer=signer,
        jobs=jobs,
        runner=runner,
        queue=queue,
        sweeper=sweeper,
    )
