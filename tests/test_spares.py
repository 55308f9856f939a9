"""Warm spare children: a download uses the one started ahead of time; nothing outlives us."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from clipmill import childproc
from clipmill.accounts.principal import LOCAL_USER
from clipmill.downloads.schemas import DownloadRequest
from clipmill.downloads.service import DownloadService
from tests.support.containers import make_container, wait_for, wait_terminal
from tests.support.media_factory import MediaFiles


def our_children() -> set[int]:
    me = str(os.getpid())
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


@pytest.mark.integration
def test_a_download_takes_the_spare_and_a_new_one_replaces_it(
    tmp_path: Path, media_url: Callable[..., str], media_files: MediaFiles
) -> None:
    before = our_children()
    c = make_container(tmp_path, None, warm_spare=True)
    c.start()
    try:
        wait_for(lambda: len(our_children() - before) == 1)  # the spare is up before any job
        (first_spare,) = our_children() - before
        started: list[int] = []
        original = childproc._start_child

        def spy(request):  # type: ignore[no-untyped-def]
            proc, receiver = original(request)
            started.append(proc.pid)
            return proc, receiver

        childproc._start_child = spy  # type: ignore[assignment]
        try:
            job = DownloadService(c.jobs, c.settings).submit(
                LOCAL_USER, DownloadRequest(url=media_url(media_files.mp4))
            )
            assert wait_terminal(c, job.id).status.value == "completed"
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
        outbox.close()  # what happens to the pipe when this process dies
        assert proc.wait(timeout=10) == 0
    finally:
        receiver.close()
