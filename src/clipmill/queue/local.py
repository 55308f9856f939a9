"""In-process worker pool: priority then FIFO, at most N jobs at once, durable through the DB.

The pool holds only job ids; the job rows are the truth. On start, `recover` returns every job
that was queued or processing when the last process died, and they are queued again.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Iterable

from clipmill.queue.base import RunJob

log = logging.getLogger(__name__)


class LocalQueue:
    """The embedded `JobQueue`: a pool of threads in this process.

    A cancelled job that still waits here stays in the heap; claiming it fails because its row
    is cancelled.
    """

    def __init__(
        self,
        run_job: RunJob,
        *,
        concurrency: int,
        recover: Callable[[], Iterable[tuple[str, int]]] | None = None,
    ) -> None:
        self._run_job = run_job
        self._concurrency = concurrency
        self._recover = recover
        self._heap: list[tuple[int, int, str]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._queued: set[str] = set()
        self._running: set[str] = set()
        self._again: dict[str, int] = {}
        """Jobs queued again while a previous attempt still winds down (a retry right after a
        cancel): offered again as soon as that attempt returns."""
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._shutdown = threading.Event()

    def start(self, *, recover: bool = True) -> None:
        self._stopping = False
        self._shutdown.clear()
        if recover and self._recover is not None:
            for job_id, priority in self._recover():
                self.enqueue(job_id, priority)
        for n in range(self._concurrency):
            thread = threading.Thread(target=self._work, name=f"clipmill-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking work; signal running jobs to stop (they stay `processing` and resume)."""
        with self._cond:
            self._stopping = True
            self._shutdown.set()
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def enqueue(self, job_id: str, priority: int = 0) -> None:
        with self._cond:
            if job_id in self._running:
                self._again[job_id] = priority  # never the same job twice at once
                return
            if job_id in self._queued:
                return
            heapq.heappush(self._heap, (-priority, next(self._seq), job_id))
            self._queued.add(job_id)
            self._cond.notify()

    def enqueue_later(self, job_id: str, priority: int, delay: float) -> None:
        """`enqueue` after ``delay`` seconds (a job that must wait its turn)."""
        timer = threading.Timer(delay, self._enqueue_unless_stopped, (job_id, priority))
        timer.daemon = True
        timer.start()

    def _enqueue_unless_stopped(self, job_id: str, priority: int) -> None:
        if not self._stopping:
            self.enqueue(job_id, priority)

    def running(self) -> set[str]:
        with self._cond:
            return set(self._running)

    def depth(self) -> int:
        with self._cond:
            return len(self._heap)

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                _, _, job_id = heapq.heappop(self._heap)
                self._queued.discard(job_id)
                self._running.add(job_id)
            try:
                self._run_job(job_id, self._shutdown)
            except Exception:  # the runner records failures; this only guards the thread
                log.exception("worker crashed running job %s", job_id)
            finally:
                with self._cond:
                    self._running.discard(job_id)
                    again = self._again.pop(job_id, None)
                if again is not None:
                    self.enqueue(job_id, again)
