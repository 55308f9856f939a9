"""Probe and download in a killable child process (see `clipmill.childproc`).

Cancelling from a progress hook only works while bytes arrive; an origin that stalls, or an
ffmpeg postprocessor, never calls back. So each download runs in a child that leads its own
process group, and a cancel kills yt-dlp and every ffmpeg it started.

The child installs the network guard for the whole process, which is acceptable there because
the process runs this one job and nothing else.

Partial files are this side's business, never the child's: a child whose parent died must not
delete what a newer attempt may already be resuming. So ``run_download`` removes them after a
failure or cancel (unless ``keep_partial_on_cancel``), and leaves them when the child died on its
own (OOM, a kill) or when this process itself is going down, so that the next attempt resumes the
``.part`` (yt-dlp's ``continuedl``). The child is recorded in the work dir while it runs, and a
new attempt kills an older one's child that still runs there before it touches a file
(`clipmill.childproc.fence`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clipmill.cancellation import CancelSignal
from clipmill.childproc import Emit, run_in_child
from clipmill.config import Settings
from clipmill.errors import DownloadFailed, JobCancelled, TimedOut, WorkerCrashed
from clipmill.media import workfiles
from clipmill.media.models import DownloadProgress, DownloadResult, MediaInfo
from clipmill.media.options import DownloadOptions


def run_download(
    url: str,
    options: DownloadOptions,
    workdir: Path,
    *,
    settings: Settings,
    on_progress: Callable[[DownloadProgress], None],
    on_log: Callable[[str], None],
    cancel: CancelSignal,
    timeout: float | None = None,
    on_start: Callable[[int], None] | None = None,
    keep_partial_on_cancel: bool = False,
    cookie_file: Path | None = None,
) -> DownloadResult:
    """``ytdlp.download`` in a killable child; JobCancelled within ~1-2 s of ``cancel``.

    The child gets ``cookie_file`` as a path only; the caller owns (and removes) the file.

    ``on_start`` receives the child's pid (also its process group id) for supervision.
    ``keep_partial_on_cancel`` leaves the ``.part`` behind on cancel, for callers whose cancel
    may mean "shutting down, resume later" (the caller then removes it on a real cancel).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    clean_up = False
    try:
        result = _run(
            "clipmill.media.isolation:_download_in_child",
            (url, options, workdir, settings, cookie_file),
            cancel=cancel,
            on_progress=on_progress,
            on_log=on_log,
            on_start=on_start,
            timeout=timeout,
            workdir=workdir,
        )
    except DownloadFailed as exc:
        clean_up = not exc.details.get("crashed")
        raise
    except JobCancelled:
        clean_up = not keep_partial_on_cancel
        raise
    except Exception:  # errors from the child or from our callbacks
        clean_up = True
        raise
    # anything else (KeyboardInterrupt, SystemExit) means the parent itself is going down:
    # leave the .part for the next attempt to resume
    finally:
        if clean_up:
            workfiles.remove_download_files(workdir)
    assert isinstance(result, DownloadResult)
    return result


def run_probe(
    url: str,
    *,
    settings: Settings,
    cancel: CancelSignal | None = None,
    on_log: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> MediaInfo:
    """``ytdlp.probe`` in a killable child; the child is killed after ``timeout`` seconds
    (default ``probe_timeout``: TimedOut) or when ``cancel`` is set (JobCancelled)."""
    limit = settings.probe_timeout if timeout is None else timeout
    try:
        result = _run(
            "clipmill.media.isolation:_probe_in_child",
            (url, settings),
            cancel=cancel,
            on_progress=None,
            on_log=on_log,
            on_start=None,
            timeout=limit,
        )
    except TimedOut as exc:
        if exc.details:  # the child's own deadline: its message says which fetch
            raise
        raise TimedOut(
            f"Gave up looking at the URL after {limit:g} s: the site is too slow or its response "
            "never ends (limit: CLIPMILL_PROBE_TIMEOUT).",
            timeout=limit,
        ) from exc
    assert isinstance(result, MediaInfo)
    return result


def _run(
    target: str,
    args: tuple[Any, ...],
    *,
    cancel: CancelSignal | None,
    on_progress: Callable[[DownloadProgress], None] | None,
    on_log: Callable[[str], None] | None,
    on_start: Callable[[int], None] | None,
    timeout: float | None,
    workdir: Path | None = None,
) -> Any:
    def on_message(kind: str, payload: Any) -> None:
        if kind == "progress" and on_progress is not None:
            on_progress(payload)
        elif kind == "log" and on_log is not None:
            on_log(payload)

    try:
        return run_in_child(
            target,
            args,
            cancel=cancel,
            on_message=on_message,
            on_start=on_start,
            timeout=timeout,
            workdir=workdir,
        )
    except WorkerCrashed as exc:
        raise DownloadFailed(exc.message.replace("worker", "download"), crashed=True) from exc


# --- child side ----------------------------------------------------------------------------


def _guarded(settings: Settings) -> Any:
    from clipmill.media import fetchlimits, netguard

    guard = netguard.NetGuard.from_settings(settings)
    netguard.enforce_process_wide(guard)
    # this process runs one job in its main thread: a fetch deadline may interrupt it anywhere
    fetchlimits.interrupt_main_thread()
    return guard


def _download_in_child(
    emit: Emit,
    url: str,
    options: DownloadOptions,
    workdir: Path,
    settings: Settings,
    cookie_file: Path | None = None,
) -> DownloadResult:
    from clipmill.media import ytdlp

    try:
        return ytdlp.download(
            url,
            options,
            workdir,
            settings=settings,
            guard=_guarded(settings),
            on_progress=lambda progress: emit("progress", progress),
            on_log=lambda line: emit("log", line),
            cancel=threading.Event(),  # the parent cancels by killing us
            cookie_file=cookie_file,
        )
    except (OSError, ValueError, RuntimeError) as exc:
        raise DownloadFailed(f"unexpected error: {exc!r}") from exc


def _probe_in_child(emit: Emit, url: str, settings: Settings) -> MediaInfo:
    from clipmill.media import ytdlp

    try:
        return ytdlp.probe(
            url, guard=_guarded(settings), settings=settings, on_log=lambda line: emit("log", line)
        )
    except (OSError, ValueError, RuntimeError) as exc:
        raise DownloadFailed(f"unexpected error: {exc!r}") from exc
