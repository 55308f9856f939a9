"""The in-process queue: a job queued again while its last attempt winds down runs again."""

from __future__ import annotations

import threading

from clipmill.queue.local import LocalQueue
from tests.support.containers import wait_for


def test_a_job_queued_during_its_own_run_is_run_again_afterwards() -> None:
    release = threading.Event()
    runs: list[str] = []

    def run(job_id: str, _shutdown: threading.Event) -> None:
        runs.append(job_id)
        if len(runs) == 1:
            release.wait(10)

    queue = LocalQueue(run, concurrency=2)
    queue.start(recover=False)
    try:
        queue.enqueue("a")
        wait_for(lambda: runs == ["a"])
        queue.enqueue("a")  # a retry right after a cancel: the old attempt still runs
        queue.enqueue("a")  # asked twice: still one more run, never two at once
        assert queue.depth() == 0 and queue.running() == {"a"}
        release.set()
        wait_for(lambda: runs == ["a", "a"])
        wait_for(lambda: not queue.running())
        assert runs == ["a", "a"]
    finally:
        queue.stop()


def test_a_held_back_job_is_offered_again_later() -> None:
    runs: list[str] = []
    queue = LocalQueue(lambda job_id, _s: runs.append(job_id), concurrency=1)
    queue.start(recover=False)
    try:
        queue.enqueue_later("b", 0, 0.05)
        wait_for(lambda: runs == ["b"])
    finally:
        queue.stop()
