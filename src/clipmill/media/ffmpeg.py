"""ffmpeg and ffprobe: find them, probe files, and run ffmpeg so that it can be cancelled.

Every input this module gives ffmpeg or ffprobe is one local file read by a single-file demuxer:
``-format_whitelist`` and ``-protocol_whitelist file`` go before each input and the first bytes
are sniffed first (see ``containers``), so a playlist, manifest or crafted file can never make
ffmpeg open another file or the network. Error messages carry ffmpeg's words without memory
addresses or server paths. ffmpeg runs in its own session by default so that cancelling kills
it and anything it spawned as one process group.
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

from clipmill.cancellation import CancelSignal
from clipmill.errors import BrokenMedia, DependencyMissing, JobCancelled, UnsupportedMedia
from clipmill.media import containers
from clipmill.media.containers import FORMAT_WHITELIST as FORMAT_WHITELIST
from clipmill.media.containers import PROTOCOL_WHITELIST as PROTOCOL_WHITELIST
from clipmill.media.containers import refuse_unless_media as refuse_unless_media
from clipmill.media.netguard import direct_env
from clipmill.observability.redact import redact

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
    bit_rate: int | None = None
    """Bits per second, when the container states it per stream (MP4 does, Matroska not)."""


@dataclass(frozen=True)
class MediaProbe:
    """What a local media file contains."""

    path: Path
    duration: float | None
    format_name: str | None
    streams: tuple[StreamInfo, ...]
    bit_rate: int | None = None
    """Bits per second of the whole file."""

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
            [exe, "-hide_banner", "-version"],
            capture_output=True,
            text=True,
            timeout=20,
            env=direct_env(),
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    match = re.search(r"version\s+(\S+)", out)
    return match.group(1) if match else "unknown"


def guarded_tools_dir(data_dir: Path, tools: FFmpegTools | None = None) -> str:
    """A directory of ``ffmpeg``/``ffprobe`` wrappers that put the whitelists before every
    input (``<data_dir>/bin``): what yt-dlp gets as ``ffmpeg_location``, so its
    postprocessors and ffprobe calls read received files as ours do."""
    tools = tools or find_ffmpeg()
    directory = Path(os.path.abspath(data_dir)) / "bin"
    containers.write_guard_scripts(directory, ffmpeg=tools.ffmpeg, ffprobe=tools.ffprobe)
    return str(directory)


def file_arg(path: Path | str) -> str:
    """An ffmpeg argument that always means this local file (even if it starts with ``-``)."""
    return f"file:{os.fspath(path)}"


def probe_file(path: Path | str, *, timeout: float = 60) -> MediaProbe:
    """Describe a local media file.

    UnsupportedMedia when its content is a playlist, manifest, page or other text, or a format
    outside ``FORMAT_WHITELIST``; BrokenMedia when ffmpeg cannot read it.
    """
    path = Path(path)
    if not path.is_file():
        raise BrokenMedia(f"not a file: {path.name}")
    containers.refuse_unless_media(path)
    tools = find_ffmpeg()
    if tools.ffprobe is None:
        return _probe_with_ffmpeg(tools.ffmpeg, path, timeout)
    cmd = [
        tools.ffprobe, "-v", "error", *containers.input_guard(file_arg(path)),
        "-print_format", "json", "-show_format", "-show_streams", file_arg(path),
    ]  # fmt: skip
    try:
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=direct_env(),
        )
    except subprocess.TimeoutExpired as exc:
        raise BrokenMedia(f"ffprobe timed out on {path.name}") from exc
    if done.returncode != 0:
        _raise_refused(done.stderr, path.name)
        raise BrokenMedia(f"unreadable media {path.name}: {_tail(done.stderr, paths=[path])}")
    try:
        data = json.loads(done.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise BrokenMedia(f"ffprobe gave no readable answer for {path.name}") from exc
    streams = tuple(_stream_from_json(s) for s in data.get("streams", []))
    if not streams:
        raise BrokenMedia(f"no audio or video streams in {path.name}")
    fmt = data.get("format", {})
    return MediaProbe(
        path, _float(fmt.get("duration")), fmt.get("format_name"), streams,
        bit_rate=_int(fmt.get("bit_rate")),
    )  # fmt: skip


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
        bit_rate=_int(raw.get("bit_rate")),
    )


_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_INPUT_RE = re.compile(r"Input #0, ([^,]+(?:,[^,\s]+)*), from")
_STREAM_RE = re.compile(r"Stream #0:(\d+)[^:]*: (Video|Audio|Subtitle|Data|Attachment): (\w+)(.*)")


def _probe_with_ffmpeg(ffmpeg: str, path: Path, timeout: float) -> MediaProbe:
    """Parse ``ffmpeg -i`` output: the fallback when only the imageio-ffmpeg binary exists."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin",
           *containers.guard_ffmpeg_args(["-i", file_arg(path)])]  # fmt: skip
    try:
        text = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=direct_env()
        ).stderr
    except subprocess.TimeoutExpired as exc:
        raise BrokenMedia(f"ffmpeg timed out reading {path.name}") from exc
    _raise_refused(text, path.name)
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
        raise BrokenMedia(f"unreadable media {path.name}: {_tail(text, paths=[path])}")
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
    cancel: CancelSignal | None = None,
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
        "-progress", "pipe:1", "-y", *containers.guard_ffmpeg_args(args),
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=new_session,
        env=direct_env(),
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
        text = "\n".join(stderr_tail)
        inputs = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "-i"]
        _raise_refused(text, ", ".join(_display_name(name) for name in inputs) or "the input")
        files = [a.removeprefix("file:") for a in args if a.startswith(("file:", "/"))]
        detail = _tail(text, lines=_STDERR_TAIL, paths=files) if text else ""
        raise BrokenMedia(f"ffmpeg failed: {detail or f'exit status {proc.returncode}'}")


_REFUSED = re.compile(r"\[(\w+) @ (?:0x)?[0-9a-fA-F]+\] Format not on whitelist")
_DEMUXER_NAMES = {
    "hls": "an HLS playlist", "dash": "a DASH manifest", "concat": "an ffconcat script",
    "sdp": "an SDP session description", "rtp": "an RTP stream", "imf": "an IMF playlist",
    "image2": "an image sequence",
}  # fmt: skip


def _raise_refused(stderr: str, name: str) -> None:
    """UnsupportedMedia if ffmpeg refused the input's format (it is not on the whitelist)."""
    if "Format not on whitelist" not in stderr:
        return
    match = _REFUSED.search(stderr)
    demuxer = match.group(1) if match else None
    if demuxer in _DEMUXER_NAMES:
        message = f"{name} is {_DEMUXER_NAMES[demuxer]}, not an audio or video file."
    else:
        seen = f" (ffmpeg reads it as {demuxer})" if demuxer else ""
        message = f"{name} is not in an audio or video format clipmill accepts{seen}."
    raise UnsupportedMedia(message, content=demuxer)


def _display_name(arg: str) -> str:
    return Path(arg.removeprefix("file:")).name or arg


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


@dataclass(frozen=True)
class AudioEncoder:
    """How ffmpeg writes the audio of one kind of file."""

    args: tuple[str, ...]
    default_kbps: int | None = None
    """None for lossless encoders: no bitrate applies."""
    max_kbps: int | None = None
    """The highest bitrate this encoder delivers for mono and stereo alike (Debian's ffmpeg 5.1):
    libopus refuses more than 256k per channel, so a mono source fails above it."""

    @property
    def lossy(self) -> bool:
        return self.default_kbps is not None

    def arguments(self, kbps: int | None = None) -> list[str]:
        """Encoder arguments at ``kbps`` (clamped into range; the default when None)."""
        if self.default_kbps is None:
            return list(self.args)
        rate = self.default_kbps if kbps is None else kbps
        if self.max_kbps is not None:
            rate = min(rate, self.max_kbps)
        return [*self.args, "-b:a", f"{max(MIN_AUDIO_KBPS, rate)}k"]


MIN_AUDIO_KBPS = 32
_AAC = AudioEncoder(("-c:a", "aac"), 160, 320)
_OPUS = AudioEncoder(("-c:a", "libopus"), 128, 256)
AUDIO_ENCODERS: dict[str, AudioEncoder] = {
    ".mp4": _AAC,
    ".mkv": _AAC,
    ".mov": _AAC,
    ".m4a": _AAC,
    ".aac": AudioEncoder(("-c:a", "aac", "-f", "adts"), 160, 320),
    ".webm": _OPUS,
    ".opus": _OPUS,
    ".ogg": _OPUS,
    ".mp3": AudioEncoder(("-c:a", "libmp3lame"), 192, 320),
    ".flac": AudioEncoder(("-c:a", "flac")),
    ".wav": AudioEncoder(("-c:a", "pcm_s16le")),
}
"""Audio encoder by output extension."""


def _source_kbps(probe: MediaProbe) -> int | None:
    """The source's audio bitrate: its stream's, or the file's when audio is all it holds."""
    audio = probe.audio
    rate = audio.bit_rate if audio is not None else None
    if rate is None and not probe.has_video:
        rate = probe.bit_rate
    return round(rate / 1000) if rate else None


def _codec_args(dst: Path, probe: MediaProbe, audio_kbps: int | None = None) -> list[str]:
    suffix = dst.suffix.lower()
    if suffix not in AUDIO_ENCODERS:
        raise BrokenMedia(f"cannot write {suffix or 'extensionless'} files")
    args: list[str] = []
    video = probe.has_video and suffix in _VIDEO_CODECS
    if video:
        args += ["-map", "0:V:0", *_VIDEO_CODECS[suffix]]
    if probe.has_audio:
        if audio_kbps is None and not video:
            # an audio-only cut keeps the bitrate the download was converted to
            audio_kbps = _source_kbps(probe)
        args += ["-map", "0:a:0", *AUDIO_ENCODERS[suffix].arguments(audio_kbps)]
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
    cancel: CancelSignal | None = None,
    on_progress: Callable[[float], None] | None = None,
    timeout: float | None = None,
    new_session: bool = True,
    audio_bitrate_kbps: int | None = None,
) -> Path:
    """Cut ``[start, end)`` seconds of ``src`` into ``dst``, re-encoded so cuts land on the
    requested time (stream copy would snap to keyframes, seconds away). Codecs follow ``dst``'s
    extension; subtitles and cover images are dropped. Lossy audio is written at
    ``audio_bitrate_kbps``; without it an audio-only cut keeps the source's bitrate."""
    if end <= start or start < 0:
        raise BrokenMedia(f"invalid section {start}-{end}")
    probe = probe_file(src)
    args = [
        "-ss", f"{start:.3f}", "-i", file_arg(src), "-t", f"{end - start:.3f}",
        *_codec_args(dst, probe, audio_bitrate_kbps), "-map_metadata", "0", "-sn", "-dn",
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
    sample_rate: int | None = 16000,
    mono: bool = True,
    audio_bitrate_kbps: int | None = None,
    cancel: CancelSignal | None = None,
    on_progress: Callable[[float], None] | None = None,
    timeout: float | None = None,
    new_session: bool = True,
) -> Path:
    """Write the first audio stream of ``src`` to ``dst`` (codec from its extension, lossy
    codecs at ``audio_bitrate_kbps`` or their default), resampled to what speech recognition
    expects by default; ``sample_rate=None, mono=False`` keep the source's."""
    probe = probe_file(src)
    if not probe.has_audio:
        raise BrokenMedia(f"{src.name} has no audio")
    suffix = dst.suffix.lower()
    encoder = AUDIO_ENCODERS.get(suffix)
    if encoder is None:
        raise BrokenMedia(f"cannot write audio as {suffix or 'extensionless'}")
    channels = ["-ac", "1"] if mono else []
    rate = ["-ar", str(sample_rate)] if sample_rate else []
    args = ["-i", file_arg(src), "-map", "0:a:0", "-vn", "-sn", "-dn", *channels, *rate,
            *encoder.arguments(audio_bitrate_kbps), file_arg(dst)]  # fmt: skip
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
    cancel: CancelSignal | None = None,
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


def clean_message(text: str, paths: Iterable[Path | str] = ()) -> str:
    """ffmpeg's words without memory addresses (``[hls @ 0x55d0...]`` -> ``[hls]``) or server
    paths: known ``paths`` become their file name, any other absolute path its last part."""
    for path in sorted((os.fspath(p) for p in paths), key=len, reverse=True):
        if path:
            text = text.replace(f"file:{path}", Path(path).name).replace(path, Path(path).name)
    return redact(text)


def _tail(text: str, lines: int = 3, *, paths: Iterable[Path | str] = ()) -> str:
    kept: Iterable[str] = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return clean_message(" | ".join(list(kept)[-lines:]), paths) or "no details"


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
