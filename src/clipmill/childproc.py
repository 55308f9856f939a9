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
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import clipmill
from clipmill import errors
from clipmill.errors import ClipmillError, JobCancelled, TimedOut, WorkerCrashed

KILL_GRACE = 1.0
"""Seconds between SIGTERM and SIGKILL when cancelling."""

_POLL = 0.05
_CHILD_CODE = "from clipmill.childproc import child_entry; child_entry()"

Emit = Callable[[str, Any], None]


def run_in_child(
    target: str,
    args: tuple[Any, ...],
    *,
    cancel: threading.Event | None = None,
    on_message: Callable[[str, Any], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    timeout: float | None = None,
) -> Any:
    """Call ``target(emit, *args)`` in a killable child and return what it returns.

    Raises JobCancelled within about ``KILL_GRACE`` seconds of ``cancel`` being set (the child's
    whole process group is gone by then), TimedOut after ``timeout`` seconds, WorkerCrashed
    when the child dies without an answer, or the ClipmillError the child raised.
    """
    proc, receiver = _start_child((target, args))
    try:
        if on_start is not None:
            on_start(proc.pid)
        return _relay(proc, receiver, cancel, on_message, timeout)
    finally:
        stop_group(proc)
        receiver.close()


def _relay(
    proc: subprocess.Popen[bytes],
    receiver: Connection,
    cancel: threading.Event | None,
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
                raise WorkerCrashed(
                    f"the worker process stopped unexpectedly (exit code {proc.returncode})"
                )
            continue
        kind = message[0]
        if kind == "result":
            return message[1]
        if kind == "error":
            raise _rebuild(*message[1:])
        if on_message is not None:
            on_message(kind, message[1])


def _start_child(request: tuple[Any, ...]) -> tuple[subprocess.Popen[bytes], Connection]:
    """Hand ``request`` to a warm spare for its module if there is one, else to a new child."""
    module = str(request[0]).partition(":")[0]
    with _spares_lock:
        spare = _spares.pop(module, None)
        if spare is not None and spare[0].poll() is not None:  # died while idle
            spare[2].close()
            spare = None
        if module in _spare_preloads:
            _spares[module] = _spawn(_spare_preloads[module])  # the next job's spare
    proc, receiver, outbox = spare or _spawn(())
    # BrokenPipeError: the child died at once, which the relay loop reports
    with outbox, contextlib.suppress(BrokenPipeError):
        outbox.send(request)
    return proc, receiver


def _spawn(
    preload: tuple[str, ...],
) -> tuple[subprocess.Popen[bytes], Connection, Connection]:
    """Start a child in its own session that imports ``preload``, then waits for a request."""
    results_read, results_write = os.pipe()
    request_read, request_write = os.pipe()
    package_root = str(Path(clipmill.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD_CODE,
                str(results_write),
                str(request_read),
                ",".join(preload),
            ],
            pass_fds=(results_write, request_read),
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
        )
    finally:
        os.close(results_write)
        os.close(request_read)
    return proc, Connection(results_read, writable=False), Connection(request_write, readable=False)


# --- warm spares -----------------------------------------------------------------------------
# A child spends most of its start-up importing (0.7 s for yt-dlp and clipmill's media modules).
# With spares enabled, one child per target module is started ahead of time with those imports
# done; it waits on its request pipe, so if this process dies it reads EOF and exits by itself.

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
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for entry in proc_dir.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, _ppid, pgrp = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(pgrp) == pgid and state not in ("Z", "X"):  # zombies are dead already
            return True
    return False


# --- child side ----------------------------------------------------------------------------


def child_entry() -> None:
    """``python -c`` entry point of the child: argv holds the two pipe fds."""
    sender = Connection(int(sys.argv[1]), readable=False)
    for module in filter(None, sys.argv[3].split(",") if len(sys.argv) > 3 else ()):
        importlib.import_module(module)  # a spare does its imports before it has work
    with Connection(int(sys.argv[2]), writable=False) as inbox:
        try:
            target, args = inbox.recv()
        except EOFError:  # a spare that was never used: the parent stopped or went away
            sender.close()
            return
    try:
        module_name, _, function_name = target.partition(":")
        function = getattr(importlib.import_module(module_name), function_name)
        result = function(lambda kind, payload: sender.send((kind, payload)), *args)
        sender.send(("result", result))
    except ClipmillError as exc:
        _send_error(sender, type(exc).__name__, exc.code, exc.message, exc.details)
    except BaseException as exc:
        _send_error(sender, "ClipmillError", "internal_error", f"unexpected error: {exc!r}", {})
    finally:
        sender.close()


def _send_error(
    sender: Connection, name: str, code: str, text: str, details: dict[str, Any]
) -> None:
    try:
        sender.send(("error", name, code, text, details))
    except Exception:  # unpicklable details: keep the code and message
        sender.send(("error", name, code, text, {}))
