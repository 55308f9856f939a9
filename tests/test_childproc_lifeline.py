"""A child dies with its parent, SIGKILL included, and cleans up nothing; fencing kills what an
older attempt left running in a work dir, and nothing else.

The parent here is a separate interpreter started by the test (`PARENT`), so that the test can
SIGKILL it the way a fault injector kills ``clipmill serve``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clipmill import childproc
from clipmill.childproc import CHILD_RECORD, Emit, ProcessIdentity

REPO = Path(__file__).resolve().parent.parent
HANG_GUARD = 20.0  # seconds; only ever reached when something is broken

PARENT = """
import sys, threading
from pathlib import Path
from clipmill import childproc

target, work, spare = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "spare"
if spare:
    childproc.enable_spares("tests.test_childproc_lifeline")
    print("spare", childproc._spares["tests.test_childproc_lifeline"][0].pid, flush=True)

def on_message(kind, payload):
    if kind == "ready":
        print("ready", payload, flush=True)

result = childproc.run_in_child(
    "tests.test_childproc_lifeline:" + target, (str(work),), on_message=on_message, workdir=work
)
print("result", result, flush=True)
"""


# --- what the child runs -----------------------------------------------------------------


def _start(work: Path, emit: Emit) -> tuple[subprocess.Popen[bytes], Path]:
    """A grandchild in the child's process group (as yt-dlp starts ffmpeg), and a partial file
    the child would delete in ``finally``."""
    grandchild = subprocess.Popen(["sleep", "600"])
    partial = work / "media.mp4.part"
    partial.write_bytes(b"x" * 1000)
    emit("ready", {"child": os.getpid(), "grandchild": grandchild.pid})
    return grandchild, partial


def _clean_up(partial: Path) -> None:
    partial.unlink(missing_ok=True)
    (partial.parent / "cleaned-up").write_text("a child whose parent died cleaned up")


def chatty(emit: Emit, work: str) -> None:
    """Reports all the time: its next emit after the parent's death finds the pipe broken."""
    _grandchild, partial = _start(Path(work), emit)
    try:
        while True:
            emit("tick", None)
            time.sleep(0.02)
    finally:
        _clean_up(partial)


def quiet(emit: Emit, work: str) -> None:
    """Never reports again, blocked in a long sleep: only the lifeline can tell it."""
    _grandchild, partial = _start(Path(work), emit)
    try:
        time.sleep(600)
    finally:
        _clean_up(partial)


def waiting(emit: Emit, work: str) -> None:
    """Waits on its grandchild, as yt-dlp waits on an ffmpeg postprocessor."""
    grandchild, partial = _start(Path(work), emit)
    try:
        grandchild.wait()
    finally:
        _clean_up(partial)


def answer(emit: Emit, work: str) -> int:
    return os.getpid()


# --- helpers -----------------------------------------------------------------------------


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_until(predicate: Callable[[], bool], timeout: float = HANG_GUARD) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class Parent:
    """``PARENT`` running ``target``; ``lines`` collects what it prints."""

    children: list[int]

    def __init__(self, target: str, work: Path, *, spare: bool = False) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PARENT, target, str(work), "spare" if spare else "-"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )
        self.lines: dict[str, str] = {}
        self.children = []

    def read_until(self, word: str) -> str:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            key, _, value = line.strip().partition(" ")
            self.lines[key] = value
            if key in ("ready", "spare"):
                self.children.append(int(json.loads(value.replace("'", '"'))["child"])
                                     if key == "ready" else int(value))  # fmt: skip
            if key == word:
                return value
        raise AssertionError(f"the parent ended before printing {word!r}: {self.lines}")

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def parents() -> Iterator[list[Parent]]:
    started: list[Parent] = []
    yield started
    for parent in started:  # a failed test must not leave processes behind
        if parent.proc.poll() is None:
            parent.kill()
        for pid in parent.children:
            if alive(pid) and os.getpgid(pid) == pid:
                childproc._signal_group(pid, signal.SIGKILL)


# --- tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("spare", [False, True], ids=["fresh-child", "warm-spare"])
@pytest.mark.parametrize("target", ["chatty", "quiet", "waiting"])
def test_sigkill_of_the_parent_kills_child_and_grandchild_and_cleans_nothing(
    tmp_path: Path, parents: list[Parent], target: str, spare: bool
) -> None:
    parent = Parent(target, tmp_path, spare=spare)
    parents.append(parent)
    pids = json.loads(parent.read_until("ready").replace("'", '"'))
    if spare:
        assert pids["child"] == int(parent.lines["spare"])  # the job ran in the spare
    assert alive(pids["child"]) and alive(pids["grandchild"])
    assert json.loads((tmp_path / CHILD_RECORD).read_text())["pid"] == pids["child"]

    parent.kill()

    assert wait_until(lambda: not alive(pids["child"]) and not alive(pids["grandchild"]))
    assert (tmp_path / "media.mp4.part").read_bytes() == b"x" * 1000
    assert not (tmp_path / "cleaned-up").exists()


# --- fencing -----------------------------------------------------------------------------


def _orphan_group() -> tuple[subprocess.Popen[bytes], int]:
    """A leader in its own session with a member: what an older attempt leaves running."""
    leader = subprocess.Popen(
        ["sh", "-c", "sleep 600 & echo $!; wait"], start_new_session=True, stdout=subprocess.PIPE
    )
    assert leader.stdout is not None
    member = int(leader.stdout.readline())
    return leader, member


def test_fence_kills_the_recorded_group_that_still_runs(tmp_path: Path) -> None:
    leader, member = _orphan_group()
    try:
        identity = ProcessIdentity.of(leader.pid)
        assert identity is not None
        childproc._record(tmp_path, identity)
        childproc.fence(tmp_path)
        assert leader.wait(timeout=HANG_GUARD) == -signal.SIGKILL
        assert wait_until(lambda: not alive(member))
        assert not (tmp_path / CHILD_RECORD).exists()
    finally:
        childproc._signal_group(leader.pid, signal.SIGKILL)
        leader.wait()


def test_fence_kills_members_whose_leader_is_gone(tmp_path: Path) -> None:
    """An ffmpeg whose Python leader was killed alone keeps the group alive."""
    leader, member = _orphan_group()
    try:
        identity = ProcessIdentity.of(leader.pid)
        assert identity is not None
        childproc._record(tmp_path, identity)
        leader.kill()
        leader.wait()
        assert alive(member)
        childproc.fence(tmp_path)
        assert wait_until(lambda: not alive(member))
    finally:
        childproc._signal_group(leader.pid, signal.SIGKILL)


@pytest.mark.parametrize(
    "change",
    [
        {"started": -1},  # the pid was reused by a process that started at another time
        {"boot_id": "another-boot"},  # the record is from before a reboot
    ],
    ids=["pid-reused", "rebooted"],
)
def test_fence_leaves_alone_a_process_that_only_shares_the_pid(
    tmp_path: Path, change: dict[str, object]
) -> None:
    leader, member = _orphan_group()
    try:
        identity = ProcessIdentity.of(leader.pid)
        assert identity is not None
        record = {**identity.__dict__, **change}
        if record["started"] == -1:
            record["started"] = identity.started - 1
        (tmp_path / CHILD_RECORD).write_text(json.dumps(record))
        childproc.fence(tmp_path)
        assert alive(leader.pid) and alive(member)
        assert not (tmp_path / CHILD_RECORD).exists()  # forgotten: it is not ours
    finally:
        childproc._signal_group(leader.pid, signal.SIGKILL)
        leader.wait()


def test_a_finished_child_leaves_no_record(tmp_path: Path) -> None:
    pid = childproc.run_in_child(
        "tests.test_childproc_lifeline:answer", ("",), workdir=tmp_path / "work"
    )
    assert pid > 0
    assert list((tmp_path / "work").iterdir()) == []
