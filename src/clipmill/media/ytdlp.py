"""yt-dlp as a library: look at a URL (``probe``) and download it (``download``).

The info dict stays in this module; callers get ``MediaInfo`` / ``DownloadResult``. Limits
are enforced here rather than through yt-dlp's own options, which miss cases:

- live streams and ``max_duration`` are refused before anything is downloaded (a duration the
  origin does not announce is sniffed from the head of the file or the HLS playlist, and
  checked again on the finished file);
- ``max_filesize`` is enforced in the progress hook on the bytes actually received, summed over
  every format and fragment (yt-dlp's ``max_filesize`` ignores HLS and chunked responses and
  returns quietly for direct files), and refused up front when the origin states a size;
- only formats yt-dlp downloads natively are eligible, so ffmpeg never gets a network URL.

``download`` runs in the calling thread; cancel is checked in every hook. To cancel a download
that is stuck on a stalled origin, run it through ``isolation.run_download``, which kills it.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from yt_dlp import YoutubeDL
from yt_dlp.networking import Request
from yt_dlp.postprocessor.common import PostProcessor
from yt_dlp.utils import determine_protocol

from clipmill.cancellation import CancelSignal
from clipmill.config import Settings
from clipmill.errors import (
    DurationTooLong,
    FileTooLarge,
    InvalidOption,
    JobCancelled,
    ResponseTooLarge,
    StorageFull,
    TimedOut,
    UnsupportedUrl,
)
from clipmill.media import fetchlimits, ffmpeg, netguard, outputs, proxied, sniff
from clipmill.media.fetchlimits import FetchLimits
from clipmill.media.models import (
    Chapter,
    DownloadProgress,
    DownloadResult,
    FormatInfo,
    MediaInfo,
)
from clipmill.media.naming import TEMPLATE_FIELDS
from clipmill.media.netguard import NetGuard
from clipmill.media.options import (
    MEDIA_STEM,
    SAFE_PROTOCOLS,
    DownloadOptions,
    probe_params,
    to_ytdlp_params,
)
from clipmill.media.sizes import human_bytes
from clipmill.media.ytdlp_errors import map_error
from clipmill.media.ytdlp_progress import DownloadParts, step_message

THUMBNAIL_BYTES = 10 * 1024 * 1024
LIVE_CODE = "live_stream"

LogCallback = Callable[[str], None]
ProgressCallback = Callable[[DownloadProgress], None]


class _Logger:
    """yt-dlp's logger interface, forwarded to one callback (its own debug chatter dropped)."""

    def __init__(self, on_log: LogCallback | None) -> None:
        self._on_log = on_log

    def _emit(self, message: str) -> None:
        if self._on_log is not None and message:
            self._on_log(message.rstrip())

    def debug(self, message: str) -> None:
        if not message.startswith("[debug] "):
            self._emit(message)

    def info(self, message: str) -> None:
        self._emit(message)

    def warning(self, message: str) -> None:
        self._emit(message if message.startswith("WARNING") else f"WARNING: {message}")

    def error(self, message: str) -> None:
        self._emit(message)


class _Hook(PostProcessor):
    """Run a callable on the info dict at one of yt-dlp's processing stages."""

    def __init__(self, action: Callable[[dict[str, Any], Any], None]) -> None:
        super().__init__()
        self._action = action

    def run(self, info: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        self._action(info, self._downloader)
        return [], info


def _protocol(fmt: dict[str, Any]) -> str:
    return str(fmt.get("protocol") or determine_protocol(fmt) or "")


def _is_native(fmt: dict[str, Any]) -> bool:
    return all(part in SAFE_PROTOCOLS for part in _protocol(fmt).split("+"))


def _keep_native_formats(info: dict[str, Any], _ydl: Any) -> None:
    """pre_process stage (before format selection): drop formats ffmpeg would fetch."""
    formats = info.get("formats")
    if formats is None:
        if info.get("url") and not _is_native(info):
            raise UnsupportedUrl(f"the {_protocol(info)} protocol is not supported")
        return
    native = [f for f in formats if _is_native(f)]
    if formats and not native:
        offered = ", ".join(sorted({_protocol(f) for f in formats}))
        raise UnsupportedUrl(f"this media is only offered over unsupported protocols ({offered})")
    info["formats"] = native


def _add_gates(ydl: YoutubeDL) -> None:
    ydl.add_post_processor(_Hook(_keep_native_formats), when="pre_process")


def _single_video(result: dict[str, Any]) -> dict[str, Any]:
    """The one video a URL points at; a playlist of several is not a single download."""
    if result.get("_type", "video") not in ("playlist", "multi_video"):
        return result
    entries = list(itertools.islice(result.get("entries") or [], 2))
    if len(entries) != 1:
        raise UnsupportedUrl("this URL is a playlist; start a playlist job for it", playlist=True)
    entry = dict(entries[0])
    for key in ("extractor", "extractor_key", "webpage_url", "original_url",
                "webpage_url_basename", "webpage_url_domain"):  # fmt: skip
        if result.get(key) is not None:
            entry.setdefault(key, result[key])
    return entry


def _extract(ydl: YoutubeDL, url: str, *, download: bool) -> dict[str, Any]:
    result = ydl.extract_info(url, download=False, process=False)
    if result is None:
        raise UnsupportedUrl(f"no media found at {url}")
    info = ydl.process_ie_result(_single_video(result), download=download)
    if info is None:
        raise UnsupportedUrl(f"no media found at {url}")
    return forget_cookies(_single_video(info))


def forget_cookies(info: dict[str, Any]) -> dict[str, Any]:
    """``info`` without the cookies yt-dlp copies into it (a ``cookies`` field per format,
    ``Cookie`` in ``http_headers``), so that nothing built from it can store or show them."""
    stack: list[Any] = [info]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            item.pop("cookies", None)
            headers = item.get("http_headers")
            if isinstance(headers, dict):
                for name in [k for k in headers if str(k).lower() == "cookie"]:
                    del headers[name]
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))
    return info


# --- durations the origin did not announce ----------------------------------------------


def _fetcher(ydl: Any) -> sniff.Fetch:
    """sniff's fetch through ``ydl``: guarded, and under ydl's fetch budget, so a response
    longer than ``max_page_bytes`` raises ResponseTooLarge and a slow one TimedOut."""

    def fetch(url: str, headers: Mapping[str, str], limit: int) -> bytes:
        with ydl.urlopen(Request(url, headers=dict(headers))) as response:
            return _read_at_most(response, limit + 1)

    return fetch


def _main_format(info: dict[str, Any]) -> dict[str, Any]:
    requested = info.get("requested_formats") or []
    with_video = [f for f in requested if f.get("vcodec") != "none"]
    return (with_video or requested or [info])[0]


def _sniff_duration(ydl: Any, info: dict[str, Any]) -> tuple[float | None, bool]:
    """(duration, endless) of the chosen format when the origin did not say (see sniff.py)."""
    fmt = _main_format(info)
    url, headers = fmt.get("url"), dict(fmt.get("http_headers") or {})
    protocol = _protocol(fmt)
    try:
        if url and protocol.startswith("m3u8"):
            return sniff.hls_duration(_fetcher(ydl), url, headers)
        if url and protocol in ("http", "https"):
            return sniff.file_duration(_fetcher(ydl), url, headers, fmt.get("ext")), False
    except JobCancelled:
        raise
    except Exception:  # best effort; the finished file is checked again
        return None, False
    return None, False


def _is_live(info: dict[str, Any]) -> bool:
    return bool(info.get("is_live")) or info.get("live_status") in ("is_live", "is_upcoming")


# --- info dict -> values ---------------------------------------------------------------------


def _num(value: Any, kind: type = float) -> Any:
    try:
        return kind(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _format_info(fmt: dict[str, Any], duration: float | None) -> FormatInfo:
    size, estimated = _num(fmt.get("filesize"), int), False
    if size is None:
        approx = _num(fmt.get("filesize_approx"), int)
        tbr = _num(fmt.get("tbr"))
        if approx:
            size, estimated = approx, True
        elif tbr and duration:
            size, estimated = int(tbr * 1000 / 8 * duration), True
    width, height = _num(fmt.get("width"), int), _num(fmt.get("height"), int)
    vcodec = fmt.get("vcodec")
    resolution = fmt.get("resolution") or (
        f"{width}x{height}" if width and height else ("audio only" if vcodec == "none" else None)
    )
    return FormatInfo(
        format_id=str(fmt.get("format_id") or "0"),
        ext=fmt.get("ext"),
        resolution=resolution,
        width=width,
        height=height,
        fps=_num(fmt.get("fps")),
        vcodec=vcodec,
        acodec=fmt.get("acodec"),
        filesize=size,
        filesize_estimated=estimated,
        tbr=_num(fmt.get("tbr")),
        protocol=_protocol(fmt) or None,
    )


def _media_info(info: dict[str, Any], duration: float | None, live: bool = False) -> MediaInfo:
    formats = info.get("formats") or ([info] if info.get("url") else [])
    chapters = tuple(
        Chapter(float(c.get("start_time") or 0), float(c.get("end_time") or 0), c.get("title"))
        for c in info.get("chapters") or []
    )
    return MediaInfo(
        id=str(info.get("id") or ""),
        title=str(info.get("title") or info.get("id") or "untitled"),
        uploader=info.get("uploader") or info.get("channel"),
        thumbnail=info.get("thumbnail"),
        duration=duration,
        upload_date=info.get("upload_date"),
        webpage_url=info.get("webpage_url"),
        extractor=info.get("extractor_key") or info.get("extractor"),
        is_live=live or _is_live(info),
        chapters=chapters,
        subtitles=tuple(sorted(info.get("subtitles") or {})),
        automatic_captions=tuple(sorted(info.get("automatic_captions") or {})),
        formats=tuple(_format_info(f, duration) for f in formats),
    )


def _name_values(info: dict[str, Any]) -> dict[str, object]:
    """The template fields of the downloaded rendition, as plain values."""
    chosen = (info.get("requested_downloads") or [{}])[-1]
    merged = {**info, **{k: v for k, v in chosen.items() if v is not None}}
    return {k: merged[k] for k in TEMPLATE_FIELDS
            if isinstance(merged.get(k), str | int | float)}  # fmt: skip


# --- public API --------------------------------------------------------------------------------


def probe(
    url: str,
    *,
    guard: NetGuard,
    settings: Settings,
    on_log: LogCallback | None = None,
) -> MediaInfo:
    """What ``url`` offers (title, duration, formats, ...), without downloading media."""
    guard.check_url(url)
    if settings.proxy_url:
        proxied.install()
    with netguard.enforce(guard) as audit:
        try:
            with YoutubeDL(probe_params(settings, logger=_Logger(on_log))) as ydl:
                budget = fetchlimits.install(ydl, FetchLimits.from_settings(settings))
                budget.begin("looking at the URL", settings.probe_timeout,
                             setting="CLIPMILL_PROBE_TIMEOUT")  # fmt: skip
                _add_gates(ydl)
                info = _extract(ydl, url, download=False)
                duration, endless = _num(info.get("duration")), False
                if duration is None and not _is_live(info):
                    duration, endless = _sniff_duration(ydl, info)
                    budget.check()  # sniffing is best effort and swallows errors, not deadlines
                return _media_info(info, duration, live=endless)
        except Exception as exc:
            error = map_error(exc, audit, url=url)
            if error is exc:
                raise
            raise error from exc


def download(
    url: str,
    options: DownloadOptions,
    workdir: Path,
    *,
    settings: Settings,
    guard: NetGuard,
    on_progress: ProgressCallback,
    on_log: LogCallback,
    cancel: CancelSignal,
    cookie_file: Path | None = None,
) -> DownloadResult:
    """Download ``url`` into ``workdir`` as ``options`` ask; files are named by a fixed stem.

    ``cookie_file`` is a cookies.txt yt-dlp sends and writes back to when it closes; the
    caller owns it (``options.cookies_id`` only names it).

    Nothing is cleaned up here on failure: this runs in a child that may have lost its parent
    while a newer attempt resumes the same ``.part``; the supervising side removes partial files
    (`isolation.run_download`), because only it knows whether it is still alive.
    """
    guard.check_url(url)
    if settings.proxy_url:
        proxied.install()
    workdir.mkdir(parents=True, exist_ok=True)
    run = _DownloadRun(url, options, workdir, settings, on_progress, on_log, cancel)
    run.cookie_file = cookie_file
    with netguard.enforce(guard) as audit:
        try:
            info = run.fetch()
        except Exception as exc:
            error = map_error(exc, audit, url=url)
            if options.format and "requested format" in error.message.lower():
                error = InvalidOption(
                    "the format selector matched none of the formats", field="format"
                )
            if error is exc:
                raise
            raise error from exc
    media = _media_info(info, run.duration)
    files = outputs.finish_download(
        workdir=workdir,
        main_file=run.main_file(info),
        options=options,
        info=media,
        name_values=_name_values(info),
        settings=settings,
        cancel=cancel,
        on_progress=on_progress,
    )
    return DownloadResult(info=media, files=files)


class _DownloadRun:
    """State of one download: bytes seen per file, the checked duration, callbacks."""

    def __init__(
        self,
        url: str,
        options: DownloadOptions,
        workdir: Path,
        settings: Settings,
        on_progress: ProgressCallback,
        on_log: LogCallback,
        cancel: CancelSignal,
    ) -> None:
        self.url, self.options, self.workdir, self.settings = url, options, workdir, settings
        self.on_progress, self.on_log, self.cancel = on_progress, on_log, cancel
        self.duration: float | None = None
        self.cookie_file: Path | None = None
        self._bytes: dict[str, int] = {}
        self._parts = DownloadParts()

    def fetch(self) -> dict[str, Any]:
        tools = ffmpeg.find_ffmpeg()
        params = to_ytdlp_params(
            self.options,
            workdir=self.workdir,
            settings=self.settings,
            ffmpeg_location=ffmpeg.guarded_tools_dir(self.settings.data_dir, tools),
            logger=_Logger(self.on_log),
            progress_hooks=[self._on_download],
            postprocessor_hooks=[self._on_postprocess],
            cookie_file=self.cookie_file,
        )
        with YoutubeDL(params) as ydl:
            # page-like fetches get a byte cap and, phase by phase, a deadline; media does not
            budget = fetchlimits.install(ydl, FetchLimits.from_settings(self.settings))
            budget.begin("reading the page and its manifests")

            def phase(what: str) -> _Hook:
                return _Hook(lambda _info, _ydl: budget.begin(what))

            _add_gates(ydl)
            ydl.add_post_processor(phase("checking the chosen format"), when="video")
            ydl.add_post_processor(_Hook(self._preflight), when="video")
            ydl.add_post_processor(phase("fetching subtitles"), when="video")
            ydl.add_post_processor(_Hook(lambda _info, _ydl: budget.media()), when="before_dl")
            ydl.add_post_processor(_Hook(self._starting), when="before_dl")
            return _extract(ydl, self.url, download=True)

    def main_file(self, info: dict[str, Any]) -> Path | None:
        for item in reversed(info.get("requested_downloads") or []):
            path = item.get("filepath") or item.get("_filename")
            if path and Path(path).is_file():
                return Path(path)
        return None

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise JobCancelled("download cancelled")

    # "video" stage: the format is chosen, nothing is written yet
    def _preflight(self, info: dict[str, Any], ydl: Any) -> None:
        self._check_cancel()
        limit = self.settings
        if _is_live(info):
            raise DurationTooLong("live streams have no end and cannot be downloaded",
                                  code=LIVE_CODE)  # fmt: skip
        selected = info.get("requested_formats") or [info]
        for fmt in selected:
            if not _is_native(fmt):
                raise UnsupportedUrl(f"the {_protocol(fmt)} protocol is not supported")
        duration, endless = _num(info.get("duration")), False
        if duration is None:
            duration, endless = _sniff_duration(ydl, info)
        if endless:
            raise DurationTooLong("this stream has no end (a live or event playlist)",
                                  code=LIVE_CODE)  # fmt: skip
        if duration is not None and duration > limit.max_duration:
            raise DurationTooLong(
                f"media is {duration:.0f} s long; the limit is {limit.max_duration:.0f} s",
                duration=duration,
            )
        self.duration = duration
        sizes = [_num(f.get("filesize"), int) for f in selected]
        if sizes and all(sizes):
            self._check_size(sum(s for s in sizes if s), stated=True)
        if duration is not None:
            late = [s for s in self.options.sections if s.start >= duration]
            if late:
                raise InvalidOption(
                    f"section {late[0].start:g}-{late[0].end:g} starts after the end "
                    f"({duration:.1f} s)",
                    field="sections",
                )
        thumb = self.options.thumbnail
        if thumb is not None and (thumb.write or thumb.embed):
            self._fetch_thumbnail(info, ydl)

    def _check_size(self, size: int, *, stated: bool = False, received: int = 0) -> None:
        """FileTooLarge once ``size`` is over the limit: the size the origin states
        (``stated``, before or while downloading, with ``received`` so far), or the bytes
        received over every file. The message is in the units the progress bar shows."""
        limit = self.settings.max_filesize
        if size > limit:
            if stated:
                where = f"stopped at {human_bytes(received)}" if received else "nothing downloaded"
                said = (f"The file is {human_bytes(size)}, over this server's limit of "
                        f"{human_bytes(limit)} ({where}).")  # fmt: skip
            else:
                said = f"Stopped at {human_bytes(size)}: the limit is {human_bytes(limit)}."
            raise FileTooLarge(
                f"{said} Pick a lower quality or audio only (limit: CLIPMILL_MAX_FILESIZE).",
                size=size,
                limit=limit,
                received=received if stated else size,
            )
        if stated:
            free = _free_bytes(self.workdir)
            if free is not None and size > free:
                raise StorageFull(
                    f"{human_bytes(size)} needed, {human_bytes(free)} free on the server's disk"
                )

    def _fetch_thumbnail(self, info: dict[str, Any], ydl: Any) -> None:
        """Fetch the thumbnail with a size cap and hand it to yt-dlp's thumbnail postprocessors."""
        thumbnails = [t for t in info.get("thumbnails") or [] if t.get("url")]
        url = info.get("thumbnail") or (thumbnails[-1]["url"] if thumbnails else None)
        if not url:
            self.on_log("WARNING: no thumbnail available")
            return
        headers = next((t.get("http_headers") for t in thumbnails if t.get("url") == url), None)
        budget = fetchlimits.budget_of(ydl)
        # a deadline of its own, so that a slow thumbnail is skipped without failing the job
        bounded = budget.phase("fetching the thumbnail") if budget else contextlib.nullcontext()
        try:
            with bounded, ydl.urlopen(Request(url, headers=dict(headers or {}))) as response:
                data = _read_at_most(response, THUMBNAIL_BYTES + 1)
        except JobCancelled:
            raise
        except (TimedOut, ResponseTooLarge) as exc:
            self.on_log(f"WARNING: thumbnail skipped: {exc.message}")
            return
        except Exception as exc:  # a missing thumbnail never fails the download
            self.on_log(f"WARNING: thumbnail not downloaded: {exc}")
            return
        if len(data) > THUMBNAIL_BYTES:
            self.on_log("WARNING: thumbnail skipped: larger than 10 MiB")
            return
        ext = _image_ext(data)  # the bytes decide, not the Content-Type
        if ext is None:
            self.on_log("WARNING: thumbnail skipped: not a JPEG, PNG or WebP image")
            return
        path = self.workdir / f"{MEDIA_STEM}.{ext}"
        path.write_bytes(data)
        info["thumbnails"] = [{"id": "0", "url": url, "filepath": str(path)}]

    # "before_dl" stage: the page is read, the format chosen; the media download starts
    def _starting(self, info: dict[str, Any], _ydl: Any) -> None:
        self._check_cancel()
        self._parts = DownloadParts.of(info)
        self.on_progress(DownloadProgress(stage="downloading", percent=0.0,
                                          message="Downloading…"))  # fmt: skip

    def _on_download(self, status: dict[str, Any]) -> None:
        self._check_cancel()
        key = str(status.get("tmpfilename") or status.get("filename") or "?")
        done = _num(status.get("downloaded_bytes"), int) or 0
        self._bytes[key] = max(self._bytes.get(key, 0), done)
        received = sum(self._bytes.values())
        total = _num(status.get("total_bytes"), int)
        if total and status.get("status") != "finished":
            # the origin's stated size of this file, on top of what earlier files took
            self._check_size(received - done + total, stated=True, received=received)
        self._check_size(received)
        if status.get("status") == "finished":
            # ffmpeg picks its demuxer by content: a "video" that is a playlist or manifest
            # would make the postprocessors read other files, so it never gets that far
            finished = Path(str(status.get("filename") or key))
            if finished.is_file():
                ffmpeg.refuse_unless_media(
                    finished,
                    name=f"the downloaded file {finished.name}",
                    text_ok=finished.suffix.lstrip(".").lower() in outputs.SUBTITLE_EXTS,
                )
        self.on_progress(self._parts.update(status))

    def _on_postprocess(self, status: dict[str, Any]) -> None:
        self._check_cancel()
        # yt-dlp's own bookkeeping hooks (names starting with "_") run before the download too;
        # they are not a postprocessing step a user would recognise
        message = step_message(str(status.get("postprocessor") or ""))
        if status.get("status") == "started" and message is not None:
            self.on_progress(DownloadProgress(stage="postprocessing", message=message))


def _read_at_most(response: Any, size: int) -> bytes:
    """Up to ``size`` bytes of ``response``, read in chunks: no buffer of ``size`` up front,
    and the budget checks its deadline between them."""
    data = bytearray()
    while len(data) < size:
        chunk = response.read(min(fetchlimits.READ_CHUNK, size - len(data)))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _image_ext(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _free_bytes(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None
