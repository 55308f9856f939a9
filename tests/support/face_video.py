"""A generated 16:9 video with a face on a scripted path, whose script is the ground truth for
the reframing tests (shots, faces, camera).

The face is the head of scikit-image's astronaut photo, cut out with a soft elliptical edge and
pasted onto a smooth random background. A scene is a list of shots; a shot has its own
background (so a cut changes the whole picture, as a real one does) and its actors, each on a
path of keyframes, visible during given stretches, optionally "speaking" (its mouth opens with
the loudness of the espeak-ng speech laid under the video). Every frame's true face boxes are
written beside the video, so tests measure against what was drawn, not against a detector.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tests.support.talk import SAMPLE_RATE, read_wav, write_wav

VERSION = 3  # bump when the drawing changes, so cached videos are rebuilt

# The astronaut photo (512x512): the head and shoulders we paste, and inside that sprite the
# face (hairline to chin, cheek to cheek) and the mouth, in sprite pixels.
_SPRITE_CROP = (135, 8, 180, 227)  # x, y, w, h in the photo
_FACE_IN_SPRITE = (45.0, 60.0, 92.0, 112.0)
_MOUTH_IN_SPRITE = (88.0, 136.0)
FACE_HEIGHT = _FACE_IN_SPRITE[3]
"""Face height in pixels at scale 1 (scale 1.5 is about a quarter of a 720 p frame)."""

DEFAULT_SPEECH = (
    "Welcome back to the channel. Today I want to show you how a camera can follow a face. "
    "The picture moves from the left to the right, and then it jumps to another place. "
    "When nobody is on screen, the camera should simply stay where it was."
)


@dataclass(frozen=True)
class Actor:
    """One face during one shot.

    ``path`` holds keyframes ``(t, cx, cy)``: seconds from the shot's start and the face box's
    centre as fractions of the frame; positions between keyframes are linear, and the first and
    last hold outside them.
    """

    path: tuple[tuple[float, float, float], ...]
    scale: float = 1.5
    visible: tuple[tuple[float, float], ...] | None = None
    """Stretches (seconds from the shot's start) where the face is on screen; None: always."""
    speaking: bool = False
    """The mouth opens and closes with the speech's loudness."""
    mirror: bool = False
    squeeze: float = 1.0
    """Horizontal scale below 1 narrows the face, as a head turned towards profile."""
    jitter: float = 0.0
    """Amplitude (pixels) of a slow sway around the path: a head that barely moves."""

    def centre(self, t: float) -> tuple[float, float]:
        times = [k[0] for k in self.path]
        return (
            float(np.interp(t, times, [k[1] for k in self.path])),
            float(np.interp(t, times, [k[2] for k in self.path])),
        )

    def shown(self, t: float) -> bool:
        return self.visible is None or any(a <= t < b for a, b in self.visible)


@dataclass(frozen=True)
class Shot:
    """One shot: its length, its background (a seed) and its faces."""

    duration: float
    actors: tuple[Actor, ...]
    background: int = 0


@dataclass(frozen=True)
class Scene:
    """What to draw: shots one after another over speech."""

    shots: tuple[Shot, ...]
    width: int = 1280
    height: int = 720
    fps: int = 25
    speech: str = DEFAULT_SPEECH


@dataclass(frozen=True)
class TrueFace:
    """One face as drawn: its box in source pixels and whether it is the one speaking."""

    x: float
    y: float
    w: float
    h: float
    speaking: bool = False

    @property
    def area(self) -> float:
        return self.w * self.h


@dataclass(frozen=True)
class TrueFrame:
    time: float
    faces: tuple[TrueFace, ...]


@dataclass(frozen=True)
class FaceVideo:
    """The rendered video and its ground truth."""

    path: Path
    width: int
    height: int
    fps: int
    duration: float
    cuts: tuple[float, ...]
    """Times where a new shot starts (the first frame of the new shot)."""
    frames: tuple[TrueFrame, ...] = field(repr=False)

    def truth_at(self, t: float) -> TrueFrame:
        """The frame shown at time ``t``."""
        index = min(len(self.frames) - 1, max(0, int(np.floor(t * self.fps + 1e-6))))
        return self.frames[index]


# --- scenes the tests and the bench use -----------------------------------------------------


def default_scene() -> Scene:
    """12 s: a face still, panning right, then nearly still; a hard cut at 6 s to another
    place and background; the face leaves at 8.5 s and is back at 10 s."""
    first = Actor(
        path=((0.0, 0.3, 0.45), (1.0, 0.3, 0.45), (4.0, 0.68, 0.5), (6.0, 0.68, 0.5)),
        jitter=1.5,
    )
    second = Actor(
        path=((0.0, 0.8, 0.42), (6.0, 0.8, 0.42)),
        visible=((0.0, 2.5), (4.0, 6.0)),
        jitter=1.0,
        mirror=True,
    )
    return Scene((Shot(6.0, (first,), background=1), Shot(6.0, (second,), background=2)))


def two_face_scene() -> Scene:
    """8 s, one shot: a large silent face on the left, a smaller speaking one on the right."""
    large = Actor(path=((0.0, 0.27, 0.5),), scale=1.7, jitter=1.0)
    small = Actor(path=((0.0, 0.74, 0.45),), scale=1.2, jitter=1.0, mirror=True, speaking=True)
    return Scene((Shot(8.0, (large, small), background=3),))


def cuts_scene() -> Scene:
    """13 s of short shots: hard cuts after a still face, after a fast pan, into a faceless
    shot, into and out of a 0.6 s shot; a jump cut (same background, the face moves: not a hard
    cut, the camera's confirmed jump handles it); a face that pops out and back (not a cut)."""
    return Scene(
        (
            Shot(2.0, (Actor(((0.0, 0.3, 0.45),)),), background=10),
            Shot(2.5, (Actor(((0.0, 0.2, 0.5), (1.0, 0.8, 0.5))),), background=11),
            Shot(1.5, (Actor(((0.0, 0.7, 0.5),)),), background=11),
            Shot(2.0, (), background=12),
            Shot(0.6, (Actor(((0.0, 0.5, 0.5),), scale=2.5),), background=13),
            Shot(
                2.0, (Actor(((0.0, 0.4, 0.5),), visible=((0.0, 0.8), (1.2, 2.0))),), background=14
            ),
            Shot(
                2.0,
                (
                    Actor(((0.0, 0.4, 0.5),), scale=1.0),
                    Actor(((0.0, 0.7, 0.5),), mirror=True, speaking=True),
                ),
                background=15,
            ),
        )
    )


JUMP_CUTS = (4.5,)
"""Cuts of ``cuts_scene`` where only the face moves (not hard cuts)."""


def variant_scenes() -> dict[str, Scene]:
    """Scenes for the detector bench: face sizes, two faces, a turned face, no face."""
    sway = ((0.0, 0.35, 0.5), (2.0, 0.6, 0.45), (4.0, 0.4, 0.5))
    return {
        "default": default_scene(),
        "small": Scene((Shot(4.0, (Actor(sway, scale=0.8),), background=4),)),
        "large": Scene((Shot(4.0, (Actor(sway, scale=2.6),), background=5),)),
        "turned": Scene((Shot(4.0, (Actor(sway, squeeze=0.62),), background=6),)),
        "two": two_face_scene(),
        "none": Scene((Shot(4.0, (), background=7),)),
    }


# --- building and caching -------------------------------------------------------------------


def face_cache_root() -> Path:
    override = os.environ.get("CLIPMILL_TEST_CACHE")
    return Path(override) if override else Path(tempfile.gettempdir()) / "clipmill-test-face"


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} is needed to build the face video")
    return path


def _cache_key(scene: Scene) -> str:
    blob = json.dumps([asdict(scene), VERSION], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def build_face_video(scene: Scene | None = None, cache_root: Path | None = None) -> FaceVideo:
    """Render ``scene`` (the default one when None) into ``cache_root/face-<hash>/``, reused
    while the scene and the drawing code are unchanged."""
    scene = scene or default_scene()
    root = cache_root or face_cache_root()
    target = root / f"face-{_cache_key(scene)}"
    if not (target / "truth.json").exists():
        root.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix="building-", dir=root))
        _render(scene, building)
        try:
            os.replace(building, target)
        except OSError:  # another process won the race; its copy is identical
            shutil.rmtree(building, ignore_errors=True)
    return _load(target)


def _load(directory: Path) -> FaceVideo:
    data = json.loads((directory / "truth.json").read_text())
    frames = tuple(
        TrueFrame(time, tuple(TrueFace(*face) for face in faces)) for time, faces in data["frames"]
    )
    return FaceVideo(
        path=directory / "video.mp4",
        width=data["width"],
        height=data["height"],
        fps=data["fps"],
        duration=data["duration"],
        cuts=tuple(data["cuts"]),
        frames=frames,
    )


def _render(scene: Scene, workdir: Path) -> None:
    durations = [shot.duration for shot in scene.shots]
    total_frames = round(sum(durations) * scene.fps)
    duration = total_frames / scene.fps
    loudness = _speech(scene.speech, duration, workdir / "speech.wav", scene.fps)
    starts = np.cumsum([0.0, *durations])
    backgrounds = [_background(scene, shot.background) for shot in scene.shots]
    cmd = [
        _require("ffmpeg"), "-nostdin", "-y", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{scene.width}x{scene.height}",
        "-r", str(scene.fps), "-i", "pipe:0", "-i", str(workdir / "speech.wav"),
        "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "23",
        "-g", str(2 * scene.fps), "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k",
        "-shortest", "-movflags", "+faststart", str(workdir / "video.mp4"),
    ]  # fmt: skip
    truth: list[tuple[float, list[list[float | bool]]]] = []
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for index in range(total_frames):
            t = index / scene.fps
            number = min(
                int(np.searchsorted(starts, t + 1e-9, side="right")) - 1, len(durations) - 1
            )
            shot = scene.shots[number]
            frame = backgrounds[number].copy()
            faces: list[list[float | bool]] = []
            for actor_index, actor in enumerate(shot.actors):
                local = t - starts[number]
                if not actor.shown(local):
                    continue
                opening = float(loudness[index]) if actor.speaking else 0.0
                box = _paste(frame, actor, local, opening, phase=actor_index * 1.7)
                faces.append([*box, actor.speaking])
            truth.append((t, faces))
            proc.stdin.write(frame.tobytes())
        proc.stdin.close()
    finally:
        if proc.wait() != 0:
            raise RuntimeError("ffmpeg failed to encode the face video")
    (workdir / "speech.wav").unlink(missing_ok=True)
    manifest = {
        "width": scene.width,
        "height": scene.height,
        "fps": scene.fps,
        "duration": duration,
        "cuts": [float(s) for s in starts[1:-1]],
        "frames": truth,
    }
    (workdir / "truth.json").write_text(json.dumps(manifest))


def _speech(text: str, duration: float, wav: Path, fps: int) -> np.ndarray:
    """Write ``duration`` seconds of espeak-ng speech (looped or cut) and return, per video
    frame, its loudness in 0..1 (what opens a speaking mouth)."""
    raw = wav.with_name("espeak.wav")
    subprocess.run(
        [_require("espeak-ng"), "-v", "en-us", "-s", "160", "-w", str(raw), text],
        check=True, capture_output=True,
    )  # fmt: skip
    resampled = wav.with_name("espeak16k.wav")
    subprocess.run(
        [_require("ffmpeg"), "-nostdin", "-y", "-loglevel", "error", "-i", str(raw),
         "-ar", str(SAMPLE_RATE), "-ac", "1", "-c:a", "pcm_s16le", str(resampled)],
        check=True,
    )  # fmt: skip
    voice = read_wav(resampled)
    raw.unlink()
    resampled.unlink()
    needed = round(duration * SAMPLE_RATE)
    samples = np.tile(voice, needed // len(voice) + 1)[:needed]
    write_wav(wav, samples)
    hop = SAMPLE_RATE // fps
    frames = samples[: hop * (needed // hop)].reshape(-1, hop)
    rms = np.sqrt((frames**2).mean(axis=1))
    level = np.clip(rms / (np.percentile(rms, 95) + 1e-9), 0.0, 1.0)
    count = round(duration * fps)
    return np.pad(level, (0, max(0, count - len(level))))[:count]


def _background(scene: Scene, seed: int) -> np.ndarray:
    """A smooth random picture: coloured blobs and a few soft rectangles, no face-like parts."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 215, size=(5, 9, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((scene.width, scene.height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = rng.integers(0, scene.width), rng.integers(0, scene.height)
        w, h = rng.integers(80, 400), rng.integers(60, 300)
        colour = tuple(int(c) for c in rng.integers(30, 230, size=3))
        draw.rectangle([int(x0), int(y0), int(x0 + w), int(y0 + h)], fill=colour)
    return np.asarray(image.filter(ImageFilter.GaussianBlur(3)), dtype=np.uint8).copy()


@functools.cache
def _sprite(scale: float, squeeze: float, mirror: bool) -> tuple[np.ndarray, np.ndarray]:
    """The head as RGB (float) and a soft elliptical alpha, scaled."""
    from PIL import Image
    from skimage import data

    x, y, w, h = _SPRITE_CROP
    photo = Image.fromarray(data.astronaut()[y : y + h, x : x + w])
    size = (max(2, round(w * scale * squeeze)), max(2, round(h * scale)))
    rgb = np.asarray(photo.resize(size, Image.Resampling.LANCZOS), dtype=np.float32)
    if mirror:
        rgb = rgb[:, ::-1]
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]]
    dist = ((xx + 0.5) / size[0] * 2 - 1) ** 2 + ((yy + 0.5) / size[1] * 2 - 1) ** 2
    alpha = np.clip((1.0 - dist) / 0.15, 0.0, 1.0).astype(np.float32)[..., None]
    return rgb, alpha


def _face_in_sprite(actor: Actor) -> tuple[float, float, float, float]:
    fx, fy, fw, fh = _FACE_IN_SPRITE
    sx = actor.scale * actor.squeeze
    if actor.mirror:
        fx = _SPRITE_CROP[2] - fx - fw
    return fx * sx, fy * actor.scale, fw * sx, fh * actor.scale


def _paste(
    frame: np.ndarray, actor: Actor, t: float, opening: float, *, phase: float
) -> tuple[float, float, float, float]:
    """Draw the actor into ``frame`` at time ``t``; return its true face box (pixels)."""
    rgb, alpha = _sprite(actor.scale, actor.squeeze, actor.mirror)
    fx, fy, fw, fh = _face_in_sprite(actor)
    height, width = frame.shape[:2]
    cx, cy = actor.centre(t)
    sway = actor.jitter * np.sin(2 * np.pi * 0.4 * t + phase)
    left = round(cx * width - fx - fw / 2 + sway)
    top = round(cy * height - fy - fh / 2 + 0.5 * sway)
    if opening > 0.15:
        rgb = _open_mouth(rgb, actor, opening)
    sh, sw = rgb.shape[:2]
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(width, left + sw), min(height, top + sh)
    if x1 > x0 and y1 > y0:
        part = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
        region = frame[y0:y1, x0:x1].astype(np.float32)
        a = alpha[part]
        frame[y0:y1, x0:x1] = (rgb[part] * a + region * (1 - a)).astype(np.uint8)
    return left + fx, top + fy, fw, fh


def _open_mouth(rgb: np.ndarray, actor: Actor, opening: float) -> np.ndarray:
    """A dark open mouth whose height follows the speech's loudness."""
    mx, my = _MOUTH_IN_SPRITE
    if actor.mirror:
        mx = _SPRITE_CROP[2] - mx
    mx, my = mx * actor.scale * actor.squeeze, my * actor.scale
    rx, ry = 16 * actor.scale * actor.squeeze, max(1.0, 9 * actor.scale * opening)
    out = rgb.copy()
    yy, xx = np.mgrid[0 : out.shape[0], 0 : out.shape[1]]
    inside = ((xx - mx) / rx) ** 2 + ((yy - my) / ry) ** 2 <= 1.0
    out[inside] = (70.0, 20.0, 28.0)
    return out
