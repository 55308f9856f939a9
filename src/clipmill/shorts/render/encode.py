"""One clip: a frame-accurate cut, the virtual camera's moving crop, burned captions, H.264/AAC.

How the cut stays frame-accurate and in sync: ``-ss`` goes before ``-i`` (a fast seek to the
keyframe before the start; ffmpeg then decodes and drops what lies before the start, for video
and audio alike, so both start at the same instant), and ``trim``/``atrim`` end both streams at
the planned length. The file is re-encoded, so cuts need no keyframe. The span is first moved onto
the output's frame grid (`clipmill.shorts.render.frames`), an ``fps`` filter puts the picture on
that grid, and ``trim`` counts the span's frames, so the clip is a whole number of frames whatever
the timestamps' rounding. After the encode, ffprobe must find the
planned length to within what the encoders legitimately add (`length_tolerance`), or the render
fails with `RenderFailed`: our error, not the user's file.

The moving crop: a `crop` filter instance named ``crop@cam`` whose ``x`` and ``y`` a ``sendcmd``
file changes frame by frame (Debian's ffmpeg 5.1 accepts both as runtime commands). The file is
written from the camera's `CropPath`, one command half a frame before each frame whose window
moved, so frame timestamps that wobble still get their own position. ``fit`` shows the whole
frame instead, scaled into the output over a blurred, darkened copy of itself.

Nothing user-supplied reaches the filter graph: captions are read by libass from the .ass file
(``ass=``) whose path, like the commands file's, is ours and escaped for both levels of the
filter syntax. The source is read through `run_ffmpeg`, which puts the demuxer and protocol
whitelists before the input. ``render_clip_in_child`` runs the same in a killable child process.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from clipmill.cancellation import CancelSignal
from clipmill.errors import BrokenMedia, RenderFailed
from clipmill.media import containers
from clipmill.media.ffmpeg import MediaProbe, file_arg, find_ffmpeg, probe_file, run_ffmpeg
from clipmill.shorts.job_schemas import AspectRatio, Resolution, frame_size
from clipmill.shorts.render.frames import FrameSpan, frame_grid, snap_span

CAMERA_FILTER = "crop@cam"
"""The crop instance the ``sendcmd`` commands address."""

MAX_FPS = 60.0
FALLBACK_FPS = 30.0
"""Output rate when the source's rate is unknown or above ``MAX_FPS``."""


@dataclass(frozen=True)
class EncodeSettings:
    """Encoder choices. Defaults measured by bench/encode_settings.py (docs/benchmarks.md)."""

    preset: str = "veryfast"
    crf: int = 21
    audio_kbps: int = 128
    audio_rate: int = 48_000


DEFAULT_SETTINGS = EncodeSettings()


@dataclass(frozen=True)
class RenderedVideo:
    """What `render_clip` wrote: frame size, duration (ffprobe's) and bytes, and the span of the
    source it shows (the asked span on the frame grid)."""

    width: int
    height: int
    duration: float
    size: int
    start: float
    end: float


class CropPath(Protocol):
    """The virtual camera's crop window over one clip, in source pixels.

    The window keeps its size for the whole clip (the output shape does not change); only its
    top-left corner moves. ``t`` is seconds from the clip's start.
    """

    def window_size(self) -> tuple[int, int]:
        """(width, height) of the window."""
        ...

    def position_at(self, t: float) -> tuple[int, int]:
        """(x, y) of the window's top-left corner at ``t`` seconds into the clip."""
        ...


@dataclass(frozen=True)
class FixedCrop:
    """A window that does not move (a centred crop, or a camera that holds still)."""

    width: int
    height: int
    x: int
    y: int

    def window_size(self) -> tuple[int, int]:
        return (self.width, self.height)

    def position_at(self, t: float) -> tuple[int, int]:
        return (self.x, self.y)


@dataclass(frozen=True)
class SampledCrop:
    """A `CropPath` read once per output frame: plain values that pickle into a child process
    whatever the camera's own type is."""

    width: int
    height: int
    fps: float
    positions: tuple[tuple[int, int], ...]

    @classmethod
    def sample(cls, path: CropPath, *, fps: float, duration: float) -> SampledCrop:
        width, height = path.window_size()
        count = max(1, math.ceil(duration * fps) + 1)
        positions = tuple(_int_pair(path.position_at(i / fps)) for i in range(count))
        return cls(int(width), int(height), fps, positions)

    def window_size(self) -> tuple[int, int]:
        return (self.width, self.height)

    def position_at(self, t: float) -> tuple[int, int]:
        index = min(max(0, round(t * self.fps)), len(self.positions) - 1)
        return self.positions[index]


def _int_pair(pair: tuple[float, float]) -> tuple[int, int]:
    return (round(pair[0]), round(pair[1]))


# --- shapes ----------------------------------------------------------------------------------


def output_size(aspect: AspectRatio, resolution: Resolution) -> tuple[int, int]:
    """(width, height) of a rendered clip (`job_schemas.frame_size`: 1080p 9:16 is 1080x1920,
    4:5 is 1080x1350, 16:9 is 1920x1080)."""
    return frame_size(aspect, resolution)


def centre_crop(source_size: tuple[int, int], frame: tuple[int, int]) -> FixedCrop:
    """The largest window of the ``frame``'s shape in the middle of the source."""
    source_w, source_h = source_size
    width = min(source_w, round(source_h * frame[0] / frame[1]))
    height = min(source_h, round(source_w * frame[1] / frame[0]))
    return FixedCrop(width, height, (source_w - width) // 2, (source_h - height) // 2)


# --- the filter graph --------------------------------------------------------------------------

_FILTER_SPECIAL = re.compile(r"([\\':=,;\[\]\s])")


def filter_path(path: Path) -> str:
    """``path`` as a filter option value inside a filter graph: escaped once for the option
    parser and once more for the graph parser (both read ``\\`` as "next character is
    literal")."""
    once = _FILTER_SPECIAL.sub(r"\\\1", os.path.abspath(path))
    return _FILTER_SPECIAL.sub(r"\\\1", once)


def sendcmd_text(path: CropPath, *, fps: float, duration: float, bounds: tuple[int, int]) -> str:
    """``sendcmd`` commands that move ``crop@cam`` along ``path``: for each frame whose window
    moved, ``x`` and ``y`` half a frame before the frame is due."""
    lines = []
    last = _clamped(path, 0.0, bounds)
    for index in range(1, max(1, math.ceil(duration * fps))):
        position = _clamped(path, index / fps, bounds)
        if position != last:
            at = (index - 0.5) / fps
            lines.append(
                f"{at:.6f} {CAMERA_FILTER} x {position[0]}, {CAMERA_FILTER} y {position[1]};"
            )
            last = position
    return "\n".join(lines) + ("\n" if lines else "")


def _clamped(path: CropPath, t: float, bounds: tuple[int, int]) -> tuple[int, int]:
    width, height = path.window_size()
    x, y = _int_pair(path.position_at(t))
    return (min(max(0, x), bounds[0] - width), min(max(0, y), bounds[1] - height))


def shape_filters(
    *,
    source_size: tuple[int, int],
    size: tuple[int, int],
    crop: CropPath | None,
    fit: bool,
    commands: Path | None = None,
    at: float = 0.0,
    tag: str = "",
) -> str:
    """The filters from a source frame to an output frame (no input or output labels).

    ``fit`` scales the whole frame over a blurred copy; otherwise the window of ``crop`` (the
    centre when None) is cut out and scaled, moved by the ``commands`` file when given, else
    held where it is at ``at`` seconds into the clip. ``tag`` keeps the labels of the fit
    chain apart when one graph holds several.
    """
    width, height = size
    if fit:
        small_w, small_h = max(2, width // 8 // 2 * 2), max(2, height // 8 // 2 * 2)
        return (
            f"split=2[fg{tag}][bg{tag}];"
            f"[bg{tag}]scale={small_w}:{small_h}:force_original_aspect_ratio=increase,"
            f"crop={small_w}:{small_h},boxblur=luma_radius=6:luma_power=2,"
            f"eq=brightness=-0.12,scale={width}:{height},setsar=1[blurred{tag}];"
            f"[fg{tag}]scale={width}:{height}:force_original_aspect_ratio=decrease:"
            f"force_divisible_by=2:flags=lanczos,setsar=1[front{tag}];"
            f"[blurred{tag}][front{tag}]overlay=(W-w)/2:(H-h)/2"
        )
    window = crop or centre_crop(source_size, size)
    crop_w, crop_h = window.window_size()
    if crop_w > source_size[0] or crop_h > source_size[1] or crop_w < 2 or crop_h < 2:
        raise BrokenMedia(
            f"crop window {crop_w}x{crop_h} does not fit the {source_size[0]}x{source_size[1]} "
            "source"
        )
    x, y = _clamped(window, at, source_size)
    move = f"sendcmd=f={filter_path(commands)}," if commands is not None else ""
    return (
        f"{move}{CAMERA_FILTER}=w={crop_w}:h={crop_h}:x={x}:y={y},"
        f"scale={width}:{height}:flags=lanczos,setsar=1"
    )


# --- codecs ------------------------------------------------------------------------------------


def _codec_args(suffix: str, settings: EncodeSettings, probe: MediaProbe) -> list[str]:
    audio = probe.audio
    channels = ["-ac", "2"] if audio is not None and (audio.channels or 0) > 2 else []
    if suffix == ".webm":
        return [
            "-c:v", "libvpx-vp9", "-deadline", "good", "-cpu-used", "4", "-row-mt", "1",
            "-b:v", "0", "-crf", str(settings.crf + 12), "-pix_fmt", "yuv420p",
            "-c:a", "libopus", "-b:a", f"{settings.audio_kbps}k", "-ar", "48000", *channels,
            "-f", "webm",
        ]  # fmt: skip
    if suffix in {".mp4", ".mov", ".mkv"}:
        container = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}[suffix]
        faststart = ["-movflags", "+faststart"] if container != "matroska" else []
        return [
            "-c:v", "libx264", "-profile:v", "high", "-preset", settings.preset,
            "-crf", str(settings.crf), "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", f"{settings.audio_kbps}k", "-ar", str(settings.audio_rate),
            *channels, *faststart, "-f", container,
        ]  # fmt: skip
    raise BrokenMedia(f"cannot render clips as {suffix or 'extensionless'} files")


@dataclass(frozen=True)
class SourceVideo:
    """The source's picture as the filters see it: autorotated (a phone video stored sideways
    with a rotation is upright here), and its frame rate when ffprobe knows one."""

    width: int
    height: int
    fps: float | None


def source_video(path: Path, probe: MediaProbe | None = None) -> SourceVideo:
    """Display size and frame rate of the first video stream of ``path``."""
    probe = probe or probe_file(path)
    video = probe.video
    if video is None or not video.width or not video.height:
        raise BrokenMedia(f"{path.name} has no video")
    width, height, fps = video.width, video.height, None
    ffprobe = find_ffmpeg().ffprobe
    if ffprobe is None:
        return SourceVideo(width, height, None)
    cmd = [
        ffprobe, "-v", "error", *containers.input_guard(file_arg(path)), "-select_streams", "V:0",
        "-show_entries", "stream=avg_frame_rate,r_frame_rate:stream_side_data=rotation:"
        "stream_tags=rotate", "-of", "json", file_arg(path),
    ]  # fmt: skip
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )
        streams = json.loads(done.stdout or "{}").get("streams") or [{}]
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError):
        streams = [{}]
    stream = streams[0]
    for key in ("avg_frame_rate", "r_frame_rate"):
        num, _, den = str(stream.get(key, "")).partition("/")
        with contextlib.suppress(ValueError, ZeroDivisionError):
            value = float(num) / float(den or 1)
            if value > 0:
                fps = value
                break
    rotations = [d.get("rotation") for d in stream.get("side_data_list", [])]
    rotations.append((stream.get("tags") or {}).get("rotate"))
    for rotation in rotations:
        with contextlib.suppress(TypeError, ValueError):
            if round(float(rotation)) % 180 == 90:
                width, height = height, width
            break
    return SourceVideo(width, height, fps)


def output_rate(source_rate: float | None) -> tuple[float, bool]:
    """The rate a clip is rendered at, and whether it differs from the source's."""
    if source_rate is None or source_rate > MAX_FPS:
        return (FALLBACK_FPS if source_rate is None else MAX_FPS, True)
    return (float(frame_grid(source_rate)), False)


def clip_span(
    start: float, end: float, *, picture: SourceVideo, source_duration: float | None
) -> FrameSpan:
    """The span a clip of ``[start, end)`` really shows: on the frame grid of its output rate,
    inside the source. Everything about one clip (encode, camera, captions, subtitles) uses
    this span, so they agree to the frame. BrokenMedia for a span outside the source."""
    if not 0 <= start < end:
        raise BrokenMedia(f"invalid clip {start:.3f}-{end:.3f} s")
    if source_duration is not None and start >= source_duration:
        raise BrokenMedia(f"clip starts at {start:.2f} s, after the end of the source")
    rate = frame_grid(output_rate(picture.fps)[0])
    try:
        return snap_span(start, end, rate, source_end=source_duration)
    except ValueError as exc:
        raise BrokenMedia(f"no whole frame between {start:.3f} and {end:.3f} s") from exc


def length_tolerance(span: FrameSpan, audio_rate: int | None) -> float:
    """How far a good clip's length may be from ``span.duration``.

    Two video frames (a frame timestamp that rounds the other way at either end), and, with
    sound, two audio frames of 1024 samples (AAC codes whole 1024-sample frames, the last one
    padded, and the priming before the first; Opus frames are shorter). A render that is truly
    wrong (half the length, a frozen second) is far outside: 0.13 s at 23.976 fps with audio.
    """
    audio = 2 * 1024 / audio_rate if audio_rate else 0.0
    return 2 * span.frame + audio + 0.002


# --- rendering ---------------------------------------------------------------------------------


def render_clip(
    source: Path,
    output: Path,
    *,
    start: float,
    end: float,
    aspect: AspectRatio,
    resolution: Resolution,
    crop: CropPath | None = None,
    fit: bool = False,
    ass: Path | None = None,
    settings: EncodeSettings = DEFAULT_SETTINGS,
    cancel: CancelSignal | None = None,
    on_progress: Callable[[float], None] | None = None,
    timeout: float | None = None,
    new_session: bool = True,
) -> RenderedVideo:
    """Render ``[start, end)`` seconds of ``source`` into ``output`` at the size of ``aspect``
    and ``resolution``: cropped along ``crop`` (the centre when None) or, with ``fit``, the
    whole frame over a blurred copy; captions from the ``ass`` file burned in.

    Codecs follow ``output``'s extension (.mp4: H.264 High + AAC, yuv420p, moov first; .webm:
    VP9 + Opus). ``on_progress`` gets the seconds written. The file appears only when complete.
    The span is snapped to the output's frame grid first (`clip_span`); the result says which
    span it shows. Raises JobCancelled when ``cancel`` is set (ffmpeg is killed at once),
    BrokenMedia when the source cannot be read or the span lies outside it, and RenderFailed
    when the result is not the planned length or size.
    """
    probe = probe_file(source)
    picture = source_video(source, probe)
    span = clip_span(start, end, picture=picture, source_duration=probe.duration)
    fps, duration = float(span.rate), span.duration
    size = output_size(aspect, resolution)
    source_size = (picture.width, picture.height)

    output.parent.mkdir(parents=True, exist_ok=True)
    partial, commands = _scratch_files(output)
    moving = crop is not None and not fit
    if moving:
        assert crop is not None
        text = sendcmd_text(crop, fps=fps, duration=duration, bounds=source_size)
        moving = bool(text)
        if moving:
            commands.write_text(text)
    shape = shape_filters(
        source_size=source_size, size=size, crop=crop, fit=fit,
        commands=commands if moving else None,
    )  # fmt: skip
    captions = f",ass=filename={filter_path(ass)}" if ass is not None else ""
    # on the grid first, then counted: exactly ``span.count`` frames. (A time would not do:
    # after ``fps`` the time base is one frame, and ``trim=end`` rounds into it.)
    rate = f"fps={span.rate.numerator}/{span.rate.denominator}"
    graph = f"[0:V:0]{rate},trim=end_frame={span.count},{shape}{captions},format=yuv420p[v]"
    maps = ["-map", "[v]"]
    if probe.has_audio:
        graph += f";[0:a:0]atrim=end={duration:.6f}[a]"
        maps += ["-map", "[a]"]
    suffix = output.suffix.lower()
    # microseconds rounded down: rounded up, the seek would drop the span's first frame
    seek = math.floor(span.start * 1_000_000) / 1_000_000
    args = [
        "-ss", f"{seek:.6f}", "-i", file_arg(source), "-filter_complex", graph, *maps,
        *_codec_args(suffix, settings, probe),
        "-map_metadata", "-1", "-map_chapters", "-1", "-sn", "-dn", file_arg(partial),
    ]  # fmt: skip
    audio_rate = None
    if probe.has_audio:
        audio_rate = 48_000 if suffix == ".webm" else settings.audio_rate
    try:
        run_ffmpeg(
            args, cancel=cancel, on_progress=on_progress, timeout=timeout,
            new_session=new_session,
        )  # fmt: skip
        result = _check(partial, size=size, span=span, audio_rate=audio_rate)
        os.replace(partial, output)
    finally:
        commands.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return result


def _check(
    path: Path, *, size: tuple[int, int], span: FrameSpan, audio_rate: int | None
) -> RenderedVideo:
    """The encode's result against the plan. A miss is RenderFailed: ffmpeg read the source
    (it has just decoded it), so what went wrong is ours."""
    try:
        probe = probe_file(path)
    except BrokenMedia as exc:
        raise RenderFailed(f"the rendered clip cannot be read back: {exc.message}") from exc
    video = probe.video
    if video is None or probe.duration is None:
        raise RenderFailed("the rendered clip has no video")
    if abs(probe.duration - span.duration) > length_tolerance(span, audio_rate):
        raise RenderFailed(
            f"the rendered clip is {probe.duration:.3f} s long, planned {span.duration:.3f} s",
            planned=round(span.duration, 3),
            rendered=round(probe.duration, 3),
        )
    if (video.width, video.height) != size:
        raise RenderFailed(
            f"the rendered clip is {video.width}x{video.height}, not {size[0]}x{size[1]}"
        )
    return RenderedVideo(
        size[0], size[1], probe.duration, path.stat().st_size, span.start, span.end
    )


def render_clip_in_child(
    source: Path,
    output: Path,
    *,
    workdir: Path,
    cancel: CancelSignal,
    on_progress: Callable[[float], None] | None = None,
    **options: Any,
) -> RenderedVideo:
    """`render_clip` in a killable child process (`clipmill.childproc`) that dies with the
    server; the crop path is sampled here into a `SampledCrop`, so any camera type works."""
    from clipmill.childproc import run_in_child

    crop = options.get("crop")
    if crop is not None and not options.get("fit", False):
        probe = probe_file(source)
        span = clip_span(
            float(options["start"]), float(options["end"]),
            picture=source_video(source, probe), source_duration=probe.duration,
        )  # fmt: skip
        options["crop"] = SampledCrop.sample(crop, fps=float(span.rate), duration=span.duration)

    def relay(kind: str, payload: Any) -> None:
        if kind == "progress" and on_progress is not None:
            on_progress(float(payload))

    try:
        result = run_in_child(
            "clipmill.shorts.render.encode:_render_in_child",
            (source, output, options),
            cancel=cancel,
            on_message=relay,
            workdir=workdir,
        )
    except BaseException:
        # a killed child cleans up nothing; this side is alive and knows the child is gone
        for leftover in _scratch_files(output):
            leftover.unlink(missing_ok=True)
        raise
    assert isinstance(result, RenderedVideo)
    return result


def _scratch_files(output: Path) -> tuple[Path, Path]:
    """The partial output and the camera's commands file of a render into ``output``."""
    return (
        output.with_name(f"{output.stem}.part{output.suffix}"),
        output.with_name(f"{output.stem}.camera.txt"),
    )


def _render_in_child(
    emit: Callable[[str, Any], None], source: Path, output: Path, options: dict[str, Any]
) -> RenderedVideo:
    return render_clip(
        source,
        output,
        on_progress=lambda seconds: emit("progress", seconds),
        new_session=False,
        **options,
    )
