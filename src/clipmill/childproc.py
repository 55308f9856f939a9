"""Run a function in a child process that can be killed, whatever it is doing.

Cancelling cooperatively only works while the work calls back: an origin that stalls, an ffmpeg
postprocessor or a Whisper batch in native code does not. So long-running work (downloads,
transcription) runs in a child process that leads its own session and process group, and a
cancel kills the group: the child and everything it started (SIGTERM, then SIGKILL after
``KILL_GRACE`` seconds).

How the child starts: a fresh interpreter (fork + exec, like multiprocessing's *spawn*), so it
is safe however many threads the parent runs; fork alone would copy locks other threads hold.
It is started with ``subprocess`` rather than ``multiprocessing.Process`` for three reasons:
``start_new_session`` makes it a group leader atomically (no window before ``os.setsid`` in
which a kill would miss it), spawn leaves a resource-tracker process running next to the
parent for good, and spawn re-imports the parent's ``__main__`` in the child. The plumbing is
still multiprocessing's: the request and every message travel pickled over
``multiprocessing.connection.Connection`` objects on two inherited pipe fds.

The target is named as ``"package.module:function"`` and called in the child as
``function(emit, *args)``; ``emit(kind, payload)`` sends a message the parent hands to
``on_message``. A ClipmillError raised in the child is raised again in the parent as the same
class with the same code and details.

**A child dies with its parent**, however the parent ends (SIGKILL included), and cleans up
nothing on the way: after a restart a newer attempt may already be resuming its files.

- The *lifeline*: a pipe nobody writes to, whose write end only this process holds. The kernel
  closes it when this process ends, so a thread in the child that waits on the read end sees
  EOF exactly then, and SIGKILLs the child's whole process group at once (yt-dlp's ffmpeg
  too). The EOF stays readable, so a parent that dies while the child is still starting up is
  noticed as soon as the child runs.
- ``PR_SET_PDEATHSIG`` (Linux) as a second alarm. The kernel sends it when the *thread* that
  started the child ends, which in a pool of threads is not the process ending; so the signal
  is SIGHUP with a handler that kills the group only if the parent really is gone.
- ``emit`` failing with a broken pipe means the same and is handled the same way.

**Fencing**: with ``workdir``, the running child is recorded in ``workdir/.child.json``
(process group, start time and boot id, so a reused pid cannot pass for it), and a new attempt
in the same directory first kills a recorded group that still runs. Two attempts never write
the same files, whatever the older one's parent became. Linux only (it reads ``/proc``);
elsewhere the lifeline alone applies.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NoReturn

import clipmill
from clipmill import errors
from clipmill.cancellation import CancelSignal
from clipmill.errors import ClipmillError, JobCancelled, TimedOut, WorkerCrashed
from clipmill.media.netguard import direct_env

KILL_GRACE = 1.0
"""Seconds between SIGTERM and SIGKILL when cancelling."""

CHILD_RECORD = ".child.json"
"""The file in a work dir that names the child working there (see `fence`)."""

FENCE_TIMEOUT = 5.0
"""Seconds `fence` waits for a killed group to be gone before a new attempt starts anyway."""

_POLL = 0.05
_CHILD_CODE = "from clipmill.childproc import child_entry; child_entry()"
_PR_SET_PDEATHSIG = 1
_PARENT_DEATH_SIGNAL = signal.SIGHUP

Emit = Callable[[str, Any], None]


def run_in_child(
    target: str,
    args: tuple[Any, ...],
    *,
    cancel: CancelSignal | None = None,
    on_message: Callable[[str, Any], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    timeout: float | None = None,
    workdir: Path | None = None,
) -> Any:
    """Call ``target(emit, *args)`` in a killable child and return what it returns.

    Raises JobCancelled within about ``KILL_GRACE`` seconds of ``cancel`` being set (the child's
    whole process group is gone by then), TimedOut after ``timeout`` seconds, WorkerCrashed
    when the child dies without an answer, or the ClipmillError the child raised.

    ``workdir`` is the directory the child writes to: an older attempt's child still running
    there is killed first (`fence`), and this child is recorded there until it has ended.
    """
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        fence(workdir)
    proc, receiver, recorded = _start_child((target, args), workdir)
    try:
        if on_start is not None:
            on_start(proc.pid)
        return _relay(proc, receiver, cancel, on_message, timeout)
    finally:
        stop_group(proc)
        receiver.close()
        if workdir is not None and recorded is not None:
            _forget(workdir, recorded)


def _relay(
    proc: subprocess.Popen[bytes],
    receiver: Connection,
    cancel: CancelSignal | None,
    on_message: Callable[[str, Any], None] | None,
    timeout: float | None,
) -> Any:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if cancel is not None and cancel.is_set():
            stop_group(proc)
            raise JobCancelled("cancelled")
        if deadline is not None and time.monotonic() > deadline:
            stop_group(proc)
            raise TimedOut(f"gave up after {timeout:.0f} s")
        try:
            message = receiver.recv() if receiver.poll(_POLL) else None
        except EOFError:  # the child closed its end: it has exited or is exiting
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1)
            message = None
        if message is None:
            if proc.poll() is not None:
                # a child that sent its answer and exited after our poll timed out is not a crash
                with contextlib.suppress(EOFError, OSError):
                    if receiver.poll(0):
                        message = receiver.recv()
            if message is None and proc.poll() is not None:
                raise WorkerCrashed(
                    f"the worker process stopped unexpectedly (exit code {proc.returncode})"
                )
            if message is None:
                continue
        kind = message[0]
        if kind == "result":
            return message[1]
        if kind == "error":
            raise _rebuild(*message[1:])
        if on_message is not None:
            on_message(kind, message[1])


def _start_child(
    request: tuple[Any, ...], workdir: Path | None = None
) -> tuple[subprocess.Popen[bytes], Connection, ProcessIdentity | None]:
    """Hand ``request`` to a warm spare for its module if there is one, else to a new child.

    With ``workdir``, the child is recorded there before it gets the request: it touches no
    file before that.
    """
    module = str(request[0]).partition(":")[0]
    with _spares_lock:
        spare = _spares.pop(module, None)
        if spare is not None and spare[0].poll() is not None:  # died while idle
            spare[2].close()
            spare = None
        if module in _spare_preloads:
            _spares[module] = _spawn(_spare_preloads[module])  # the next job's spare
    proc, receiver, outbox = spare or _spawn(())
    recorded = None
    if workdir is not None:
        recorded = ProcessIdentity.of(proc.pid)
        if recorded is not None:
            _record(workdir, recorded)
    # BrokenPipeError: the child died at once, which the relay loop reports
    with outbox, contextlib.suppress(BrokenPipeError):
        outbox.send(request)
    return proc, receiver, recorded


def _spawn(
    preload: tuple[str, ...],
) -> tuple[subprocess.Popen[bytes], Connection, Connection]:
    """Start a child in its own session that imports ``preload``, then waits for a request."""
    results_read, results_write = os.pipe()
    request_read, request_write = os.pipe()
    lifeline = _lifeline()
    package_root = str(Path(clipmill.__file__).resolve().parent.parent)
    env = direct_env()  # proxies from the environment would blind the network guard
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD_CODE,
                str(results_write),
                str(request_read),
                str(lifeline),
                str(os.getpid()),
                ",".join(preload),
            ],
            pass_fds=(results_write, request_read, lifeline),
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
        )
    finally:
        os.close(results_write)
        os.close(request_read)
    return proc, Connection(results_read, writable=False), Connection(request_write, readable=False)


# --- the lifeline ------------------------------------------------------------------------------
# One pipe per process. Its fds are not inheritable and subprocess closes every fd it is not
# told to pass, so only this process holds the write end; a fork (os.fork, multiprocessing's
# fork) would copy it, which is why the copy is closed in the forked process.

_lifeline_lock = threading.Lock()
_lifeline_pipe: tuple[int, int, int] | None = None  # (pid that made it, read end, write end)


def _lifeline() -> int:
    """The read end of this process's lifeline, made on first use."""
    global _lifeline_pipe
    with _lifeline_lock:
        if _lifeline_pipe is None or _lifeline_pipe[0] != os.getpid():
            read_end, write_end = os.pipe()
            _lifeline_pipe = (os.getpid(), read_end, write_end)
        return _lifeline_pipe[1]


def _drop_lifeline_after_fork() -> None:
    global _lifeline_pipe
    if _lifeline_pipe is not None:
        for fd in _lifeline_pipe[1:]:
            with contextlib.suppress(OSError):
                os.close(fd)
        _lifeline_pipe = None


os.register_at_fork(after_in_child=_drop_lifeline_after_fork)


# --- warm spares -----------------------------------------------------------------------------
# A child spends most of its start-up importing (0.7 s for yt-dlp and clipmill's media modules).
# With spares enabled, one child per target module is started ahead of time with those imports
# done. It waits on its request pipe and exits when that pipe closes (`shutdown_spares`); if this
# process dies, its lifeline kills it like any other child.

_spares_lock = threading.Lock()
_spares: dict[str, tuple[subprocess.Popen[bytes], Connection, Connection]] = {}
_spare_preloads: dict[str, tuple[str, ...]] = {}


def enable_spares(module: str, preload: tuple[str, ...] = ()) -> None:
    """Keep one child ready for targets in ``module`` (importing it and ``preload``)."""
    with _spares_lock:
        _spare_preloads[module] = (module, *preload)
        if module not in _spares:
            _spares[module] = _spawn(_spare_preloads[module])


def shutdown_spares() -> None:
    """Stop keeping spares and end the idle ones (they exit on EOF; the kill is for certainty)."""
    with _spares_lock:
        idle = list(_spares.values())
        _spares.clear()
        _spare_preloads.clear()
    for proc, receiver, outbox in idle:
        outbox.close()
        receiver.close()
        stop_group(proc)


def _rebuild(class_name: str, code: str, text: str, details: dict[str, Any]) -> ClipmillError:
    cls = getattr(errors, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, ClipmillError)):
        cls = ClipmillError
    return cls(text, code=code, **details)


# --- process groups ----------------------------------------------------------------------------


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the child's process group: SIGTERM, then SIGKILL for whatever is left."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=KILL_GRACE)
    # the group id stays reserved while any member (an ffmpeg) lives, so this cannot hit an
    # unrelated process; and a cleanly finished child leaves nothing to kill
    _signal_group(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    _wait_until_gone(proc.pid, timeout=KILL_GRACE)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _wait_until_gone(pgid: int, *, timeout: float) -> None:
    """SIGKILL is asynchronous: give the kernel a moment so callers see an empty group."""
    deadline = time.monotonic() + timeout
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.01)


def _group_alive(pgid: int) -> bool:
    if not Path("/proc").is_dir():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    return bool(_group_members(pgid))


@dataclass(frozen=True)
class _Stat:
    pid: int
    pgrp: int
    started: int  # clock ticks after boot


def _stat(pid: int) -> _Stat | None:
    """What /proc says of a live process; None when it is gone (zombies are dead already)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # fields[0] is the stat file's 3rd field (state); the start time is its 22nd
    if fields[0] in ("Z", "X"):
        return None
    return _Stat(pid=pid, pgrp=int(fields[2]), started=int(fields[19]))


def _group_members(pgid: int) -> list[_Stat]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat.pgrp == pgid:
                members.append(stat)
    return members


# --- fencing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessIdentity:
    """One process, told apart from a later one with the same pid by start time and boot id."""

    pid: int
    started: int
    """Clock ticks after boot (field 22 of /proc/<pid>/stat)."""
    boot_id: str

    @classmethod
    def of(cls, pid: int) -> ProcessIdentity | None:
        """The identity of a live process; None when it is gone or there is no /proc."""
        stat = _stat(pid)
        return None if stat is None else cls(pid=pid, started=stat.started, boot_id=_boot_id())


@cache
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def fence(workdir: Path) -> None:
    """Make ``workdir`` safe for a new attempt: kill the child recorded there if it still runs
    (with its whole process group: ffmpeg included), then forget it.

    The recorded child is an older attempt's whose parent died (``run_in_child`` stops its own
    children before it returns); its lifeline has normally killed it already. This is the
    guarantee for the rest: a child stuck in native code, an ffmpeg whose leader is gone.
    """
    recorded = _read_record(workdir)
    if recorded is None:
        return
    if recorded.boot_id == _boot_id():  # else the machine restarted: nothing of it runs
        leader = ProcessIdentity.of(recorded.pid)
        if leader == recorded:
            _signal_group(recorded.pid, signal.SIGKILL)
            _wait_until_gone(recorded.pid, timeout=FENCE_TIMEOUT)
        elif leader is None:
            # the leader is gone, members of its group (an ffmpeg) may not be: the group id stays
            # reserved while any member lives, so members that started after it are its own
            left = [m for m in _group_members(recorded.pid) if m.started >= recorded.started]
            for member in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(member.pid, signal.SIGKILL)
            if left:
                _wait_until_gone(recorded.pid, timeout=FENCE_TIMEOUT)
        # else: the pid belongs to another process now, so the old group is long gone
    (workdir / CHILD_RECORD).unlink(missing_ok=True)


def _record(workdir: Path, child: ProcessIdentity) -> None:
    scratch = workdir / f"{CHILD_RECORD}.{os.getpid()}.{threading.get_ident()}"
    scratch.write_text(json.dumps(asdict(child)))
    os.replace(scratch, workdir / CHILD_RECORD)  # readers see the old record or the new one


def _read_record(workdir: Path) -> ProcessIdentity | None:
    try:
        return ProcessIdentity(**json.loads((workdir / CHILD_RECORD).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _forget(workdir: Path, child: ProcessIdentity) -> None:
    """Remove the record of ``child`` (a newer attempt's record stays)."""
    if _read_record(workdir) == child:
        (workdir / CHILD_RECORD).unlink(missing_ok=True)


# --- child side ----------------------------------------------------------------------------


def child_entry() -> None:
    """``python -c`` entry point of the child: argv holds the pipe fds and the parent's pid."""
    results_fd, request_fd, lifeline_fd, parent_pid = (int(a) for a in sys.argv[1:5])
    _die_with_parent(lifeline_fd, parent_pid)  # before the imports, which take a while
    sender = Connection(results_fd, readable=False)
    for module in filter(None, sys.argv[5].split(",") if len(sys.argv) > 5 else ()):
        importlib.import_module(module)  # a spare does its imports before it has work
    with Connection(request_fd, writable=False) as inbox:
        try:
            target, args = inbox.recv()
        except EOFError:  # a spare that was never used: the parent stopped or went away
            sender.close()
            return
    try:
        module_name, _, function_name = target.partition(":")
        function = getattr(importlib.import_module(module_name), function_name)
        result = function(lambda kind, payload: _send(sender, (kind, payload)), *args)
        _send(sender, ("result", result))
    except ClipmillError as exc:
        _send_error(sender, type(exc).__name__, exc.code, exc.message, exc.details)
    except BaseException as exc:
        _send_error(sender, "ClipmillError", "internal_error", f"unexpected error: {exc!r}", {})
    finally:
        sender.close()


def _send(sender: Connection, message: tuple[Any, ...]) -> None:
    try:
        sender.send(message)
    except OSError:  # EPIPE: nobody reads any more because the parent is gone
        _parent_gone()


def _send_error(
    sender: Connection, name: str, code: str, text: str, details: dict[str, Any]
) -> None:
    try:
        _send(sender, ("error", name, code, text, details))
    except Exception:  # unpicklable details: keep the code and message
        _send(sender, ("error", name, code, text, {}))


def _die_with_parent(lifeline_fd: int, parent_pid: int) -> None:
    """Arm both alarms (see the module docstring): the lifeline thread and PR_SET_PDEATHSIG."""

    def watch() -> None:
        with contextlib.suppress(OSError):
            while os.read(lifeline_fd, 1):  # nobody writes: only EOF (or an error) ends this
                pass
        _parent_gone()

    threading.Thread(target=watch, name="clipmill-lifeline", daemon=True).start()

    def on_parent_death_signal(signum: int, frame: Any) -> None:
        if os.getppid() != parent_pid:  # else only the thread that started us has ended
            _parent_gone()

    if os.getppid() != parent_pid:  # the parent is gone already, or a wrapper started us:
        return  # either way the lifeline decides
    signal.signal(_PARENT_DEATH_SIGNAL, on_parent_death_signal)
    with contextlib.suppress(OSError, AttributeError):  # no prctl: not Linux
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(_PARENT_DEATH_SIGNAL))
    if os.getppid() != parent_pid:  # it died before the prctl took effect
        _parent_gone()


def _parent_gone() -> NoReturn:
    """SIGKILL this child's whole process group at once, ffmpeg included, cleaning up nothing."""
    if os.getpgrp() == os.getpid():  # always, for a child started by _spawn
        with contextlib.suppress(OSError):
            os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
    raise SystemExit(1)  # not reached: for the type checker
