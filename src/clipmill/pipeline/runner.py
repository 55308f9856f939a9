"""JobRunner: claims a job, runs its kind's pipeline, and records how it ended.

A run is one *attempt* (see `clipmill.jobs.lifecycle`). It ends in one of four ways:

* the pipeline returns: the job completes (a parent instead waits for its items);
* it raises a `ClipmillError` (or an OSError, or a bug): the job fails with a code;
* it is cancelled by a user: the work dir goes;
* the worker is shutting down, or a newer attempt owns the job: nothing is written and nothing
  is deleted, because the job resumes (or already runs) elsewhere from the same work dir.
"""

from __future__ import annotations

import errno
import logging
import shutil
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from clipmill.cancellation import CancelToken
from clipmill.config import Settings
from clipmill.cookies.jobfile import CookieSource, remove_leftovers
from clipmill.errors import ClipmillError, JobCancelled, StorageFull, Superseded
from clipmill.events.bus import EventBus, JobEventMessage
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.jobs.leases import LeaseKeeper
from clipmill.jobs.lifecycle import HeldBack, JobLifecycle
from clipmill.jobs.progress import ProgressReporter
from clipmill.jobs.schemas import JobRecord
from clipmill.observability.redact import redact
from clipmill.pipeline.context import JobContext
from clipmill.storage.base import Storage

DEFER_SECONDS = 1.0
"""How soon a job held back by its owner's running quota is offered again."""

log = logging.getLogger(__name__)


class Waiting:
    """Returned by a parent's pipeline: its children run on; the parent finishes with them."""


WAITING = Waiting()

Pipeline = Callable[[JobContext], Waiting | None]

# kinds whose stage artifacts let a retry resume after the last finished stage
_RESUMABLE = frozenset({JobKind.SHORTS, JobKind.TRANSCRIBE})


class JobRunner:
    def __init__(
        self,
        lifecycle: JobLifecycle,
        reporter: ProgressReporter,
        storage: Storage,
        settings: Settings,
        pipelines: Mapping[JobKind, Pipeline],
        *,
        bus: EventBus | None = None,
        leases: LeaseKeeper | None = None,
        cancel_poll_interval: float = 1.0,
    ) -> None:
        self.lifecycle = lifecycle
        self.reporter = reporter
        self.storage = storage
        self.settings = settings
        self.pipelines = dict(pipelines)
        self._poll = cancel_poll_interval
        self.leases = leases
        """Stamps and renews the lease of every job this runner runs (`clipmill.jobs.leases`)."""
        self._tokens: dict[str, CancelToken] = {}
        self._lock = threading.Lock()
        self.cookies: CookieSource | None = None
        """Where jobs that name a ``cookies_id`` get the file (the cookie vault)."""
        self.defer: Callable[[str, int, float], None] | None = None
        """``defer(job_id, priority, seconds)``: offer a job held back by its owner's running
        quota (``settings.quota_concurrent_jobs``) to the queue again later."""
        if bus is not None:
            bus.add_listener(self._on_event)

    def run(self, job_id: str, shutdown: threading.Event) -> None:
        """Run one attempt of ``job_id``; ``shutdown`` is set when the worker pool stops."""
        cap = self.settings.quota_concurrent_jobs if self.defer is not None else 0
        leases = self.leases
        try:
            job = self.lifecycle.claim(
                job_id,
                owner_cap=cap,
                lease_owner=leases.owner if leases is not None else None,
                lease_until=leases.expiry() if leases is not None else None,
            )
        except HeldBack as held:
            assert self.defer is not None
            self.defer(job_id, held.priority, DEFER_SECONDS)
            return
        if job is None:
            return  # cancelled or already taken while it waited
        attempt = job.attempts
        token = CancelToken(
            lambda: self.lifecycle.owns(job_id, attempt),
            shutdown=shutdown,
            poll_interval=self._poll,
        )
        with self._lock:
            self._tokens[job_id] = token
        if leases is not None:
            leases.hold(job_id)
        try:
            self._run(job, token)
        finally:
            if leases is not None:
                leases.drop(job_id)
            with self._lock:
                self._tokens.pop(job_id, None)
            self.reporter.forget(job_id)
            if shutdown.is_set():
                self._release(job_id, attempt)

    def _release(self, job_id: str, attempt: int) -> None:
        """Stopped without an ending: let go, so a recovery resumes the job without waiting for
        the lease to expire or counting a lost attempt (a no-op once the job ended)."""
        try:
            self.lifecycle.release(job_id, attempt)
        except Exception:  # the lease then simply expires
            log.warning("job %s: could not release its lease", job_id, exc_info=True)

    def _run(self, job: JobRecord, token: CancelToken) -> None:
        workdir = self.settings.jobs_dir / job.id
        workdir.mkdir(parents=True, exist_ok=True)
        remove_leftovers(workdir)  # a killed attempt's decrypted cookies
        ctx = JobContext(
            job=job,
            jobs=self.lifecycle,
            reporter=self.reporter,
            storage=self.storage,
            settings=self.settings,
            cancel=token,
            workdir=workdir,
            cookies=self.cookies,
        )
        keep = job.kind in _RESUMABLE
        try:
            pipeline = self.pipelines.get(job.kind)
            if pipeline is None:
                raise ClipmillError(
                    f"No pipeline for {job.kind.value} jobs.", code="unsupported_kind"
                )
            outcome = pipeline(ctx)
            ctx.check_cancelled()
            if outcome is WAITING:
                self.lifecycle.update(job.id, ctx.attempt, result={**ctx.result, "expanded": True})
                self.lifecycle.child_finished(job.id)  # children may all have ended already
                return
            if self.lifecycle.complete(job.id, ctx.attempt, ctx.result):
                self._cleanup(workdir, keep_artifacts=keep)
        except (JobCancelled, Superseded):
            self._after_cancel(job, ctx.attempt, workdir)
        except ClipmillError as exc:
            self._fail(ctx, exc, workdir, keep)
        except OSError as exc:
            log.warning("job %s: I/O error", job.id, exc_info=True)
            error = (
                StorageFull("The disk is full; free space and retry the job.")
                if exc.errno == errno.ENOSPC
                else ClipmillError(f"A file operation failed: {redact(str(exc))}")
            )
            self._fail(ctx, error, workdir, keep)
        except Exception as exc:
            log.exception("job %s crashed", job.id)
            self._fail(
                ctx,
                ClipmillError(f"An unexpected error stopped the job ({type(exc).__name__})."),
                workdir,
                keep,
            )

    def _fail(self, ctx: JobContext, exc: ClipmillError, workdir: Path, keep: bool) -> None:
        message = redact(ctx.mask_secrets(exc.message))
        self.reporter.log(ctx.job_id, f"{exc.code}: {message}", "error")
        if self.lifecycle.fail(ctx.job_id, ctx.attempt, exc.code, message):
            self._cleanup(workdir, keep_artifacts=keep)

    def _after_cancel(self, job: JobRecord, attempt: int, workdir: Path) -> None:
        """Stopped without an ending of its own: clean up only after a user's cancel."""
        state = self.lifecycle.status(job.id)
        if state is None:
            return
        status, attempts = state
        if status is JobStatus.CANCELLED and attempts == attempt:
            self._cleanup(workdir, keep_artifacts=False)  # a user's cancel, no newer attempt
        # else the pool is stopping (the job stays processing and resumes after a restart), or
        # a newer attempt already owns the work dir

    def _on_event(self, message: JobEventMessage) -> None:
        """A status event of a job this runner runs: a cancel reaches the token at once."""
        if message.type != "status" or message.status != JobStatus.CANCELLED.value:
            return
        with self._lock:
            token = self._tokens.get(message.job_id)
        if token is not None:
            token.set()

    def running(self) -> set[str]:
        with self._lock:
            return set(self._tokens)

    def cancel_token(self, job_id: str) -> CancelToken:
        """The token of a job this runner is running (KeyError otherwise)."""
        with self._lock:
            return self._tokens[job_id]

    @staticmethod
    def _cleanup(workdir: Path, *, keep_artifacts: bool) -> None:
        """Remove partial files; resumable kinds keep stage artifacts for a retry."""
        if not keep_artifacts:
            shutil.rmtree(workdir, ignore_errors=True)
