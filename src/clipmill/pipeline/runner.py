"""JobRunner: claims a job, runs its kind's pipeline, and records how it ended."""

from __future__ import annotations

import errno
import logging
import shutil
import threading
from collections.abc import Callable
from typing import Any

from clipmill.config import Settings
from clipmill.errors import ClipmillError, JobCancelled, StorageFull
from clipmill.jobs.enums import JobKind
from clipmill.jobs.service import JobService
from clipmill.pipeline.context import JobContext
from clipmill.storage.base import Storage

log = logging.getLogger(__name__)


class Waiting:
    """Returned by a parent's pipeline: its children run on; the parent finishes with them."""


WAITING = Waiting()

Pipeline = Callable[[JobContext], Waiting | None]


class JobRunner:
    def __init__(
        self,
        jobs: JobService,
        storage: Storage,
        settings: Settings,
        pipelines: dict[JobKind, Pipeline],
        services: dict[str, Any] | None = None,
    ) -> None:
        self.jobs = jobs
        self.storage = storage
        self.settings = settings
        self.pipelines = pipelines
        self.services = services or {}

    def run(self, job_id: str, cancel: threading.Event) -> None:
        job = self.jobs.claim(job_id)
        if job is None:
            return  # cancelled or already taken while it waited
        workdir = self.settings.jobs_dir / job.id
        workdir.mkdir(parents=True, exist_ok=True)
        ctx = JobContext(
            job=job,
            jobs=self.jobs,
            storage=self.storage,
            settings=self.settings,
            cancel=cancel,
            workdir=workdir,
            services=self.services,
        )
        pipeline = self.pipelines.get(job.kind)
        try:
            if pipeline is None:
                raise ClipmillError(
                    f"No pipeline for {job.kind.value} jobs.", code="unsupported_kind"
                )
            outcome = pipeline(ctx)
            ctx.check_cancelled()
            if outcome is WAITING:
                self.jobs.update(job.id, result={**ctx.result, "expanded": True})
                self.jobs.child_finished(job.id)  # children may all have ended already
                return
            self.jobs.complete(job.id, ctx.result)
            self._cleanup(workdir, keep_artifacts=job.kind in _RESUMABLE)
        except JobCancelled:
            if self.jobs.load(job.id).status.is_terminal:  # cancelled by a user
                self._cleanup(workdir, keep_artifacts=False)
            # else: the pool is stopping; the job stays processing and resumes after restart
        except ClipmillError as exc:
            self.jobs.log(job.id, f"{exc.code}: {exc.message}", "error")
            self.jobs.fail(job.id, exc.code, exc.message)
            self._cleanup(workdir, keep_artifacts=job.kind in _RESUMABLE)
        except OSError as exc:
            error: ClipmillError = (
                StorageFull("The disk is full; free space and retry the job.")
                if exc.errno == errno.ENOSPC
                else ClipmillError(f"I/O error: {exc}")
            )
            self.jobs.fail(job.id, error.code, error.message)
            self._cleanup(workdir, keep_artifacts=job.kind in _RESUMABLE)
        except Exception as exc:
            log.exception("job %s crashed", job.id)
            self.jobs.log(job.id, f"internal error: {exc!r}", "error")
            self.jobs.fail(job.id, "internal_error", "An unexpected error stopped the job.")
            self._cleanup(workdir, keep_artifacts=job.kind in _RESUMABLE)

    @staticmethod
    def _cleanup(workdir: Any, *, keep_artifacts: bool) -> None:
        """Remove partial files; resumable kinds keep stage artifacts for a retry."""
        if not keep_artifacts:
            shutil.rmtree(workdir, ignore_errors=True)


# kinds whose stage artifacts let a retry resume after the last finished stage
_RESUMABLE = frozenset({JobKind.SHORTS, JobKind.TRANSCRIBE})
