"""The queue seam."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

#: What a worker calls to run one job: (job id, cancel signal).
RunJob = Callable[[str, threading.Event], None]


class JobQueue(Protocol):
    """Hands committed job ids to workers; signals cancels to whoever runs them."""

    def start(self) -> None: ...
    def stop(self, timeout: float = 10.0) -> None: ...
    def enqueue(self, job_id: str, priority: int = 0) -> None: ...
    def cancel(self, job_id: str) -> None: ...
    def running(self) -> set[str]: ...
