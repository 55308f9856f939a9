"""The composition root: one place that builds every service from Settings.

The API server, the worker and the CLI all call `bootstrap()` and get the same typed graph;
nothing creates engines, pools or clients at import time. Seams (event bus, storage, media
fetcher, transcribers, clip planner, listing extractors) may be passed in, which is how tests
use the in-memory implementations.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from clipmill import childproc
from clipmill.accounts.limits import JobBudget, Quotas, RateLimiter
from clipmill.accounts.preferences import PreferenceStore
from clipmill.accounts.service import AccountService
from clipmill.accounts.vault import SecretBox
from clipmill.clock import Clock
from clipmill.config import AuthMode, QueueBackend, Settings
from clipmill.cookies.vault import CookieVault
from clipmill.db import make_engine, make_sessions, migrate
from clipmill.downloads.pipeline import DownloadPipeline
from clipmill.downloads.service import DownloadService
from clipmill.errors import DependencyMissing
from clipmill.events.bus import EventBus, InMemoryEventBus
from clipmill.events.redis_bus import RedisEventBus
from clipmill.jobs.enums import JobKind
from clipmill.jobs.leases import LeaseKeeper
from clipmill.jobs.lifecycle import JobLifecycle
from clipmill.jobs.models import User
from clipmill.jobs.progress import ProgressReporter
from clipmill.jobs.retention import RetentionPolicy, RetentionService
from clipmill.jobs.service import JobService
from clipmill.jobs.stats import JobStats
from clipmill.jobs.store import JobStore
from clipmill.media.fetcher import IsolatedFetcher, MediaFetcher
from clipmill.media.netguard import NetGuard
from clipmill.media.playlists import ExtractorClass
from clipmill.media.thumbnails import ThumbnailProxy
from clipmill.observability.metrics import Metrics
from clipmill.pipeline.runner import JobRunner, Pipeline
from clipmill.playlists.expand import ParentPipelines
from clipmill.playlists.service import ParentService
from clipmill.playlists.zipstream import ArchiveService
from clipmill.queue.base import JobQueue
from clipmill.queue.local import LocalQueue
from clipmill.queue.periodic import PeriodicWork
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
from clipmill.storage.factory import make_storage
from clipmill.storage.signing import LinkSigner, load_or_create_secret
from clipmill.storage.sweeper import RetentionSweeper
from clipmill.webhooks.service import WebhookService

if TYPE_CHECKING:
    from redis import Redis

    from clipmill.queue.celery import CeleryQueue

log = logging.getLogger(__name__)


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
    retention: RetentionService
    metrics: Metrics
    box: SecretBox
    limiter: RateLimiter
    quotas: Quotas
    stats: JobStats
    accounts: AccountService
    preferences: PreferenceStore
    cookies: CookieVault
    webhooks: WebhookService
    thumbnails: ThumbnailProxy
    leases: LeaseKeeper
    periodic: PeriodicWork
    """Retention sweeps and lease recovery (once per cluster in scaled mode)."""
    runs_jobs: bool = True
    """Whether this process runs jobs: the embedded server, or `clipmill worker` (an API
    process in scaled mode only sends them)."""
    started: bool = False

    def start(self, *, workers: bool = True, sweeper: bool = True, recover: bool = True) -> None:
        """Start workers (re-queuing jobs a lost process left, unless `recover` is off) and the
        periodic work (unless `sweeper` is off).

        Recovery takes only jobs whose worker is gone: their lease expired, or its process no
        longer exists (`clipmill.jobs.leases`); a second process on the same data dir or
        database leaves the first one's running jobs alone.
        """
        if workers:
            self.leases.start()
            self.queue.start(recover=recover)
            self.webhooks.start()
            if self.settings.warm_spare and self.runs_jobs:
                childproc.enable_spares("clipmill.media.isolation", ("clipmill.media.ytdlp",))
        if sweeper:
            self.periodic.start()
        self.started = True

    def stop(self) -> None:
        self.periodic.stop()
        self.queue.stop()
        self.leases.stop()
        self.webhooks.stop()
        if self.settings.warm_spare and self.runs_jobs:
            childproc.shutdown_spares()
        self.metrics.close()
        self.bus.close()
        self.engine.dispose()
        self.started = False


def ensure_local_user(sessions: sessionmaker[Session]) -> None:
    """The row behind `LOCAL_USER`: the owner of everything with ``auth=none`` (and of the
    CLI's own downloads in any mode)."""
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
    scaled = settings.queue is QueueBackend.CELERY
    if scaled and not settings.redis_url:
        raise DependencyMissing(
            "CLIPMILL_QUEUE=celery needs CLIPMILL_REDIS_URL (the broker and the event bus)."
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    migrate(engine)
    sessions = make_sessions(engine)
    if settings.auth is AuthMode.NONE:
        ensure_local_user(sessions)  # with accounts on, nobody should meet an admin never made

    # with Redis, events cross processes (API tier, workers) in either queue mode
    bus = bus or (RedisEventBus(settings.redis_url) if settings.redis_url else InMemoryEventBus())
    storage = storage or make_storage(settings)
    signer = LinkSigner(
        settings.secret_key or load_or_create_secret(settings.data_dir),
        ttl=settings.link_ttl_seconds,
        clock=clock,
    )
    store = JobStore(sessions, bus)
    lifecycle = JobLifecycle(store)
    reporter = ProgressReporter(store)
    jobs = JobService(store, lifecycle, jobs_dir=settings.jobs_dir)
    limiter = RateLimiter(settings)
    quotas = Quotas(sessions, settings)
    jobs.add_check(quotas)
    jobs.add_check(JobBudget(limiter))
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
    leases = LeaseKeeper(sessions, settings.lease_seconds)
    runner = JobRunner(
        lifecycle, reporter, storage, settings, all_pipelines, bus=bus, leases=leases
    )
    queue: LocalQueue | CeleryQueue
    lock_redis = None
    if scaled:
        from clipmill.queue.celery import CeleryQueue  # celery is imported in scaled mode only

        queue = CeleryQueue(settings, running=runner.running)
        bus.add_listener(queue.on_event, local_only=True)
        lock_redis = queue.redis
    else:
        queue = LocalQueue(
            runner.run,
            concurrency=settings.max_concurrent_jobs,
            recover=lambda: [(j.id, j.priority) for j in lifecycle.requeue_lost()],
        )
    lifecycle.dispatcher = queue
    if settings.quota_concurrent_jobs:
        runner.defer = queue.enqueue_later
    stats = JobStats(sessions)
    sweeper = RetentionSweeper(
        sessions,
        storage,
        retention_seconds=settings.retention_seconds,
        interval=settings.sweep_interval_seconds,
        jobs_dir=settings.jobs_dir,
        incoming_dir=incoming_dir(settings),
        clock=clock,
    )
    periodic = _periodic_work(settings, lifecycle, queue, sweeper, lock_redis)
    box = SecretBox.from_settings(settings)
    cookies = CookieVault(sessions, settings, box)
    jobs.add_check(cookies.check_job)
    runner.cookies = cookies
    jobs.add_check(WebhookService.option_check(settings))
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
        sweeper=sweeper,
        retention=RetentionService(store, RetentionPolicy.from_settings(settings), clock),
        metrics=Metrics(bus, queue, stats, running=stats.running if scaled else None),
        stats=stats,
        box=box,
        limiter=limiter,
        quotas=quotas,
        accounts=AccountService(sessions, settings, clock=clock),
        preferences=PreferenceStore(sessions, clock=clock),
        cookies=cookies,
        webhooks=WebhookService(sessions, settings, bus, box, clock=clock),
        thumbnails=ThumbnailProxy(NetGuard.from_settings(settings)),
        leases=leases,
        periodic=periodic,
        runs_jobs=not scaled,
    )


def _periodic_work(
    settings: Settings,
    lifecycle: JobLifecycle,
    queue: JobQueue,
    sweeper: RetentionSweeper,
    lock_redis: Redis | None,
) -> PeriodicWork:
    """The retention sweep and the lease recovery; in scaled mode each run takes a Redis lock,
    so the cluster runs each once per interval whichever processes start them."""
    scaled = settings.queue is QueueBackend.CELERY
    periodic = PeriodicWork(lock_redis)
    periodic.add("sweep", settings.sweep_interval_seconds, sweeper.sweep)

    def recover() -> None:
        max_lost = settings.max_attempts if scaled else 0
        again = lifecycle.requeue_lost(queued=False, max_lost=max_lost)
        if scaled:  # messages a Redis without persistence lost
            again += lifecycle.stale_queued(settings.requeue_stale_seconds)
        for job in again:
            queue.enqueue(job.id, job.priority)

    periodic.add("recover", settings.lease_seconds / 2, recover)
    return periodic
