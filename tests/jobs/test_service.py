"""JobService against a real SQLite file, with fake pipelines and the in-process queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipmill.accounts.principal import LOCAL_USER, Principal
from clipmill.errors import BrokenMedia, InvalidTransition, NotFound
from clipmill.jobs.enums import JobKind, JobStage, JobStatus
from clipmill.jobs.models import User
from clipmill.pipeline.context import JobContext
from tests.support.containers import Gate, make_container, wait_for, wait_terminal

OTHER = Principal(user_id="other", name="other")


def _add_other_user(container) -> None:  # type: ignore[no-untyped-def]
    with container.sessions() as s, s.begin():
        s.add(User(id="other", name="other"))


def test_a_job_runs_through_its_stages_and_events_are_stored(tmp_path: Path) -> None:
    def pipeline(ctx: JobContext) -> None:
        ctx.stage(JobStage.DOWNLOADING, "Downloading.")
        ctx.progress(50.0, speed=10.0, force=True)
        ctx.log("halfway")
        ctx.result = {"answer": 42}

    c = make_container(tmp_path, {JobKind.DOWNLOAD: pipeline})
    c.start()
    try:
        job = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {"url": "x"})
        assert job.status is JobStatus.QUEUED
        done = wait_terminal(c, job.id)
        assert done.status is JobStatus.COMPLETED and done.progress == 100.0
        assert done.result == {"answer": 42} and done.attempts == 1
        events = c.jobs.events(LOCAL_USER, job.id)
        assert [(e.status, e.stage) for e in events if e.type != "created"] == [
            ("queued", "initializing"),
            ("processing", "initializing"),
            ("processing", "downloading"),
            ("completed", "done"),
        ]
        assert [line.line for line in c.jobs.logs(LOCAL_USER, job.id)] == ["halfway"]
    finally:
        c.stop()


def test_a_clipmill_error_fails_the_job_with_its_code(tmp_path: Path) -> None:
    def pipeline(ctx: JobContext) -> None:
        raise BrokenMedia("The file is not a video.")

    c = make_container(tmp_path, {JobKind.DOWNLOAD: pipeline})
    c.start()
    try:
        job = wait_terminal(c, c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}).id)
        assert (job.status, job.error_code, job.error_message) == (
            JobStatus.FAILED,
            "broken_media",
            "The file is not a video.",
        )
    finally:
        c.stop()


def test_an_unexpected_crash_is_internal_error_and_the_worker_survives(tmp_path: Path) -> None:
    calls = []

    def pipeline(ctx: JobContext) -> None:
        calls.append(ctx.job_id)
        if len(calls) == 1:
            raise RuntimeError("boom")

    c = make_container(tmp_path, {JobKind.DOWNLOAD: pipeline}, max_concurrent_jobs=1)
    c.start()
    try:
        first = wait_terminal(c, c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}).id)
        second = wait_terminal(c, c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}).id)
        assert first.error_code == "internal_error" and second.status is JobStatus.COMPLETED
    finally:
        c.stop()


def test_cancel_stops_a_running_job_and_cannot_be_repeated(tmp_path: Path) -> None:
    gate = Gate()
    c = make_container(tmp_path, {JobKind.DOWNLOAD: gate})
    c.start()
    try:
        job = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {})
        wait_for(lambda: job.id in gate.started)
        (c.settings.jobs_dir / job.id / "partial.part").write_bytes(b"x")
        assert c.jobs.cancel(LOCAL_USER, job.id).status is JobStatus.CANCELLED
        wait_for(lambda: not c.queue.running())
        assert not (c.settings.jobs_dir / job.id).exists()  # partial files removed
        with pytest.raises(InvalidTransition):
            c.jobs.cancel(LOCAL_USER, job.id)
    finally:
        c.stop()


def test_retry_requeues_a_failed_job(tmp_path: Path) -> None:
    attempts = []

    def flaky(ctx: JobContext) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise BrokenMedia("first time fails")

    c = make_container(tmp_path, {JobKind.DOWNLOAD: flaky})
    c.start()
    try:
        job = wait_terminal(c, c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}).id)
        assert job.status is JobStatus.FAILED
        c.jobs.retry(LOCAL_USER, job.id)
        wait_for(lambda: c.lifecycle.load(job.id).status is JobStatus.COMPLETED)
        again = c.lifecycle.load(job.id)
        assert again.attempts == 2 and again.error_code is None
        with pytest.raises(InvalidTransition):
            c.jobs.retry(LOCAL_USER, job.id)  # completed jobs are final
    finally:
        c.stop()


def test_another_users_job_is_not_found(tmp_path: Path) -> None:
    c = make_container(tmp_path, {JobKind.DOWNLOAD: lambda ctx: None})
    _add_other_user(c)
    job = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}, enqueue=False)
    for call in (c.jobs.get, c.jobs.cancel, c.jobs.retry, c.jobs.logs, c.jobs.files):
        with pytest.raises(NotFound):
            call(OTHER, job.id)  # type: ignore[operator]
    assert c.jobs.list_jobs(OTHER).total == 0 and c.jobs.list_jobs(LOCAL_USER).total == 1
    c.stop()


def test_list_filters_and_pages(tmp_path: Path) -> None:
    c = make_container(tmp_path, {})
    for _ in range(3):
        c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}, enqueue=False)
    c.jobs.create(LOCAL_USER, JobKind.SHORTS, {}, enqueue=False)
    page = c.jobs.list_jobs(LOCAL_USER, kinds=[JobKind.DOWNLOAD], limit=2, offset=0)
    assert page.total == 3 and len(page.items) == 2
    assert c.jobs.list_jobs(LOCAL_USER, statuses=[JobStatus.PENDING]).total == 4
    assert c.jobs.list_jobs(LOCAL_USER, statuses=[JobStatus.QUEUED]).total == 0
    c.stop()


def test_queue_runs_by_priority_then_fifo_within_the_limit(tmp_path: Path) -> None:
    gate = Gate()
    c = make_container(tmp_path, {JobKind.DOWNLOAD: gate}, max_concurrent_jobs=1)
    blocker = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {})
    low1 = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}, priority=0)
    low2 = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}, priority=0)
    high = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}, priority=5)
    c.start()
    try:
        wait_for(lambda: len(gate.started) == 1)
        gate.release.set()
        for j in (blocker, low1, low2, high):
            wait_terminal(c, j.id)
        assert gate.started == [high.id, blocker.id, low1.id, low2.id]
        assert gate.max_parallel == 1
    finally:
        c.stop()


def test_concurrency_limit_holds(tmp_path: Path) -> None:
    gate = Gate()
    c = make_container(tmp_path, {JobKind.DOWNLOAD: gate}, max_concurrent_jobs=3)
    c.start()
    try:
        jobs = [c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}) for _ in range(8)]
        wait_for(lambda: len(gate.started) == 3)
        assert len(c.queue.running()) == 3
        gate.release.set()
        for j in jobs:
            wait_terminal(c, j.id)
        assert gate.max_parallel == 3 and len(set(gate.started)) == 8
    finally:
        c.stop()


def test_restart_recovers_queued_and_processing_jobs(tmp_path: Path) -> None:
    gate = Gate()
    c = make_container(tmp_path, {JobKind.DOWNLOAD: gate}, max_concurrent_jobs=1)
    c.start()
    running = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {})
    waiting = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {})
    wait_for(lambda: running.id in gate.started)
    c.stop()  # the process "dies" with one job processing and one queued
    assert c.lifecycle.load(running.id).status is JobStatus.PROCESSING
    assert c.lifecycle.load(waiting.id).status is JobStatus.QUEUED

    gate2 = Gate()
    gate2.release.set()
    c2 = make_container(tmp_path, {JobKind.DOWNLOAD: gate2}, max_concurrent_jobs=1)
    c2.start()
    try:
        assert wait_terminal(c2, running.id).status is JobStatus.COMPLETED
        assert wait_terminal(c2, waiting.id).status is JobStatus.COMPLETED
        assert sorted(gate2.started) == sorted([running.id, waiting.id])  # each exactly once
        messages = [e.message for e in c2.jobs.events(LOCAL_USER, running.id)]
        assert "Recovered after a restart." in messages
    finally:
        c2.stop()


def test_parent_completes_when_children_end_and_fails_when_none_succeed(tmp_path: Path) -> None:
    def child(ctx: JobContext) -> None:
        if ctx.options.get("fail"):
            raise BrokenMedia("bad item")

    c = make_container(tmp_path, {JobKind.DOWNLOAD: child})
    c.start()
    try:
        for fails, expected in (
            ([False, True], JobStatus.COMPLETED),
            ([True, True], JobStatus.FAILED),
        ):
            parent = c.jobs.create(LOCAL_USER, JobKind.BATCH, {}, enqueue=False)
            c.lifecycle.update(parent.id, None, result={"expanded": True})
            with c.sessions() as s, s.begin():  # a parent is processing while items run
                from clipmill.jobs.models import Job

                s.get(Job, parent.id).status = "processing"  # type: ignore[union-attr]
            parent = c.lifecycle.load(parent.id)
            kids = [
                c.lifecycle.create_child(parent, JobKind.DOWNLOAD, {"fail": f}, item_index=i)
                for i, f in enumerate(fails)
            ]
            for k in kids:
                wait_terminal(c, k.id)
            done = wait_terminal(c, parent.id)
            assert done.status is expected
            assert done.result and done.result["counts"]["total"] == 2
    finally:
        c.stop()


def test_a_full_disk_fails_the_job_with_storage_full(tmp_path: Path) -> None:
    import errno

    def pipeline(ctx: JobContext) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    c = make_container(tmp_path, {JobKind.DOWNLOAD: pipeline})
    c.start()
    try:
        job = wait_terminal(c, c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}).id)
        assert (job.status, job.error_code) == (JobStatus.FAILED, "storage_full")
    finally:
        c.stop()


def test_a_second_process_on_the_same_data_dir_does_not_rerun_running_jobs(tmp_path: Path) -> None:
    gate = Gate()
    first = make_container(tmp_path, {JobKind.DOWNLOAD: gate}, max_concurrent_jobs=1)
    first.start()
    job = first.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {})
    wait_for(lambda: job.id in gate.started)

    other_gate = Gate()
    second = make_container(tmp_path, {JobKind.DOWNLOAD: other_gate})
    second.start()  # cannot take the worker lock: must leave the running job alone
    try:
        assert first.lifecycle.load(job.id).status is JobStatus.PROCESSING
        assert other_gate.started == []
        gate.release.set()
        assert wait_terminal(first, job.id).status is JobStatus.COMPLETED
        assert other_gate.started == []
    finally:
        second.stop()
        first.stop()
