"""The queue seam: hands committed job ids to workers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

#: What a worker calls to run one job: (job id, the pool's shutdown signal).
RunJob = Callable[[str, threading.Event], None]


class JobQueue(Protocol):
    """Hands committed job ids to workers, by priority then age.

    Cancelling is not the queue's business: a cancel is a state in the store that the running
    job's `CancelToken` sees, and a queued job whose row is cancelled is simply not claimed.
    """

    def start(self, *, recover: bool = True) -> None:
        """Start the workers; with ``recover``, queue again what a dead process left."""
        ...

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking work; running jobs stop and stay ``processing`` (they resume later)."""
        ...

    def enqueue(self, job_id: str, priority: int = 0) -> None: ...

    def running(self) -> set[str]:
        """Ids of the jobs this process runs now."""
        ...

    def depth(self) -> int:
        """How many job ids wait in this queue."""
        ...
