"""ffmpeg and ffprobe: find them, probe files, and run ffmpeg so that it can be cancelled.

Every ffmpeg this module starts reads local files only: ``-protocol_whitelist file,pipe`` goes
before each input, so a hostile playlist or a crafted file can never make ffmpeg open the network
(the download side is guarded separately in ``netguard``). ffmpeg runs in its own session by
default so that cancelling kills it and anything it spawned as one process group.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from clipmill.errors import BrokenMedia, DependencyMissing, JobCancelled

PROTOCOL_WHITELIST = "file,pipe"
"""The only protocols ffmpeg may open: local files and our own pipes."""

_STDERR_TAIL = 12


@dataclass(frozen=True)
class FFmpegTools:
    """Where ffmpeg (and ffprobe, when there is one) live, and which build we found."""

    ffmpeg: str
    ffprobe: str | None
    source: Literal["system", "imageio-ffmpeg"]
    version: str


@dataclass(frozen=True)
class StreamInfo:
    """One stream of a media file as ffprobe describes it."""

    index: int
    codec_type: str
    codec_name: str | None
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    attached_pic: bool = False
    """A cover image stored as a video stream (embedded thumbnails); not real video."""


@dataclass(frozen=True)
class MediaProbe:
    """What a local media file contains."""

    path: Path
    duration: float | None
    format_name: str | None
    streams: tuple[StreamInfo, ...]

    @property
    def video(self) -> StreamInfo | None:
        """The first real video stream (cover images excluded)."""
        return next(
            (s for s in self.streams if s.codec_type == "video" and not s.attached_pic), None
        )

    @property
    def audio(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.codec_type == "audio"), None)

    @property
    def has_video(self) -> bool:
        return self.video is not None

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    def of_type(self, codec_type: str) -> tuple[StreamInfo, ...]:
        return tuple(s for s in self.streams if s.codec_type == codec_type)


@functools.cache
def find_ffmpeg() -> FFmpegTools:
    """Prefer the system ffmpeg (it ships ffprobe); fall back to the imageio-ffmpeg wheel."""
    system = shutil.which("ffmpeg")
    if system:
        return FFmpegTools(system, shutil.which("ffprobe"), "system", _version(system))
    try:
        import imageio_ffmpeg
    except ImportError:  # pragma: no cover - it is a declared dependency
        imageio_ffmpeg = None
    if imageio_ffmpeg is not None:
        with contextlib.suppress(RuntimeError):
            exe = imageio_ffmpeg.get_ffmpeg_exe()
            # the wheel has no ffprobe; probe_file parses `ffmpeg -i` instead
            return FFmpegTools(exe, None, "imageio-ffmpeg", _version(exe))
    raise DependencyMissing("ffmpeg not found: install it or the imageio-ffmpeg package")


def _version(exe: str) -> str:
    try:
        out = subprocess.run(
            [exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    match = re.search(r"version\s+(\S+)", out)
    return match.group(1) if match else "unknown"


def file_arg(path: Path | str) -> str:
    """An ffmpeg argument that always means this local file (even if it starts with ``-``)."""
    return f"file:{os.fspath(path)}"


def probe_file(path: Path | str, *, timeout: float = 60) -> MediaProbe:
    """Describe a local media file; BrokenMedia when ffmpeg cannot read it."""
    path = Path(path)
    if not path.is_file():
        raise BrokenMedia(f"not a file: {path.name}")
    tools = find_ffmpeg()
    if tools.ffprobe is None:
        return _probe_with_ffmpeg(tools.ffmpeg, path, timeout)
    cmd = [
        tools.ffprobe, "-v", "error", "-protocol_whitelist", PROTOCOL_WHITELIST,
        "-print_format", "json", "-show_format", "-show_streams", file_arg(path),
    ]  # fmt: skip
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise BrokenMedia(f"ffprobe timed out on {path.name}") from exc
    if done.returncode != 0:
        raise BrokenMedia(f"unreadable media {path.name}: {_tail(done.stderr)}")
    try:
        data = json.loads(done.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise BrokenMedia(f"ffprobe gave no readable answer for {path.name}") from exc
    streams = tuple(_stream_from_json(s) for s in data.get("streams", []))
    if not streams:
        raise BrokenMedia(f"no audio or video streams in {path.name}")
    fmt = data.get("format", {})
    return MediaProbe(path, _float(fmt.get("duration")), fmt.get("format_name"), streams)


def _stream_from_json(raw: dict[str, Any]) -> StreamInfo:
    return StreamInfo(
        index=int(raw.get("index", 0)),
        codec_type=str(raw.get("codec_type", "unknown")),
        codec_name=raw.get("codec_name"),
        width=raw.get("width"),
        height=raw.get("height"),
        sample_rate=_int(raw.get("sample_rate")),
        channels=raw.get("channels"),
        attached_pic=bool(raw.get("disposition", {}).get("attached_pic")),
    )


_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_INPUT_RE = re.compile(r"Input #0, ([^,]+(?:,[^,\s]+)*), from")
_STREAM_RE = re.compile(r"Stream #0:(\d+)[^:]*: (Video|Audio|Subtitle|Data|Attachment): (\w+)(.*)")


def _probe_with_ffmpeg(ffmpeg: str, path: Path, timeout: float) -> MediaProbe:
    """Parse ``ffmpeg -i`` output: the fallback when only the imageio-ffmpeg binary exists."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-protocol_whitelist", PROTOCOL_WHITELIST,
           "-i", file_arg(path)]  # fmt: skip
    try:
        text = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout).stderr
    except subprocess.TimeoutExpired as exc:
        raise BrokenMedia(f"ffmpeg timed out reading {path.name}") from exc
    streams = []
    for match in _STREAM_RE.finditer(text):
        index, kind, codec, rest = match.groups()
        size = re.search(r"\b(\d{2,5})x(\d{2,5})\b", rest)
        rate = re.search(r"(\d+) Hz", rest)
        layout = re.search(r"Hz, (\w+)", rest)
        channels = {"mono": 1, "stereo": 2}.get(layout.group(1)) if layout else None
        streams.append(
            StreamInfo(
                index=int(index),
                codec_type=kind.lower(),
                codec_name=codec,
                width=int(size.group(1)) if size else None,
                height=int(size.group(2)) if size else None,
                sample_rate=int(rate.group(1)) if rate else None,
                channels=channels,
                attached_pic="attached pic" in rest,
            )
        )
    if not streams:
        raise BrokenMedia(f"unreadable media {path.name}: {_tail(text)}")
    duration = _DURATION_RE.search(text)
    seconds = (
        int(duration.group(1)) * 3600 + int(duration.group(2)) * 60 + float(duration.group(3))
        if duration
        else None
    )
    fmt = _INPUT_RE.search(text)
    return MediaProbe(path, seconds, fmt.group(1) if fmt else None, tuple(streams))


def run_ffmpeg(
    args: Sequence[str],
    *,
    cancel: threading.Event | None = None,
    on_progress: Callable[[float], None] | None = None,
    timeout: float | None = None,
    new_session: bool = True,
) -> None:
    """Run ffmpeg with ``args`` (inputs and outputs), reporting output seconds as it goes.

    ``new_session=False`` keeps ffmpeg in the caller's process group: the download child
    (isolation.py) uses it so that killing the child's group also kills its ffmpeg.
    Raises JobCancelled when ``cancel`` is set and BrokenMedia when ffmpeg fails or times out.
    """
    tools = find_ffmpeg()
    cmd = [
        tools.ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-nostats",
        "-progress", "pipe:1", "-y", *_whitelist_inputs(args),
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=new_session,
    )
    progress: queue.Queue[float] = queue.Queue()
    stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL)
    readers = [
        threading.Thread(target=_read_progress, args=(proc.stdout, progress), daemon=True),
        threading.Thread(target=_read_lines, args=(proc.stderr, stderr_tail), daemon=True),
    ]
    for reader in readers:
        reader.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while proc.poll() is None:
            if cancel is not None and cancel.is_set():
                _kill(proc, new_session)
                raise JobCancelled("cancelled while ffmpeg was running")
            if deadline is not None and time.monotonic() > deadline:
                _kill(proc, new_session)
                raise BrokenMedia(f"ffmpeg took longer than {timeout:.0f} s")
            _drain(progress, on_progress, wait=0.1)
    finally:
        if proc.poll() is None:
            _kill(proc, new_session)
        for reader in readers:
            reader.join(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    _drain(progress, on_progress, wait=0)
    if proc.returncode != 0:
        detail = " | ".join(stderr_tail) or f"exit status {proc.returncode}"
        raise BrokenMedia(f"ffmpeg failed: {detail}")


def _whitelist_inputs(args: Sequence[str]) -> list[str]:
    """Put the protocol whitelist right before every ``-i`` (it is a per-input option)."""
    out: list[str] = []
    for arg in args:
        if arg == "-i":
            out += ["-protocol_whitelist", PROTOCOL_WHITELIST]
        out.append(arg)
    return out


def _read_progress(stream: IO[str] | None, sink: queue.Queue[float]) -> None:
    if stream is None:
        return
    for line in stream:
        key, _, value = line.strip().partition("=")
        if key == "out_time_us" and value.lstrip("-").isdigit():
            sink.put(max(0.0, int(value) / 1_000_000))


def _read_lines(stream: IO[str] | None, sink: deque[str]) -> None:
    if stream is None:
        return
    for line in stream:
        if line.strip():
            sink.append(line.strip())


def _drain(
    progress: queue.Queue[float], on_progress: Callable[[float], None] | None, *, wait: float
) -> None:
    try:
        value = progress.get(timeout=wait) if wait else progress.get_nowait()
    except queue.Empty:
        return
    latest = value
    while True:
        try:
            latest = progress.get_nowait()
        except queue.Empty:
            break
    if on_progress is not None:
        on_progress(latest)


def _kill(proc: subprocess.Popen[str], own_group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if own_group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


# --- the operations the pipelines need -----------------------------------------------------

_X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
_VP9 = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
        "-b:v", "0", "-crf", "32"]  # fmt: skip
_VIDEO_CODECS: dict[str, list[str]] = {".mp4": _X264, ".mkv": _X264, ".mov": _X264, ".webm": _VP9}
_AUDIO_CODECS: dict[str, list[str]] = {
    ".mp4": ["-c:a", "aac", "-b:a", "160k"],
    ".mkv": ["-c:a", "aac", "-b:a", "160k"],
    ".mov": ["-c:a", "aac", "-b:a", "160k"],
    ".m4a": ["-c:a", "aac", "-b:a", "160k"],
    ".aac": ["-c:a", "aac", "-b:a", "160k", "-f", "adts"],
    ".webm": ["-c:a", "libopus", "-b:a", "128k"],
    ".opus": ["-c:a", "libopus", "-b:a", "128k"],
    ".ogg": ["-c:a", "libopus", "-b:a", "128k"],
    ".mp3": ["-c:a", "libmp3lame", "-b:a", "192k"],
    ".flac": ["-c:a", "flac"],
    ".wav": ["-c:a", "pcm_s16le"],
}


def _codec_args(dst: Path, probe: MediaProbe) -> list[str]:
    suffix = dst.suffix.lower()
    if suffix not in _AUDIO_CODECS:
        raise BrokenMedia(f"cannot write {suffix or 'extensionless'} files")
    args: list[str] = []
    if probe.has_video and suffix in _VIDEO_CODECS:
        args += ["-map", "0:V:0", *_VIDEO_CODECS[suffix]]
    if probe.has_audio:
        args += ["-map", "0:a:0", *_AUDIO_CODECS[suffix]]
    if not args:
        raise BrokenMedia(f"{probe.path.name} has nothing to write into a {suffix} file")
    if suffix in {".mp4", ".m4a", ".mov"}:
        args += ["-movflags", "+faststart"]
    return args


def cut_section(
    src: Path,
    dst: Path,
    start: float,
    end: float,
    *,
    cancel: threading.Event | None = None,
    on_progress: Callable[[float], None] | None = None,
    timeout: float | None = None,
    new_session: bool = True,
) -> Path:
    """Cut ``[start, end)`` seconds of ``src`` into ``dst``, re-encoded so cuts land on the
    requested time (stream copy would snap to keyframes, seconds away). Codecs follow ``dst``'s
    extension; subtitles and cover images are dropped."""
    if end <= start or start < 0:
        raise BrokenMedia(f"invalid section {start}-{end}")
    probe = probe_file(src)
    args = [
        "-ss", f"{start:.3f}", "-i", file_arg(src), "-t", f"{end - start:.3f}",
        *_codec_args(dst, probe), "-map_metadata", "0", "-sn", "-dn",
        "-avoid_negative_ts", "make_zero", file_arg(dst),
    ]  # fmt: skip
    run_ffmpeg(
        args, cancel=cancel, on_progress=on_progress, timeout=timeout, new_session=new_session
    )
    return dst


def extract_audio(
    src: Path,
    dst: Path,
    *,
    sample_rate: int = 16000,
    mono: bool = True,
    cancel: threading.Event | None = None,
    on_progress: Callable[[float], None] | None = None,
    timeout: float | None = None,
    new_session: bool = True,
) -> Path:
    """Write the first audio stream of ``src`` to ``dst`` (codec from its extension), resampled
    to what speech recognition expects by default."""
    probe = probe_file(src)
    if not probe.has_audio:
        raise BrokenMedia(f"{src.name} has no audio")
    suffix = dst.suffix.lower()
    codec = _AUDIO_CODECS.get(suffix)
    if codec is None:
        raise BrokenMedia(f"cannot write audio as {suffix or 'extensionless'}")
    channels = ["-ac", "1"] if mono else []
    args = ["-i", file_arg(src), "-map", "0:a:0", "-vn", "-sn", "-dn", *channels,
            "-ar", str(sample_rate), *codec, file_arg(dst)]  # fmt: skip
    run_ffmpeg(
        args, cancel=cancel, on_progress=on_progress, timeout=timeout, new_session=new_session
    )
    return dst


def make_thumbnail(
    src: Path,
    dst: Path,
    at_seconds: float = 0.0,
    *,
    width: int | None = None,
    cancel: threading.Event | None = None,
    timeout: float | None = 60,
    new_session: bool = True,
) -> Path:
    """Write one frame of ``src`` at ``at_seconds`` (clamped into the video) as an image."""
    probe = probe_file(src)
    if not probe.has_video:
        raise BrokenMedia(f"{src.name} has no video to take a thumbnail from")
    at = max(0.0, at_seconds)
    if probe.duration:
        at = min(at, max(0.0, probe.duration - 0.1))
    scale = ["-vf", f"scale={width}:-2"] if width else []
    args = ["-ss", f"{at:.3f}", "-i", file_arg(src), "-map", "0:V:0", "-frames:v", "1",
            *scale, "-q:v", "2", file_arg(dst)]  # fmt: skip
    run_ffmpeg(args, cancel=cancel, timeout=timeout, new_session=new_session)
    if not dst.is_file() or dst.stat().st_size == 0:
        raise BrokenMedia(f"no frame at {at:.1f} s in {src.name}")
    return dst


def _tail(text: str, lines: int = 3) -> str:
    kept: Iterable[str] = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(list(kept)[-lines:]) or "no details"


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
