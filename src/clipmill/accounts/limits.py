"""Budgets and quotas: how much a caller may ask of the service.

Rate limits go through the `limits` library (a sliding-window counter; in memory, or in Redis
when ``rate_limit_storage`` or else ``redis_url`` names one, so several API processes share the
counters). Three budgets, each a `limits` rate string from settings:

- ``rate_limit_requests``: every request, per client IP and again per caller (API key, else
  account) once authentication has named one (the middleware in `clipmill.api.ratelimits`);
- ``rate_limit_login``: login, register and refresh attempts per IP (password guessing);
- ``rate_limit_jobs``: new jobs per caller, checked where jobs are created (`JobBudget`), so every
  route that makes a job spends it and nothing else does.

Quotas (`Quotas`) bound what one user holds: jobs waiting, jobs running at once, bytes stored.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from clipmill.accounts.principal import Principal
from clipmill.config import Settings
from clipmill.errors import QuotaExceeded, RateLimited, StorageQuotaExceeded
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.jobs.models import Job, StoredFile


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_after: float
    """Seconds until the window frees a hit."""

    def headers(self) -> dict[str, str]:
        reset = str(max(0, math.ceil(self.reset_after)))
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.remaining)),
            "RateLimit-Reset": reset,
        }
        if not self.allowed:
            out["Retry-After"] = str(max(1, math.ceil(self.reset_after)))
        return out


class RateLimiter:
    """One place that spends budgets; the middleware and `JobBudget` share it."""

    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.storage = storage or storage_from_string(limits_storage_uri(settings))
        self.strategy = SlidingWindowCounterRateLimiter(self.storage)
        self.requests = parse(settings.rate_limit_requests)
        self.login = parse(settings.rate_limit_login)
        self.jobs = parse(settings.rate_limit_jobs)

    def hit(self, item: RateLimitItem, *keys: str) -> Verdict:
        allowed = self.strategy.hit(item, *keys)
        stats = self.strategy.get_window_stats(item, *keys)
        return Verdict(
            allowed=allowed,
            limit=item.amount,
            remaining=stats.remaining,
            reset_after=max(0.0, stats.reset_time - time.time()),
        )

    def reset(self) -> None:
        self.storage.reset()


def limits_storage_uri(settings: Settings) -> str:
    """Where the counters live: ``rate_limit_storage`` if set, else Redis when clipmill has one
    (every API process then spends the same budget), else this process's memory."""
    if settings.rate_limit_storage:
        return settings.rate_limit_storage
    return settings.redis_url or "memory://"


class JobBudget:
    """`JobService` check: refuses a new job once the caller spent ``rate_limit_jobs``."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def __call__(self, owner: Principal, kind: JobKind, options: Mapping[str, Any]) -> None:
        verdict = self.limiter.hit(self.limiter.jobs, "jobs", owner.rate_key)
        if not verdict.allowed:
            raise RateLimited(
                f"Too many new jobs: the limit is {self.limiter.jobs.amount} per "
                f"{_window(self.limiter.jobs)}. Try again in {verdict.headers()['Retry-After']} s.",
                retry_after=verdict.headers()["Retry-After"],
            )


def _window(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return unit if item.multiples == 1 else f"{item.multiples} {unit}s"


WAITING = (JobStatus.PENDING.value, JobStatus.QUEUED.value)


class Quotas:
    """Per-user quotas, checked before a job exists (`JobService.add_check`). A quota of 0 is
    no quota. The running quota is enforced where a worker claims a job
    (`JobLifecycle.claim`'s ``owner_cap``)."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings

    def __call__(self, owner: Principal, kind: JobKind, options: Mapping[str, Any]) -> None:
        usage = self.usage(owner.user_id)
        waiting_cap = self.settings.quota_queued_jobs
        if waiting_cap and usage["jobs_waiting"] >= waiting_cap:
            raise QuotaExceeded(
                f"You have {usage['jobs_waiting']} jobs waiting to run, the most allowed. "
                "Wait for some to start, or cancel some.",
                limit=waiting_cap,
            )
        bytes_cap = self.settings.quota_storage_bytes
        if bytes_cap and usage["bytes_stored"] >= bytes_cap:
            raise StorageQuotaExceeded(
                f"Your files take {usage['bytes_stored']} bytes, your share of storage is "
                f"{bytes_cap}. Delete some jobs' files, or wait for them to expire.",
                limit=bytes_cap,
            )

    def usage(self, owner_id: str) -> dict[str, int]:
        """What ``owner_id`` holds now: jobs waiting and running, bytes of unexpired files."""
        with self.sessions() as session:
            counts = dict(
                session.execute(
                    select(Job.status, func.count())
                    .where(Job.owner_id == owner_id)
                    .where(Job.status.in_([*WAITING, JobStatus.PROCESSING.value]))
                    .group_by(Job.status)
                ).all()
            )
            stored = session.scalar(
                select(func.coalesce(func.sum(StoredFile.size), 0)).where(
                    StoredFile.owner_id == owner_id, StoredFile.expired_at.is_(None)
                )
            )
        return {
            "jobs_waiting": sum(int(counts.get(s, 0)) for s in WAITING),
            "jobs_running": int(counts.get(JobStatus.PROCESSING.value, 0)),
            "bytes_stored": int(stored or 0),
        }
