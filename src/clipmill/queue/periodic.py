"""Periodic work (retention sweep, lease recovery): each task once per interval per cluster.

Every process that starts it runs the same loop; with a Redis client, each run first takes a
`redis.lock.Lock` named after the task with a time-to-live of one interval and never releases
it, so across the cluster a task runs at most once per interval whichever process wins, and a
process that dies mid-run blocks nobody for longer than that. Without Redis (embedded mode)
the one process simply runs it. Webhook retries need none of this: deliveries are claimed
with leases in the database (`clipmill.webhooks.outbox`), so every process may send them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    interval: float
    run: Callable[[], object]


class PeriodicWork:
    """A daemon thread per task; a run happens one interval after the last (never at start)."""

    def __init__(self, redis: Redis | None = None, *, prefix: str = "clipmill:periodic:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._tasks: list[PeriodicTask] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def add(self, name: str, interval: float, run: Callable[[], object]) -> None:
        self._tasks.append(PeriodicTask(name, interval, run))

    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        for task in self._tasks:
            thread = threading.Thread(
                target=self._loop, args=(task,), name=f"clipmill-{task.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._threads.clear()

    def run_once(self, task: PeriodicTask) -> bool:
        """Run ``task`` unless another process ran it within its interval; True if it ran."""
        if self._redis is not None:
            lock = self._redis.lock(self._prefix + task.name, timeout=task.interval)
            try:
                if not lock.acquire(blocking=False):
                    return False
            except RedisError:
                log.warning("no periodic lock for %s (Redis down?); skipping", task.name)
                return False
        task.run()
        return True

    def _loop(self, task: PeriodicTask) -> None:
        while not self._stop.wait(task.interval):
            try:
                self.run_once(task)
            except Exception:
                log.exception("periodic %s failed", task.name)
