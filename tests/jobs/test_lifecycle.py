"""Attempts fence stale runners; cancel is a state any process sees; listeners cannot break jobs."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from clipmill.accounts.principal import LOCAL_USER
from clipmill.errors import InvalidTransition, Superseded
from clipmill.events.bus import JobEventMessage
from clipmill.jobs.enums import JobKind, JobStage, JobStatus
from clipmill.pipeline.context import JobContext
from tests.support.containers import Gate, make_container, wait_for, wait_terminal


def test_a_superseded_attempt_cannot_write(tmp_path: Path) -> None:
    c = make_container(tmp_path, {JobKind.DOWNLOAD: lambda ctx: None})
    job = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}, enqueue=False)
    c.lifecycle.submit(job.id)
    first = c.lifecycle.claim(job.id)
    assert first is not None and first.attempts == 1
    # the worker running attempt 1 is lost; recovery queues the job and attempt 2 claims it
    assert [j.id for j in c.lifecycle.requeue_lost()] == [job.id]
    second = c.lifecycle.claim(job.id)
    assert second is not None and second.attempts == 2

    with pytest.raises(Superseded):
        c.reporter.set_stage(job.id, 1, JobStage.DOWNLOADING, "stale")
    with pytest.raises(Superseded):
        c.reporter.report(job.id, 1, 99.0, force=True)
    with pytest.raises(Superseded):
        c.lifecycle.update(job.id, 1, title="stale")
    with pytest.raises(Superseded):
        c.lifecycle.add_file(job.id, 1, role="media", key="k", name="n", size=1, content_type="x")
    with pytest.raises(Superseded):
        c.reporter.log(job.id, "stale line", attempt=1)
    assert c.lifecycle.complete(job.id, 1, {"stale": True}) is False
    assert c.lifecycle.fail(job.id, 1, "stale", "stale") is False

    now = c.lifecycle.load(job.id)
    assert (now.status, now.attempts, now.title, now.result) == (
        JobStatus.PROCESSING, 2, None, None,
    )  # fmt: skip
    assert c.lifecycle.files_of([job.id])[job.id] == []
    assert c.lifecycle.complete(job.id, 2, {"ok": True}) is True
    c.stop()


def test_only_failed_or_cancelled_jobs_can_be_retried(tmp_path: Path) -> None:
    gate = Gate()
    c = make_container(tmp_path, {JobKind.DOWNLOAD: gate})
    c.start()
    try:
        job = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {})
        wait_for(lambda: job.id in gate.started)
        marker = c.settings.jobs_dir / job.id / "keep.part"
        marker.write_bytes(b"running")
        for force in (False, True):
            with pytest.raises(InvalidTransition, match="Only a failed or cancelled job"):
                c.jobs.retry(LOCAL_USER, job.id, force=force)
        assert marker.read_bytes() == b"running"  # force did not delete the running job's dir
        assert c.lifecycle.load(job.id).status is JobStatus.PROCESSING
        gate.release.set()
        assert wait_terminal(c, job.id).status is JobStatus.COMPLETED
        with pytest.raises(InvalidTransition):
            c.jobs.retry(LOCAL_USER, job.id)
    finally:
        c.stop()


def test_a_cancel_written_by_another_process_stops_the_run(tmp_path: Path) -> None:
    """Two containers on one data dir stand for two processes: the API's cancel is a row, and
    the worker's token finds it in the store (no shared memory, no event bus between them)."""
    gate = Gate()
    worker = make_container(tmp_path, {JobKind.DOWNLOAD: gate})
    api = make_container(tmp_path, {JobKind.DOWNLOAD: gate})
    worker.start()
    try:
        job = api.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}, enqueue=False)
        worker.lifecycle.submit(job.id)
        wait_for(lambda: job.id in gate.started)
        api.jobs.cancel(LOCAL_USER, job.id)
        wait_for(lambda: job.id not in worker.queue.running(), timeout=15)
        assert worker.lifecycle.load(job.id).status is JobStatus.CANCELLED
        assert not (tmp_path / "jobs" / job.id).exists()  # a user's cancel cleans up
    finally:
        worker.stop()
        api.stop()


def test_a_failing_listener_does_not_stop_a_parent(tmp_path: Path) -> None:
    def child(ctx: JobContext) -> None:
        ctx.result = {"ok": True}

    c = make_container(tmp_path, {JobKind.DOWNLOAD: child})
    seen: list[str] = []

    def broken(message: JobEventMessage) -> None:
        seen.append(message.status)
        raise RuntimeError("a webhook sender with a bug")

    c.bus.add_listener(broken)
    c.start()
    try:
        parent = c.jobs.create(LOCAL_USER, JobKind.BATCH, {}, enqueue=False)
        with c.sessions() as s, s.begin():  # a parent is processing while items run
            from clipmill.jobs.models import Job

            s.get(Job, parent.id).status = "processing"  # type: ignore[union-attr]
        c.lifecycle.update(parent.id, None, result={"expanded": True})
        parent = c.lifecycle.load(parent.id)
        item = c.lifecycle.create_child(parent, JobKind.DOWNLOAD, {}, item_index=1)
        assert wait_terminal(c, item.id).status is JobStatus.COMPLETED
        assert wait_terminal(c, parent.id).status is JobStatus.COMPLETED
        assert "completed" in seen
    finally:
        c.stop()


def test_a_finished_download_shows_every_byte_and_no_eta(tmp_path: Path) -> None:
    def transfer(ctx: JobContext) -> None:
        info = {"downloaded_bytes": 1024, "total_bytes": 2_003_305, "speed": 1e6, "eta": 2.0}
        ctx.progress(0.05, force=True, **info)

    c = make_container(tmp_path, {JobKind.DOWNLOAD: transfer})
    c.start()
    try:
        job = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {})
        done = wait_terminal(c, job.id)
        assert done.progress == 100.0
        assert done.progress_info == {"downloaded_bytes": 2_003_305, "total_bytes": 2_003_305}
    finally:
        c.stop()


def test_job_logs_and_errors_show_no_server_paths(tmp_path: Path) -> None:
    from clipmill.errors import BrokenMedia

    workdirs: list[Path] = []

    def noisy(ctx: JobContext) -> None:
        workdirs.append(ctx.workdir)
        ctx.log(f"[download] Destination: {ctx.workdir}/download/media.mp4")
        raise BrokenMedia(
            f"[hls @ 0x55b6d7360280] Invalid data in file:{ctx.workdir}/download/media.mp4"
        )

    c = make_container(tmp_path, {JobKind.DOWNLOAD: noisy})
    c.start()
    try:
        job = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {})
        done = wait_terminal(c, job.id)
        lines = [line.line for line in c.jobs.logs(LOCAL_USER, job.id)]
        shown = [*lines, done.error_message or ""]
        assert all(str(tmp_path) not in text and "0x55b6" not in text for text in shown)
        assert "Destination: media.mp4" in lines[0]
        assert done.error_message == "[hls] Invalid data in media.mp4"
    finally:
        c.stop()


def test_workers_stop_without_losing_the_job(tmp_path: Path) -> None:
    """A stopping pool (not a user) leaves the job processing with its work dir, to resume."""
    started = threading.Event()

    def long(ctx: JobContext) -> None:
        (ctx.workdir / "media.mp4.part").write_bytes(b"half")
        started.set()
        while True:
            ctx.check_cancelled()
            ctx.cancel.wait(0.05)

    c = make_container(tmp_path, {JobKind.DOWNLOAD: long})
    c.start()
    job = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {})
    assert started.wait(10)
    c.stop()
    assert c.lifecycle.load(job.id).status is JobStatus.PROCESSING
    assert (tmp_path / "jobs" / job.id / "media.mp4.part").read_bytes() == b"half"
