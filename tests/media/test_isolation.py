"""Downloads in a killable child process: progress relay, cancel, crash and resume, and a new
attempt fenced from an older attempt's child that still runs in the work dir."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from clipmill import childproc
from clipmill.config import Settings
from clipmill.errors import BlockedAddress, DownloadFailed, FileTooLarge, JobCancelled
from clipmill.media import ffmpeg, isolation
from clipmill.media.models import DownloadProgress
from clipmill.media.options import DownloadOptions
from tests.media.conftest import make_settings
from tests.support.media_factory import MediaFiles
from tests.support.media_server import MediaServer

pytestmark = pytest.mark.integration


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is ``pgid`` (read from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members.append(int(entry.name))
    return members


class Recorder:
    """Collects what the child reports; can cancel or kill when a condition is met."""

    def __init__(self) -> None:
        self.progress: list[DownloadProgress] = []
        self.logs: list[str] = []
        self.pids: list[int] = []
        self.cancel = threading.Event()
        self.cancelled_at: float | None = None

    def on_progress(self, update: DownloadProgress) -> None:
        self.progress.append(update)

    def cancel_now(self) -> None:
        if not self.cancel.is_set():
            self.cancelled_at = time.monotonic()
            self.cancel.set()

    def run(
        self, url: str, workdir: Path, settings: Settings, keep: bool = False, **fields: Any
    ) -> Any:
        return isolation.run_download(
            url,
            DownloadOptions(**fields),
            workdir,
            settings=settings,
            on_progress=self.on_progress,
            on_log=self.logs.append,
            cancel=self.cancel,
            on_start=self.pids.append,
            keep_partial_on_cancel=keep,
        )


def test_download_in_child_relays_progress(
    media_server: MediaServer, media_settings: Settings, tmp_path: Path
) -> None:
    recorder = Recorder()
    result = recorder.run(media_server.url("hls/master.m3u8"), tmp_path / "job", media_settings,
                          quality="720p")  # fmt: skip
    probe = ffmpeg.probe_file(result.files[0].path)
    assert probe.video is not None and probe.video.height == 720
    downloading = [p for p in recorder.progress if p.stage == "downloading"]
    assert downloading and downloading[-1].percent == 100.0
    assert any(p.fragment_count == 2 for p in downloading)
    assert any("[download]" in line for line in recorder.logs)
    assert group_members(recorder.pids[0]) == []


def test_errors_come_back_as_the_same_class(media_server: MediaServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_filesize=100_000)
    with pytest.raises(FileTooLarge) as caught:
        Recorder().run(media_server.url("big.mp4"), tmp_path / "job", settings)
    assert caught.value.code == "file_too_large"
    assert caught.value.details["size"] > 100_000
    assert list((tmp_path / "job").iterdir()) == []


@pytest.mark.parametrize("how", ["direct", "chunked", "hls"])
def test_a_refused_download_leaves_nothing_behind(
    media_server: MediaServer, tmp_path: Path, how: str
) -> None:
    """The child never cleans up (its parent may be gone and a newer attempt resuming): the
    supervising side removes what a failed download wrote, however the bytes arrived."""
    settings = make_settings(tmp_path, max_filesize=300_000)
    url = {
        "direct": media_server.url("big.mp4"),
        "chunked": media_server.chunked_url("big.mp4"),
        "hls": media_server.url("hls/master.m3u8"),  # best = the 2160p variant, ~1 MB
    }[how]
    with pytest.raises(FileTooLarge):
        Recorder().run(url, tmp_path / "job", settings)
    assert list((tmp_path / "job").iterdir()) == []


def test_cancel_mid_download(
    media_server: MediaServer,
    media_files: MediaFiles,
    media_settings: Settings,
    tmp_path: Path,
    throttled_url: Any,
) -> None:
    recorder = Recorder()
    workdir = tmp_path / "job"
    original = recorder.on_progress

    def on_progress(update: DownloadProgress) -> None:
        original(update)
        if (update.downloaded_bytes or 0) > 60_000:
            recorder.cancel_now()

    recorder.on_progress = on_progress  # type: ignore[method-assign]
    with pytest.raises(JobCancelled):
        recorder.run(throttled_url(media_files.big, 100_000), workdir, media_settings)
    assert recorder.cancelled_at is not None
    assert list(workdir.iterdir()) == []  # no .part left behind
    assert group_members(recorder.pids[0]) == []


def test_cancel_while_the_origin_stalls(
    media_server: MediaServer, media_settings: Settings, tmp_path: Path
) -> None:
    """No bytes arrive, so no hook runs: only killing the process can stop it."""
    recorder = Recorder()
    threading.Timer(2.0, recorder.cancel_now).start()
    with pytest.raises(JobCancelled):
        recorder.run(media_server.stall_url("big.mp4"), tmp_path / "job", media_settings)
    assert recorder.cancelled_at is not None
    assert group_members(recorder.pids[0]) == []


def test_cancel_kills_ffmpeg_too(
    media_server: MediaServer, media_settings: Settings, tmp_path: Path
) -> None:
    """Cancel while ffmpeg cuts a section: the whole process group goes."""
    recorder = Recorder()
    original = recorder.on_progress

    def on_progress(update: DownloadProgress) -> None:
        original(update)
        if update.message and update.message.startswith("Converting: cutting"):
            recorder.cancel_now()

    recorder.on_progress = on_progress  # type: ignore[method-assign]
    with pytest.raises(JobCancelled):
        recorder.run(media_server.url("big.mp4"), tmp_path / "job", media_settings,
                     sections=[{"start": 0, "end": 19}])  # fmt: skip
    assert group_members(recorder.pids[0]) == []
    assert list((tmp_path / "job").iterdir()) == []


def test_resume_after_the_process_is_killed(
    media_server: MediaServer,
    media_files: MediaFiles,
    media_settings: Settings,
    tmp_path: Path,
    throttled_url: Any,
) -> None:
    workdir = tmp_path / "job"
    first = Recorder()
    killed = threading.Event()

    def kill_when_halfway(update: DownloadProgress) -> None:
        if (update.downloaded_bytes or 0) > 300_000 and not killed.is_set():
            killed.set()
            os.kill(first.pids[0], signal.SIGKILL)  # a crash or a restart, not a cancel

    first.on_progress = kill_when_halfway  # type: ignore[method-assign]
    with pytest.raises(DownloadFailed) as caught:
        first.run(throttled_url(media_files.big, 400_000), workdir, media_settings)
    assert caught.value.details.get("crashed")
    part = workdir / "media.mp4.part"
    assert part.is_file()
    kept = part.stat().st_size
    assert 0 < kept < media_files.big.stat().st_size

    media_server.clear_requests()
    result = Recorder().run(media_server.url("big.mp4"), workdir, media_settings)
    ranges = [r.range for r in media_server.requests_for("/big.mp4") if r.range]
    resumed_from = [int(r.split("=")[1].split("-")[0]) for r in ranges]
    assert any(start >= kept > 0 for start in resumed_from), ranges
    assert result.files[0].path.read_bytes() == media_files.big.read_bytes()


def test_redirect_to_a_private_address_fails_the_download(
    media_server: MediaServer, media_settings: Settings, tmp_path: Path
) -> None:
    """The page is allowed (127.0.0.1); where it redirects to (127.0.0.2) is not."""
    target = media_server.url("big.mp4").replace("127.0.0.1", "127.0.0.2")
    with pytest.raises(BlockedAddress) as caught:
        Recorder().run(media_server.redirect_url(target), tmp_path / "job", media_settings)
    assert caught.value.code == "blocked_address"
    assert list((tmp_path / "job").iterdir()) == []


def test_cancel_can_keep_the_partial_file_for_a_restart(
    media_files: MediaFiles, media_settings: Settings, tmp_path: Path, throttled_url: Any
) -> None:
    recorder = Recorder()
    original = recorder.on_progress

    def on_progress(update: DownloadProgress) -> None:
        original(update)
        if (update.downloaded_bytes or 0) > 100_000:
            recorder.cancel_now()

    recorder.on_progress = on_progress  # type: ignore[method-assign]
    with pytest.raises(JobCancelled):
        recorder.run(throttled_url(media_files.big, 400_000), tmp_path / "job", media_settings,
                     keep=True)  # fmt: skip
    assert (tmp_path / "job" / "media.mp4.part").stat().st_size > 0


# An older attempt's child that outlived its parent and starts deleting the download's files as
# soon as someone else takes the work dir over (what the orphan of a SIGKILLed server did when
# its socket timed out). It waits for the work dir's child record to change.
_ORPHAN = """
old=$(cat .child.json)
while [ "$(cat .child.json 2>/dev/null)" = "$old" ]; do sleep 0.01; done
while :; do rm -f media.mp4.part media.mp4; sleep 0.01; done
"""


def test_a_new_attempt_kills_an_older_attempts_child_before_it_touches_the_files(
    media_server: MediaServer,
    media_files: MediaFiles,
    media_settings: Settings,
    tmp_path: Path,
    throttled_url: Any,
) -> None:
    workdir = tmp_path / "job"
    first = Recorder()

    def crash_when_halfway(update: DownloadProgress) -> None:
        if (update.downloaded_bytes or 0) > 300_000 and first.pids:
            os.kill(first.pids[0], signal.SIGKILL)

    first.on_progress = crash_when_halfway  # type: ignore[method-assign]
    with pytest.raises(DownloadFailed):
        first.run(throttled_url(media_files.big, 400_000), workdir, media_settings)
    kept = (workdir / "media.mp4.part").stat().st_size

    orphan = subprocess.Popen(["sh", "-c", _ORPHAN], cwd=workdir, start_new_session=True)
    try:
        recorded = childproc.ProcessIdentity.of(orphan.pid)
        assert recorded is not None
        childproc._record(workdir, recorded)  # as if it were the older attempt's child
        media_server.clear_requests()
        result = Recorder().run(media_server.url("big.mp4"), workdir, media_settings)
        assert orphan.wait(timeout=10) == -signal.SIGKILL  # killed by the new attempt
    finally:
        childproc._signal_group(orphan.pid, signal.SIGKILL)
        orphan.wait()
    assert result.files[0].path.read_bytes() == media_files.big.read_bytes()
    ranges = [r.range for r in media_server.requests_for("/big.mp4") if r.range]
    assert f"bytes={kept}-" in ranges  # it resumed the older attempt's .part
    assert not (workdir / childproc.CHILD_RECORD).exists()  # the finished child is forgotten
