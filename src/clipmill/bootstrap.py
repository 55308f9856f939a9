"""The composition root: one place that builds every service from Settings.

The API server, the worker and the CLI all call `bootstrap()` and get the same typed graph;
nothing creates engines, pools or clients at import time. Seams (event bus, storage, media
fetcher, transcribers, clip planner, listing extractors) may be passed in, which is how tests
use the in-memory implementations.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from clipmill import childproc
from clipmill.accounts.service import AccountService
from clipmill.accounts.vault import SecretBox
from clipmill.clock import Clock
from clipmill.config import QueueBackend, Settings
from clipmill.cookies.vault import CookieVault
from clipmill.db import make_engine, make_sessions, migrate
from clipmill.downloads.pipeline import DownloadPipeline
from clipmill.downloads.service import DownloadService
from clipmill.errors import DependencyMissing
from clipmill.events.bus import EventBus, InMemoryEventBus
from clipmill.jobs.enums import JobKind
from clipmill.jobs.lifecycle import JobLifecycle
from clipmill.jobs.models import User
from clipmill.jobs.progress import ProgressReporter
from clipmill.jobs.service import JobService
from clipmill.jobs.store import JobStore
from clipmill.media.fetcher import IsolatedFetcher, MediaFetcher
from clipmill.media.playlists import ExtractorClass
from clipmill.observability.metrics import Metrics
from clipmill.pipeline.runner import JobRunner, Pipeline
from clipmill.playlists.expand import ParentPipelines
from clipmill.playlists.service import ParentService
from clipmill.playlists.zipstream import ArchiveService
from clipmill.queue.base import JobQueue
from clipmill.queue.local import LocalQueue
from clipmill.shorts.clip_edits import ClipEditor
from clipmill.shorts.job_pipeline import ShortsPipeline
from clipmill.shorts.job_schemas import incoming_dir
from clipmill.shorts.job_service import ShortsService
from clipmill.shorts.llm import LlmRanker
from clipmill.shorts.render.clip import IsolatedRenderer
from clipmill.shorts.rerender import RenderPipeline
from clipmill.shorts.seams import (
    ClipPlanner,
    ClipRenderer,
    TranscriberFactory,
    WhisperTranscribers,
    default_planner,
)
from clipmill.storage.base import Storage
from clipmill.storage.local import LocalStorage
from clipmill.storage.signing import LinkSigner, load_or_create_secret
from clipmill.storage.sweeper import RetentionSweeper
from clipmill.webhooks.service import WebhookService

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
    store: JobStore
    jobs: JobService
    lifecycle: JobLifecycle
    reporter: ProgressReporter
    fetcher: MediaFetcher
    downloads: DownloadService
    parents: ParentService
    archives: ArchiveService
    shorts: ShortsService
    clip_editor: ClipEditor
    pipelines: dict[JobKind, Pipeline]
    runner: JobRunner
    queue: JobQueue
    sweeper: RetentionSweeper
    metrics: Metrics
    box: SecretBox
    accounts: AccountService
    cookies: CookieVault
    webhooks: WebhookService
    started: bool = False
    _lock_file: IO[str] | None = field(default=None, repr=False)

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
            self.webhooks.start()
            if self.settings.warm_spare:
                childproc.enable_spares("clipmill.media.isolation", ("clipmill.media.ytdlp",))
        if sweeper:
            self.sweeper.start()
        self.started = True

    def stop(self) -> None:
        self.queue.stop()
        self.webhooks.stop()
        if self.settings.warm_spare:
            childproc.shutdown_spares()
        self.sweeper.stop()
        self.metrics.close()
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
            session.add(User(id="local", name="local", is_admin=True))


def bootstrap(
    settings: Settings | None = None,
    *,
    bus: EventBus | None = None,
    storage: Storage | None = None,
    fetcher: MediaFetcher | None = None,
    transcribers: TranscriberFactory | None = None,
    planner: ClipPlanner | None = None,
    renderer: ClipRenderer | None = None,
    extractors: Sequence[ExtractorClass] = (),
    pipelines: Mapping[JobKind, Pipeline] | None = None,
    clock: Clock | None = None,
) -> Container:
    """Build (but do not start) clipmill from settings.

    ``pipelines`` replaces the pipelines of the kinds it names (tests hold jobs with it); the
    other keyword arguments replace one seam each.
    """
    settings = settings or Settings()
    if settings.queue is not QueueBackend.LOCAL:
        raise DependencyMissing(
            f"The {settings.queue.value} queue is not available in this version; "
            "use CLIPMILL_QUEUE=local."
        )
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
        clock=clock,
    )
    store = JobStore(sessions, bus)
    lifecycle = JobLifecycle(store)
    reporter = ProgressReporter(store)
    jobs = JobService(store, lifecycle, jobs_dir=settings.jobs_dir)
    fetcher = fetcher or IsolatedFetcher(settings)
    downloads = DownloadService(jobs, settings, fetcher)
    transcribers = transcribers or WhisperTranscribers(settings)
    planner = planner or default_planner()
    renderer = renderer or IsolatedRenderer(settings)
    ranker = LlmRanker.from_settings(settings)

    def shorts_pipeline(kind: JobKind) -> ShortsPipeline:
        return ShortsPipeline(
            kind,
            fetcher=fetcher,
            transcribers=transcribers,
            planner=planner,
            renderer=renderer,
            ranker=ranker,
        )

    all_pipelines: dict[JobKind, Pipeline] = {
        JobKind.DOWNLOAD: DownloadPipeline(fetcher),
        JobKind.SHORTS: shorts_pipeline(JobKind.SHORTS),
        JobKind.TRANSCRIBE: shorts_pipeline(JobKind.TRANSCRIBE),
        JobKind.RENDER: RenderPipeline(renderer),
        **ParentPipelines(extractors).as_registry(),
        **(pipelines or {}),
    }
    runner = JobRunner(lifecycle, reporter, storage, settings, all_pipelines, bus=bus)
    queue = LocalQueue(
        runner.run,
        concurrency=settings.max_concurrent_jobs,
        recover=lambda: [(j.id, j.priority) for j in lifecycle.requeue_lost()],
    )
    lifecycle.dispatcher = queue
    box = SecretBox.from_settings(settings)
    return Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        bus=bus,
        storage=storage,
        signer=signer,
        store=store,
        jobs=jobs,
        lifecycle=lifecycle,
        reporter=reporter,
        fetcher=fetcher,
        downloads=downloads,
        parents=ParentService(jobs, downloads, settings, extractors=extractors),
        archives=ArchiveService(jobs, lifecycle, storage, signer),
        shorts=ShortsService(jobs, lifecycle, storage, settings, downloads),
        clip_editor=ClipEditor(jobs, lifecycle, storage, settings),
        pipelines=all_pipelines,
        runner=runner,
        queue=queue,
        sweeper=RetentionSweeper(
            sessions,
            storage,
            retention_seconds=settings.retention_seconds,
            interval=settings.sweep_interval_seconds,
            jobs_dir=settings.jobs_dir,
            incoming_dir=incoming_dir(settings),
            clock=clock,
        ),
        metrics=Metrics(bus, queue),
        box=box,
        accounts=AccountService(sessions, settings, clock=clock),
        cookies=CookieVault(sessions, settings, box),
        webhooks=WebhookService(sessions, settings, bus, box, clock=clock),
    )
