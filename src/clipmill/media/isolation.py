"""Run probe and download in a child process that can be killed, whatever it is doing.

Cancelling from a progress hook only works while bytes arrive; an origin that stalls, or an
ffmpeg postprocessor, never calls back. So each download runs in a child process that leads its
own session and process group, and cancel kills the group: yt-dlp and every ffmpeg it started
(SIGTERM, then SIGKILL after ``KILL_GRACE`` seconds).

How the child starts: a fresh interpreter (fork + exec, like multiprocessing's *spawn*), so it
is safe however many threads the parent runs; fork alone would copy locks other threads hold.
It is started with ``subprocess`` rather than ``multiprocessing.Process`` for three reasons:
``start_new_session`` makes it a group leader atomically (no window before ``os.setsid`` in
which a kill would miss it), spawn leaves a resource-tracker process running next to the
parent for good, and spawn re-imports the parent's ``__main__`` in the child. The plumbing is
still multiprocessing's: the request and every message travel pickled over
``multiprocessing.connection.Connection`` objects on two inherited pipe fds.

The child installs the network guard for the whole process, which is acceptable there because
the process runs this one job and nothing else. Progress, log lines and the outcome come back
over the pipe; a ClipmillError raised in the child is raised again in the parent as the same
class with the same code and details.

Partial files: a failure or cancel removes them (unless ``keep_partial_on_cancel``); a child
that dies on its own (OOM, a restart) leaves its ``.part`` so that the next attempt resumes it
(yt-dlp's ``continuedl``).
"""

from __future__ import annotations

import contextlib
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
from clipmill.config import Settings
from clipmill.errors import ClipmillError, DownloadFailed, JobCancelled
from clipmill.media import workfiles
from clipmill.media.models import DownloadProgress, DownloadResult, MediaInfo
from clipmill.media.options import DownloadOptions

KILL_GRACE = 1.0
"""Seconds between SIGTERM and SIGKILL when cancelling."""

_POLL = 0.05
_CHILD_CODE = "from clipmill.media.isolation import child_entry; child_entry()"


def run_download(
    url: str,
    options: DownloadOptions,
    workdir: Path,
    *,
    settings: Settings,
    on_progress: Callable[[DownloadProgress], None],
    on_log: Callable[[str], None],
    cancel: threading.Event,
    timeout: float | None = None,
    on_start: Callable[[int], None] | None = None,
    keep_partial_on_cancel: bool = False,
) -> DownloadResult:
    """``ytdlp.download`` in a killable child; JobCancelled within ~1-2 s of ``cancel``.

    ``on_start`` receives the child's pid (also its process group id) for supervision.
    ``keep_partial_on_cancel``: leave the ``.part`` when cancelled, for callers whose cancel
    event also means "stop for a restart" (a worker pool shutting down): the next attempt
    resumes, and the caller deletes the work dir itself when the user cancelled.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    request = ("download", url, options, workdir, settings)
    supervisor = _Supervisor(request, cancel, on_progress, on_log, on_start, workdir)
    supervisor.keep_partial_on_cancel = keep_partial_on_cancel
    result = supervisor.run(timeout)
    assert isinstance(result, DownloadResult)
    return result


def run_probe(
    url: str,
    *,
    settings: Settings,
    cancel: threading.Event | None = None,
    on_log: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> MediaInfo:
    """``ytdlp.probe`` in a killable child."""
    request = ("probe", url, None, None, settings)
    result = _Supervisor(request, cancel, None, on_log, None, None).run(timeout)
    assert isinstance(result, MediaInfo)
    return result


class _Supervisor:
    """Parent side: start the child, relay its messages, kill it on cancel or timeout."""

    def __init__(
        self,
        request: tuple[Any, ...],
        cancel: threading.Event | None,
        on_progress: Callable[[DownloadProgress], None] | None,
        on_log: Callable[[str], None] | None,
        on_start: Callable[[int], None] | None,
        workdir: Path | None,
    ) -> None:
        self.request, self.cancel = request, cancel
        self.on_progress, self.on_log, self.on_start = on_progress, on_log, on_start
        self.workdir = workdir
        self.keep_partial_on_cancel = False

    def run(self, timeout: float | None) -> DownloadResult | MediaInfo:
        proc, receiver = _start_child(self.request)
        clean_up = False
        try:
            if self.on_start is not None:
                self.on_start(proc.pid)
            return self._relay(proc, receiver, timeout)
        except DownloadFailed as exc:
            clean_up = not exc.details.get("crashed")
            raise
        except JobCancelled:
            clean_up = not self.keep_partial_on_cancel
            raise
        except Exception:  # timeout, errors from the child or from our callbacks
            clean_up = True
            raise
        # anything else (KeyboardInterrupt, SystemExit) means the parent itself is going down:
        # leave the .part for the next attempt to resume
        finally:
            _stop(proc)
            receiver.close()
            if clean_up and self.workdir is not None:
                workfiles.remove_download_files(self.workdir)

    def _relay(
        self, proc: subprocess.Popen[bytes], receiver: Connection, timeout: float | None
    ) -> DownloadResult | MediaInfo:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.cancel is not None and self.cancel.is_set():
                _stop(proc)
                raise JobCancelled("cancelled")
            if deadline is not None and time.monotonic() > deadline:
                _stop(proc)
                raise DownloadFailed(f"gave up after {timeout:.0f} s")
            try:
                message = receiver.recv() if receiver.poll(_POLL) else None
            except EOFError:  # the child closed its end: it has exited or is exiting
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=1)
                message = None
            if message is not None:
                outcome = self._handle(message)
                if outcome is not None:
                    return outcome
            elif proc.poll() is not None:
                raise DownloadFailed(
                    f"the download process stopped unexpectedly (exit code {proc.returncode})",
                    crashed=True,
                )

    def _handle(self, message: tuple[Any, ...]) -> DownloadResult | MediaInfo | None:
        kind = message[0]
        if kind == "progress" and self.on_progress is not None:
            self.on_progress(message[1])
        elif kind == "log" and self.on_log is not None:
            self.on_log(message[1])
        elif kind == "result":
            result: DownloadResult | MediaInfo = message[1]
            return result
        elif kind == "error":
            raise _rebuild(*message[1:])
        return None


def _start_child(request: tuple[Any, ...]) -> tuple[subprocess.Popen[bytes], Connection]:
    """Start the child in its own session; send it ``request``; return it and its outbox."""
    results_read, results_write = os.pipe()
    request_read, request_write = os.pipe()
    package_root = str(Path(clipmill.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD_CODE, str(results_write), str(request_read)],
            pass_fds=(results_write, request_read),
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
        )
    finally:
        os.close(results_write)
        os.close(request_read)
    receiver = Connection(results_read, writable=False)
    # BrokenPipeError: the child died at once, which the relay loop reports
    with Connection(request_write, readable=False) as outbox, contextlib.suppress(BrokenPipeError):
        outbox.send(request)
    return proc, receiver


def _rebuild(class_name: str, code: str, text: str, details: dict[str, Any]) -> ClipmillError:
    cls = getattr(errors, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, ClipmillError)):
        cls = DownloadFailed
    return cls(text, code=code, **details)


def _stop(proc: subprocess.Popen[bytes]) -> None:
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
    with Connection(int(sys.argv[2]), writable=False) as inbox:
        request = inbox.recv()
    try:
        _child_main(sender, request)
    finally:
        sender.close()


def _child_main(sender: Connection, request: tuple[Any, ...]) -> None:
    kind, url, options, workdir, settings = request
    try:
        from clipmill.media import netguard, ytdlp

        guard = netguard.NetGuard.from_settings(settings)
        netguard.enforce_process_wide(guard)
        if kind == "download":
            result: Any = ytdlp.download(
                url,
                options,
                workdir,
                settings=settings,
                guard=guard,
                on_progress=lambda progress: sender.send(("progress", progress)),
                on_log=lambda line: sender.send(("log", line)),
                cancel=threading.Event(),  # the parent cancels by killing us
            )
        else:
            result = ytdlp.probe(
                url, guard=guard, settings=settings, on_log=lambda line: sender.send(("log", line))
            )
        sender.send(("result", result))
    except ClipmillError as exc:
        _send_error(sender, type(exc).__name__, exc.code, exc.message, exc.details)
    except BaseException as exc:
        _send_error(sender, "DownloadFailed", "download_failed", f"unexpected error: {exc!r}", {})


def _send_error(
    sender: Connection, name: str, code: str, text: str, details: dict[str, Any]
) -> None:
    try:
        sender.send(("error", name, code, text, details))
    except Exception:  # unpicklable details: keep the code and message
        sender.send(("error", name, code, text, {}))
