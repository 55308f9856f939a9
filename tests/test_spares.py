"""Warm spare children: a download uses the one started ahead of time; nothing outlives us, not
even when we are SIGKILLed; a spare is not killed by the end of the thread that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from clipmill import childproc
from tests.support.api import api_client
from tests.support.containers import make_container, wait_for
from tests.support.media_factory import MediaFiles

REPO = Path(__file__).resolve().parent.parent


def our_children(parent: int | None = None) -> set[int]:
    me = str(parent or os.getpid())
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] not in ("Z", "X"):
                pids.add(int(entry.name))
    return pids


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.integration
def test_a_download_takes_the_spare_and_a_new_one_replaces_it(
    tmp_path: Path, media_url: Callable[..., str], media_files: MediaFiles
) -> None:
    before = our_children()
    c = make_container(tmp_path, warm_spare=True)
    started: list[int] = []
    original = childproc._start_child

    def spy(request, workdir=None):  # type: ignore[no-untyped-def]
        proc, receiver, recorded = original(request, workdir)
        started.append(proc.pid)
        return proc, receiver, recorded

    try:
        with api_client(c) as api:
            wait_for(lambda: len(our_children() - before) == 1)  # the spare is up before any job
            (first_spare,) = our_children() - before
            childproc._start_child = spy  # type: ignore[assignment]
            try:
                job_id = api.post("/api/v1/download", json={"url": media_url(media_files.mp4)})
                job_id = job_id.json()["id"]
                wait_for(lambda: api.get(f"/api/v1/jobs/{job_id}").json()["status"]
                         in ("completed", "failed"), 60)  # fmt: skip
                assert api.get(f"/api/v1/jobs/{job_id}").json()["status"] == "completed"
            finally:
                childproc._start_child = original  # type: ignore[assignment]
            assert started == [first_spare]  # the job ran in the child started ahead of time
            wait_for(lambda: len(our_children() - before) == 1)  # and a new spare waits
            assert our_children() - before != {first_spare}
    finally:
        c.stop()
    wait_for(lambda: our_children() <= before, 5)


def test_an_unused_spare_exits_when_its_parent_lets_go() -> None:
    proc, receiver, outbox = childproc._spawn(("json",))
    try:
        outbox.close()  # what shutdown_spares does
        assert proc.wait(timeout=10) == 0
    finally:
        receiver.close()


SERVER_LIKE = """
from clipmill import childproc
childproc.enable_spares("clipmill.media.isolation", ("clipmill.media.ytdlp",))  # as bootstrap
print(childproc._spares["clipmill.media.isolation"][0].pid, flush=True)
import time
time.sleep(600)
"""


def test_an_unused_spare_dies_when_its_parent_is_sigkilled() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", SERVER_LIKE], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert parent.stdout is not None
    spare = int(parent.stdout.readline())
    try:
        time.sleep(0.5)  # let it get into its imports, or past them
        assert alive(spare)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        wait_for(lambda: not alive(spare), 20)
    finally:
        parent.stdout.close()
        if alive(spare):
            childproc._signal_group(spare, signal.SIGKILL)


def _catches_sighup(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    caught = next(line for line in status if line.startswith("SigCgt:")).split()[1]
    return bool(int(caught, 16) & (1 << (signal.SIGHUP - 1)))


def test_a_spare_outlives_the_thread_that_started_it() -> None:
    """PR_SET_PDEATHSIG fires when the *thread* that forked the child ends (checked: without
    the handler's parent check, this spare dies); a spare started by one worker thread and used
    after that thread ended must still do its work."""
    module = "tests.test_childproc_lifeline"

    def start_spare_then_end() -> None:
        childproc.enable_spares(module)
        pid = childproc._spares[module][0].pid
        wait_for(lambda: _catches_sighup(pid), 20)  # the child has armed PR_SET_PDEATHSIG
        time.sleep(0.3)  # (the prctl call follows the handler within microseconds)

    starter = threading.Thread(target=start_spare_then_end)
    starter.start()
    starter.join()
    try:
        spare_pid = childproc._spares[module][0].pid
        time.sleep(0.5)  # time for a wrongly heeded parent-death signal to act
        assert alive(spare_pid)
        assert childproc.run_in_child(f"{module}:answer", ("",)) == spare_pid
    finally:
        childproc.shutdown_spares()
