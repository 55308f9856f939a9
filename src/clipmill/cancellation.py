"""Cancellation: the signal long work polls, and the token a running job carries.

`CancelSignal` is all that media and shorts code needs (``is_set()``); a `threading.Event`
is one. `CancelToken` is the one a job runs with.

A cancel is a state in the store (the job's status becomes ``cancelled``), so a runner in any
process sees it: the token asks the store at most every ``poll_interval`` seconds whether its
attempt still owns the job. The event bus makes it quicker where it reaches (``cancelled`` status
events set the token at once), and a stopping worker pool sets it directly.

Long work polls ``is_set()`` often (the child-process relay every 50 ms, ffmpeg's loop every
100 ms); the store is asked only when the last answer is older than the poll interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class CancelSignal(Protocol):
    """Anything long work can poll to learn that it must stop."""

    def is_set(self) -> bool: ...


class CancelToken:
    """Set when the job was cancelled or superseded, or the worker is shutting down."""

    def __init__(
        self,
        still_owned: Callable[[], bool],
        *,
        shutdown: threading.Event | None = None,
        poll_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._still_owned = still_owned
        self._shutdown = shutdown or threading.Event()
        self._event = threading.Event()
        self._poll_interval = poll_interval
        self._clock = clock
        self._checked_at = clock()
        self._lock = threading.Lock()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        if self._event.is_set() or self._shutdown.is_set():
            return True
        now = self._clock()
        with self._lock:
            due = now - self._checked_at >= self._poll_interval
            if due:
                self._checked_at = now
        if due and not self._still_owned():
            self._event.set()
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, waking early when the token is set."""
        deadline = self._clock() + timeout
        while not self.is_set():
            remaining = deadline - self._clock()
            if remaining <= 0:
                return False
            self._event.wait(min(remaining, 0.05))
        return True

    @property
    def shutting_down(self) -> bool:
        """True when the worker (not a user) stopped the job: it resumes after a restart."""
        return self._shutdown.is_set()
