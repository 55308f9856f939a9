"""A thumbnail per clip and shape: a sharp frame, with the face when one was seen, as JPEG.

A few candidate instants are spread over the clip; when face samples are given, the instants
where a face lies inside the camera's window are the candidates instead. Each candidate is
decoded once, shaped exactly as the video is at that instant (the camera's window, or the fitted
frame), and scored by the variance of its Laplacian on a small grey copy: motion blur, a soft
focus or a fade score low. The sharpest one is written at the clip's full size.

All candidates are read by one ffmpeg run (one seeking input each, behind the whitelists
`run_ffmpeg` adds), so a thumbnail costs two short ffmpeg runs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from clipmill.cancellation import CancelSignal
from clipmill.errors import BrokenMedia
from clipmill.media.ffmpeg import file_arg, probe_file, run_ffmpeg
from clipmill.shorts.job_schemas import AspectRatio, Resolution
from clipmill.shorts.render.encode import (
    CropPath,
    FixedCrop,
    output_size,
    shape_filters,
    source_video,
)

CANDIDATES = 6
ANALYSIS_WIDTH = 160
"""Candidates are compared on grey frames this wide, so every shape is judged alike."""
EDGE_MARGIN = 0.08
"""Fraction of the clip at each end left out (fades, cuts mid-motion)."""


class FaceBox(Protocol):
    """A face's box, normalised to the source frame (0..1); `faces.Face` is one."""

    @property
    def x(self) -> float: ...
    @property
    def y(self) -> float: ...
    @property
    def w(self) -> float: ...
    @property
    def h(self) -> float: ...


class FacesAt(Protocol):
    """The faces seen at ``time`` seconds of the source; `faces.FaceSample` is one."""

    @property
    def time(self) -> float: ...
    @property
    def faces(self) -> Sequence[FaceBox]: ...


@dataclass(frozen=True)
class Thumbnail:
    """The written JPEG and why it was chosen."""

    path: Path
    time: float
    """Seconds into the clip of the frame shown."""
    width: int
    height: int
    sharpness: float
    with_face: bool


def sharpness(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian: high for crisp edges, low for blur."""
    image = gray.astype(np.float32)
    laplacian = (
        4 * image[1:-1, 1:-1]
        - image[:-2, 1:-1]
        - image[2:, 1:-1]
        - image[1:-1, :-2]
        - image[1:-1, 2:]
    )
    return float(laplacian.var()) if laplacian.size else 0.0


def _window_at(crop: CropPath | None, t: float) -> FixedCrop | None:
    if crop is None:
        return None
    width, height = crop.window_size()
    x, y = crop.position_at(t)
    return FixedCrop(int(width), int(height), round(x), round(y))


def _face_inside(face: FaceBox, window: FixedCrop | None, source: tuple[int, int]) -> bool:
    """Most of the face (its box less 10 % at each side) lies inside what the frame shows."""
    source_w, source_h = source
    left, top, width, height = (
        (0, 0, *source) if window is None else (window.x, window.y, window.width, window.height)
    )
    x, y, w, h = face.x * source_w, face.y * source_h, face.w * source_w, face.h * source_h
    return (
        x + 0.1 * w >= left
        and y + 0.1 * h >= top
        and x + 0.9 * w <= left + width
        and y + 0.9 * h <= top + height
    )


def candidate_times(
    duration: float,
    *,
    crop: CropPath | None,
    fit: bool,
    source_size: tuple[int, int],
    faces: Sequence[FacesAt] = (),
    clip_start: float = 0.0,
    count: int = CANDIDATES,
) -> tuple[list[float], bool]:
    """Instants (seconds into the clip) to compare, and whether they show a face.

    ``faces`` are timed in the source; ``clip_start`` is where the clip begins there.
    """
    lo, hi = EDGE_MARGIN * duration, (1 - EDGE_MARGIN) * duration
    shown = []
    for sample in faces:
        t = sample.time - clip_start
        if lo <= t <= hi:
            window = None if fit else _window_at(crop, t)
            if any(_face_inside(face, window, source_size) for face in sample.faces):
                shown.append(t)
    if shown:
        times = sorted(set(shown))
        if len(times) > count:
            times = [times[round(i * (len(times) - 1) / (count - 1))] for i in range(count)]
        return times, True
    return [lo + (hi - lo) * (i + 0.5) / count for i in range(count)], False


def write_thumbnail(
    source: Path,
    output: Path,
    *,
    start: float,
    end: float,
    aspect: AspectRatio,
    resolution: Resolution,
    crop: CropPath | None = None,
    fit: bool = False,
    faces: Sequence[FacesAt] = (),
    candidates: int = CANDIDATES,
    cancel: CancelSignal | None = None,
    timeout: float | None = 120,
    new_session: bool = True,
) -> Thumbnail:
    """Write the sharpest candidate frame of the clip ``[start, end)`` of ``source`` to
    ``output`` (JPEG) at the clip's size, shaped like the video (``crop``/``fit`` as for
    `render_clip`); frames with a face in view are preferred when ``faces`` (face samples timed
    in the source, boxes normalised to its frame) are given."""
    probe = probe_file(source)
    picture = source_video(source, probe)
    if probe.duration is not None:
        end = min(end, probe.duration)
    if end <= start:
        raise BrokenMedia(f"invalid clip {start:.3f}-{end:.3f} s")
    source_size = (picture.width, picture.height)
    size = output_size(aspect, resolution)
    times, with_face = candidate_times(
        end - start, crop=crop, fit=fit, source_size=source_size, faces=faces,
        clip_start=start, count=max(1, candidates),
    )  # fmt: skip

    def shape(t: float, tag: str = "") -> str:
        return shape_filters(
            source_size=source_size, size=size, crop=_window_at(crop, t), fit=fit, tag=tag
        )

    analysis = (ANALYSIS_WIDTH, max(2, round(ANALYSIS_WIDTH * size[1] / size[0] / 2) * 2))
    scores = _score(source, start, times, shape, analysis, cancel, timeout, new_session)
    if max(scores) < 0:
        raise BrokenMedia(f"no frames between {start:.2f} and {end:.2f} s in {source.name}")
    best = max(range(len(times)), key=lambda i: (scores[i], -i))
    at = times[best]
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f"{output.stem}.part{output.suffix}")
    args = [
        "-ss", f"{start + at:.6f}", "-i", file_arg(source),
        "-filter_complex", f"[0:V:0]{shape(at)}[v]", "-map", "[v]", "-frames:v", "1",
        "-q:v", "2", "-f", "mjpeg", file_arg(partial),
    ]  # fmt: skip
    try:
        run_ffmpeg(args, cancel=cancel, timeout=timeout, new_session=new_session)
        if not partial.is_file() or partial.stat().st_size == 0:
            raise BrokenMedia(f"no frame at {start + at:.2f} s in {source.name}")
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    return Thumbnail(output, at, size[0], size[1], scores[best], with_face)


def _score(
    source: Path,
    start: float,
    times: Sequence[float],
    shape: Callable[[float, str], str],
    analysis: tuple[int, int],
    cancel: CancelSignal | None,
    timeout: float | None,
    new_session: bool,
) -> list[float]:
    """Sharpness of each candidate as the clip shows it (one ffmpeg run for all)."""
    width, height = analysis
    with tempfile.TemporaryDirectory(prefix="thumbs-") as tmp:
        frames = [Path(tmp) / f"{index}.gray" for index in range(len(times))]
        args: list[str] = []
        for t in times:
            args += ["-ss", f"{start + t:.6f}", "-i", file_arg(source)]
        graph = ";".join(
            f"[{index}:V:0]{shape(t, str(index))},scale={width}:{height},format=gray[c{index}]"
            for index, t in enumerate(times)
        )
        args += ["-filter_complex", graph]
        for index, frame in enumerate(frames):
            args += ["-map", f"[c{index}]", "-frames:v", "1", "-f", "rawvideo", file_arg(frame)]
        run_ffmpeg(args, cancel=cancel, timeout=timeout, new_session=new_session)
        scores = []
        for frame in frames:
            data = frame.read_bytes() if frame.is_file() else b""
            if len(data) < width * height:
                scores.append(-1.0)  # past the end of the video: never chosen over a real frame
                continue
            gray = np.frombuffer(data[: width * height], np.uint8).reshape(height, width)
            scores.append(sharpness(gray))
    return scores
