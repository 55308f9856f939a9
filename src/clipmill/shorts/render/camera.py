"""A smoothed virtual camera: the crop window of one clip, frame by frame, per output shape.

``plan_camera`` turns a `FaceTrack` and the span's cuts into a `CameraPath` (a `CropPath`, as
``encode`` and ``thumbnails`` take it). In ``follow`` mode, within each shot:

* the *main face* is the one speaking when the evidence tells the faces apart, else the
  largest; the camera changes to another face only after it has been the main one for a while;
* its position is *confirmed* before it counts: a detection far from where the face was is
  taken only when the next detections agree (a false detection for one sample moves nothing);
* the window follows with a *dead zone* (it stays perfectly still while the face moves within
  it), a *maximum pan speed* and a bounded acceleration, looking a little ahead (we plan
  offline, so the camera need not lag);
* it *jumps* (cuts) only when the confirmed target moved far at once (a jump cut, a switch of
  speaker, a face back elsewhere), instead of sweeping across the frame;
* at a cut the new shot starts framed on its face at once; while no face is seen the window
  keeps the shot's last framing, and a shot with no face at all is centred.

``fit`` shows the whole frame (the encoder composes it over a blurred copy); ``center`` is a
fixed window in the middle. Windows are in source pixels, even, and inside the frame.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from clipmill.shorts.job_schemas import AspectRatio, Framing
from clipmill.shorts.render.faces import Face, FaceSample, FaceTrack

CAMERA_FILTER = "crop@cam"

# Tuning, in fractions of the crop window's width (or height) and seconds.
DEAD_ZONE = 0.1
"""The face's centre may wander this far either side of the window's centre unfollowed."""
MAX_SPEED = 0.8
"""Widths per second: the fastest pan."""
MAX_ACCEL = 2.4
"""Widths per second squared: how quickly a pan starts and stops."""
GAIN = 3.0
"""Per second: pan speed per unit of distance beyond the dead zone's inner half."""
MIN_SPEED = 0.05
"""Widths per second: a pan that would go slower than this stops instead of creeping."""
LEAD = 0.25
"""Seconds the camera looks ahead along the (offline) track."""
JUMP = 0.35
"""A confirmed target this far from the window's centre is jumped to, not panned to."""
STEP = 0.25
"""A detection this far from the last confirmed one needs confirming."""
CONFIRM = 3
"""Detections that must agree before a far-away position counts."""
HOLD = 0.5
"""Seconds a target is held after its last detection (a missed detection is not a loss)."""
GAP = 0.6
"""Seconds between detections beyond which the face counts as gone in between."""
SWITCH = 1.0
"""Seconds another face must be the main one before the camera changes faces."""
SPEAKER_MARGIN = 1.5
"""The most-speaking face must show this many times the next one's evidence to count."""
SPEAKER_MIN = 0.02
"""Speaking evidence below this is no evidence."""
HEADROOM = 0.1
"""When the window can move vertically, the face sits this fraction of its height above the
window's centre."""


@dataclass(frozen=True)
class CropWindow:
    """A crop window in source pixels (even numbers, inside the frame)."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class CameraPath:
    """The crop window of one clip at each output frame (frame ``k`` is ``k / fps`` seconds
    into the clip). Implements ``encode.CropPath``."""

    framing: Framing
    source_size: tuple[int, int]
    size: tuple[int, int]
    """(width, height) of the window; the source's size for ``fit``."""
    start: float
    """Where the clip starts in the source (seconds)."""
    fps: float
    xs: tuple[int, ...]
    ys: tuple[int, ...]

    @property
    def fit(self) -> bool:
        """True when the encoder shows the whole frame (no crop path)."""
        return self.framing is Framing.FIT

    def window_size(self) -> tuple[int, int]:
        return self.size

    def position_at(self, t: float) -> tuple[int, int]:
        """Top-left corner of the window ``t`` seconds into the clip."""
        index = min(max(0, math.floor(t * self.fps + 1e-6)), len(self.xs) - 1)
        return self.xs[index], self.ys[index]

    def window_at(self, t: float) -> CropWindow:
        x, y = self.position_at(t)
        return CropWindow(x, y, *self.size)

    def keyframes(self) -> list[tuple[float, CropWindow]]:
        """The window at every output frame: (seconds into the clip, window)."""
        w, h = self.size
        return [
            (k / self.fps, CropWindow(x, y, w, h))
            for k, (x, y) in enumerate(zip(self.xs, self.ys, strict=True))
        ]

    def crop_filter(self, name: str = CAMERA_FILTER) -> str:
        """The crop filter the commands drive, set to the first frame's window."""
        w, h = self.size
        return f"{name}=w={w}:h={h}:x={self.xs[0]}:y={self.ys[0]}"

    def crop_commands(self, fps: float | None = None, *, name: str = CAMERA_FILTER) -> str:
        """An ffmpeg ``sendcmd`` file that moves ``name``'s ``x`` and ``y`` (times from the
        clip's start, half a frame before each frame whose window moved; frame 0 is the crop
        filter's own setting). Checked on Debian's ffmpeg 5.1: crop takes both at run time."""
        rate = fps or self.fps
        count = max(1, math.ceil(len(self.xs) * rate / self.fps))
        lines = []
        last = self.position_at(0.0)
        for index in range(1, count):
            position = self.position_at(index / rate)
            if position != last:
                at = (index - 0.5) / rate
                lines.append(f"{at:.6f} {name} x {position[0]}, {name} y {position[1]};")
                last = position
        return "".join(line + "\n" for line in lines)


def window_size(source_size: tuple[int, int], aspect: AspectRatio | str) -> tuple[int, int]:
    """The largest even window of ``aspect``'s shape inside the source."""
    across, down = (int(n) for n in AspectRatio(aspect).value.split(":"))
    width, height = source_size
    w = min(width, math.floor(height * across / down))
    h = min(height, math.floor(width * down / across))
    return max(2, w - w % 2), max(2, h - h % 2)


def plan_camera(
    track: FaceTrack,
    shots: Sequence[float],
    *,
    source_size: tuple[int, int],
    aspect: AspectRatio | str,
    start: float,
    end: float,
    fps: float,
    mode: Framing | str = Framing.FOLLOW,
) -> CameraPath:
    """The crop window over ``[start, end)`` of the source at ``fps`` frames a second."""
    framing = Framing(mode)
    width, height = source_size
    count = max(1, math.ceil((end - start) * fps - 1e-6))
    if framing is Framing.FIT:
        return CameraPath(framing, source_size, source_size, start, fps, (0,) * count, (0,) * count)
    w, h = window_size(source_size, aspect)
    times = start + np.arange(count) / fps
    centre = np.array([width / 2, height / 2])
    if framing is Framing.CENTER:
        centres = np.tile(centre, (count, 1))
    else:
        centres = np.empty((count, 2))
        bounds = [start, *sorted(c for c in shots if start < c < end), end]
        for left, right in pairwise(bounds):
            inside = (times >= left - 1e-9) & (times < right - 1e-9)
            if inside.any():
                samples = [s for s in track.samples if left - 1e-9 <= s.time < right - 1e-9]
                centres[inside] = _follow_shot(samples, times[inside], source_size, (w, h))
    xs = tuple(_even_clamp(c - w / 2, width - w) for c in centres[:, 0])
    ys = tuple(_even_clamp(c - h / 2, height - h) for c in centres[:, 1])
    return CameraPath(framing, source_size, (w, h), start, fps, xs, ys)


def _even_clamp(value: float, limit: int) -> int:
    position = min(max(0, round(value)), limit)
    return position - position % 2


# --- following one shot -------------------------------------------------------------------------


def _follow_shot(
    samples: list[FaceSample],
    times: np.ndarray,
    source_size: tuple[int, int],
    size: tuple[int, int],
) -> np.ndarray:
    """Window centres (pixels) at ``times`` for one shot."""
    width, height = source_size
    w, h = size
    scale = np.array([w, h], dtype=float)
    low = scale / 2
    high = np.array([width, height]) - scale / 2
    main = _main_faces(samples)
    raw = [
        None
        if face is None
        else np.clip(np.array([face.cx * width, (face.cy + HEADROOM * face.h) * height]), low, high)
        for face in main
    ]
    confirmed, jumps = _confirm([s.time for s in samples], raw, scale)
    known = _Targets(
        [s.time for s, p in zip(samples, confirmed, strict=True) if p is not None],
        [p for p in confirmed if p is not None],
        jumps,
    )
    if not known.times:
        return np.tile((low + high) / 2, (len(times), 1))
    position = known.places[0].copy()
    velocity = np.zeros(2)
    moving = np.zeros(2, dtype=bool)
    dt = float(times[1] - times[0]) if len(times) > 1 else 1.0
    out = np.empty((len(times), 2))
    pending = sorted(jumps)
    for k, t in enumerate(times):
        # look ahead, but not across a jump: the camera does not drift towards where it will cut
        ahead = min([t + LEAD, *(j - 1e-6 for j in jumps if t < j <= t + LEAD)])
        target = known.at(ahead)
        while pending and pending[0] <= t + 1e-9:
            jump_time = pending.pop(0)
            landing = known.at(jump_time)
            if landing is not None and np.any(np.abs(landing - position) > JUMP * scale):
                position, velocity, moving = landing.copy(), np.zeros(2), np.zeros(2, bool)
        position, velocity, moving = _step(position, velocity, moving, target, scale, dt)
        clipped = np.clip(position, low, high)
        velocity[clipped != position] = 0.0
        position = clipped
        out[k] = position
    return out


def _step(
    position: np.ndarray,
    velocity: np.ndarray,
    moving: np.ndarray,
    target: np.ndarray | None,
    scale: np.ndarray,
    dt: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One frame of the camera, each axis on its own: a still axis starts moving when the
    target leaves the dead zone; a moving one heads for the target's half of the dead zone,
    slowing as it nears, and stops (for good, not creeping) once it needs less than
    ``MIN_SPEED``. Speed and acceleration are bounded."""
    if target is None:
        wanted, moving = np.zeros(2), np.zeros(2, bool)
    else:
        error = target - position
        moving = moving | (np.abs(error) > DEAD_ZONE * scale)
        beyond = np.abs(error) - DEAD_ZONE * scale / 2
        speed = np.minimum(MAX_SPEED * scale, GAIN * beyond)
        moving = moving & (speed >= MIN_SPEED * scale)
        wanted = np.where(moving, np.sign(error) * speed, 0.0)
    change = np.clip(wanted - velocity, -MAX_ACCEL * scale * dt, MAX_ACCEL * scale * dt)
    velocity = velocity + change
    return position + velocity * dt, velocity, moving


@dataclass(frozen=True)
class _Targets:
    """The confirmed targets of one shot: where the main face was, and where it jumped."""

    times: list[float]
    places: list[np.ndarray]
    jumps: list[float]

    def at(self, t: float) -> np.ndarray | None:
        """The target at ``t``: interpolated between detections (not across a jump), held
        after the last one for a short while; None where the face is gone."""
        index = bisect.bisect_right(self.times, t)
        if index == 0:
            return self.places[0] if self.times[0] - t < HOLD else None
        before_t, before = self.times[index - 1], self.places[index - 1]
        if index == len(self.times):
            return before if t - before_t < HOLD else None
        after_t, after = self.times[index], self.places[index]
        if after_t - before_t > GAP:  # the face was not seen in between
            return before if t - before_t < HOLD else None
        if any(before_t < j <= after_t for j in self.jumps):
            return before
        return before + (t - before_t) / (after_t - before_t) * (after - before)


def _confirm(
    times: list[float], raw: list[np.ndarray | None], scale: np.ndarray
) -> tuple[list[np.ndarray | None], list[float]]:
    """Targets that count, and the times where the target moved far at once (jump candidates).

    A target near the last confirmed one counts; a far one counts when the next ``CONFIRM - 1``
    present targets carry on from it (each within ``STEP`` of the one before), and is then a
    jump candidate; otherwise it is dropped as a stray detection.
    """
    confirmed: list[np.ndarray | None] = []
    jumps: list[float] = []
    last: np.ndarray | None = None
    for i, target in enumerate(raw):
        if target is None:
            confirmed.append(None)
            continue
        if last is not None and np.all(np.abs(target - last) <= STEP * scale):
            confirmed.append(target)
            last = target
            continue
        ahead = [r for r in raw[i + 1 :] if r is not None][: CONFIRM - 1]
        # the next detections carry on from it (one place, or a fast but steady move)
        agreed = all(np.all(np.abs(b - a) <= STEP * scale) for a, b in pairwise([target, *ahead]))
        if agreed and (len(ahead) == CONFIRM - 1 or last is None):
            confirmed.append(target)
            if last is not None:
                jumps.append(times[i])
            last = target
        else:
            confirmed.append(None)
    return confirmed, jumps


def _main_faces(samples: list[FaceSample]) -> list[Face | None]:
    """The face to follow at each sample: the one preferred most over the shot's first
    ``SWITCH`` seconds, then sticky, changing only to a face that has been the preferred one
    for ``SWITCH`` seconds (or when the followed face is gone)."""
    preferred = [_preferred(s.faces) for s in samples]
    opening = [
        p.track
        for s, p in zip(samples, preferred, strict=True)
        if p is not None and s.time <= samples[0].time + SWITCH
    ]
    current = max(set(opening), key=opening.count) if opening else None
    chosen: list[Face | None] = []
    challenger: tuple[int, float] | None = None
    for sample, best in zip(samples, preferred, strict=True):
        present = {f.track: f for f in sample.faces}
        if best is None or len(present) < len(sample.faces):  # nobody, or no identities
            chosen.append(best)
            continue
        if current not in present:
            current, challenger = best.track, None
        elif best.track != current:
            if challenger is None or challenger[0] != best.track:
                challenger = (best.track, sample.time)
            if sample.time - challenger[1] >= SWITCH - 1e-9:
                current, challenger = best.track, None
        else:
            challenger = None
        chosen.append(present[current])
    return chosen


def _preferred(faces: Sequence[Face]) -> Face | None:
    """The speaker when the evidence tells one apart, else the largest face."""
    if not faces:
        return None
    heard = sorted((f for f in faces if f.speaking is not None), key=lambda f: -(f.speaking or 0.0))
    if len(heard) >= 2:
        top, runner_up = heard[0].speaking or 0.0, heard[1].speaking or 0.0
        if top >= SPEAKER_MIN and top >= SPEAKER_MARGIN * runner_up:
            return heard[0]
    return max(faces, key=lambda f: f.area)
