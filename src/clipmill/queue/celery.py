"""Celery on Redis (scaled mode): the API tier sends job ids, `clipmill worker` runs them.

What Celery and Redis do, and what stays ours:

* A task carries a job id only; the job row is the truth. Delivery is at least once
  (``task_acks_late``, ``task_reject_on_worker_lost``, one message prefetched per slot), and a
  duplicate is harmless: `JobLifecycle.claim` moves a row from ``queued`` once.
* Redis's visibility timeout re-delivers a message whose worker vanished; it is set longer than
  any job may run (`Settings.broker_visibility_seconds`) so a slow job is never run twice.
  Re-running a job whose worker died is the lease recovery's business (`clipmill.jobs.leases`),
  which also counts the attempts lost that way and fails the job ``too_many_attempts`` after
  ``max_attempts`` of them (the dead-letter state), so a job that kills its worker stops.
* Job priorities -10..10 map onto the Redis transport's ten priority steps (0 is the first).
* A cancel is a state in the store; the queued task is also revoked (a running one is not
  terminated: its `CancelToken` sees the cancel through the store or the event bus).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from celery import Celery
from kombu.exceptions import OperationalError
from redis import Redis
from redis.exceptions import RedisError

from clipmill.config import Settings
from clipmill.events.bus import JobEventMessage
from clipmill.jobs.enums import JobStatus
from clipmill.queue.base import RunJob

log = logging.getLogger(__name__)

TASK_NAME = "clipmill.run_job"
QUEUE_NAME = "clipmill"
PRIORITY_STEPS = list(range(10))
_TASK_KEY = "clipmill:task:{}"


def celery_priority(priority: int) -> int:
    """Job priority (-10 lowest .. 10 highest) to a Redis priority step (9 last .. 0 first)."""
    clamped = max(-10, min(10, priority))
    return int((10 - clamped) * 9 / 20 + 0.5)


def make_celery(settings: Settings) -> Celery:
    """A Celery app for ``settings`` (nothing connects until it is used)."""
    if not settings.redis_url:
        raise ValueError("CLIPMILL_REDIS_URL is required with CLIPMILL_QUEUE=celery")
    app = Celery("clipmill", broker=settings.redis_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=QUEUE_NAME,
        task_default_priority=celery_priority(0),
        broker_transport_options={
            "visibility_timeout": settings.broker_visibility_seconds,
            "queue_order_strategy": "priority",
            "priority_steps": PRIORITY_STEPS,
            "sep": ":",
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker waits out a Redis restart
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=True,  # revoke reaches the workers
    )
    return app


def register_runner(app: Celery, run_job: RunJob, shutdown: threading.Event) -> None:
    """Register the task that runs a job in this (worker) process."""

    @app.task(name=TASK_NAME, ignore_result=True)
    def run_job_task(job_id: str) -> None:
        run_job(job_id, shutdown)


class CeleryQueue:
    """The scaled `JobQueue`: sends job ids to Redis; `clipmill worker` processes run them.

    ``running`` reports the jobs of this process's runner (none in an API process).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        running: Callable[[], set[str]],
        app: Celery | None = None,
    ) -> None:
        self.settings = settings
        self.app = app or make_celery(settings)
        assert settings.redis_url is not None
        self.redis = Redis.from_url(
            settings.redis_url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30
        )
        self._running = running

    def start(self, *, recover: bool = True) -> None:
        """Nothing to start: workers are their own processes; recovery is periodic work."""

    def stop(self, timeout: float = 10.0) -> None:
        self.redis.close()
        self.app.close()  # the producer's broker connections

    def enqueue(self, job_id: str, priority: int = 0) -> None:
        self._send(job_id, priority, None)

    def enqueue_later(self, job_id: str, priority: int, delay: float) -> None:
        """`enqueue` after ``delay`` seconds (a job held back by its owner's running quota)."""
        self._send(job_id, priority, delay)

    def _send(self, job_id: str, priority: int, countdown: float | None) -> None:
        task_id = f"{job_id}.{uuid.uuid4().hex[:8]}"  # revoked ids stay revoked: never reuse
        try:
            self.redis.set(
                _TASK_KEY.format(job_id), task_id, ex=self.settings.broker_visibility_seconds
            )
            self.app.send_task(
                TASK_NAME,
                args=[job_id],
                task_id=task_id,
                priority=celery_priority(priority),
                countdown=countdown,
            )
        except (RedisError, OSError, OperationalError):
            # the row stays queued; the stale-queue sweep sends it again
            log.warning("could not send job %s to the broker", job_id, exc_info=True)

    def revoke(self, job_id: str) -> None:
        """Drop the job's waiting task, if any (best effort: claim refuses it anyway)."""
        try:
            task_id = self.redis.get(_TASK_KEY.format(job_id))
            if isinstance(task_id, bytes):
                self.app.control.revoke(task_id.decode())
        except Exception:
            log.warning("could not revoke the task of job %s", job_id, exc_info=True)

    def on_event(self, message: JobEventMessage) -> None:
        """A bus listener: a job cancelled here has its waiting task revoked."""
        if message.type == "status" and message.status == JobStatus.CANCELLED.value:
            self.revoke(message.job_id)

    def running(self) -> set[str]:
        return self._running()

    def depth(self) -> int:
        """Messages waiting in Redis over every priority step."""
        keys = [QUEUE_NAME] + [f"{QUEUE_NAME}:{p}" for p in PRIORITY_STEPS[1:]]
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.llen(key)
                lengths: list[Any] = pipe.execute()
        except RedisError:
            return 0
        return sum(int(n) for n in lengths)
