"""The virtual camera: on the generated video (through the real detectors) and on made-up
tracks, its window holds the face, stays still, jumps only when it must, and drives ffmpeg."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from clipmill.media.ffmpeg import file_arg, run_ffmpeg
from clipmill.shorts.job_schemas import Framing
from clipmill.shorts.render import camera
from clipmill.shorts.render.camera import (
    CameraPath,
    CropWindow,
    plan_camera,
    window_size,
)
from clipmill.shorts.render.faces import Face, FaceSample, FaceTrack, read_frames
from tests.support.face_video import FaceVideo, TrueFace

FPS = 25.0
SOURCE = (1280, 720)
SHAPES = ["9:16", "1:1", "4:5"]


def _holds(window: CropWindow, face: TrueFace) -> bool:
    return (
        window.x <= face.x + 0.5
        and face.x + face.w <= window.x + window.w + 0.5
        and window.y <= face.y + 0.5
        and face.y + face.h <= window.y + window.h + 0.5
    )


def _reversals_per_second(path: CameraPath) -> float:
    moves = np.diff(np.array(path.xs))
    signs = np.sign(moves[moves != 0])
    return int((signs[1:] != signs[:-1]).sum()) / (len(path.xs) / path.fps)


def _valid(path: CameraPath) -> None:
    w, h = path.size
    width, height = path.source_size
    assert w % 2 == 0 and h % 2 == 0
    for x, y in zip(path.xs, path.ys, strict=True):
        assert x % 2 == 0 and y % 2 == 0
        assert 0 <= x <= width - w and 0 <= y <= height - h


# --- on the generated video ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def plans(
    face_video: FaceVideo, face_track: FaceTrack, face_video_shots: list[float]
) -> dict[str, CameraPath]:
    return {
        shape: plan_camera(
            face_track,
            face_video_shots,
            source_size=(face_video.width, face_video.height),
            aspect=shape,
            start=0.0,
            end=face_video.duration,
            fps=FPS,
        )
        for shape in [*SHAPES, "16:9"]
    }


@pytest.mark.integration
@pytest.mark.parametrize("shape", SHAPES)
def test_the_face_stays_in_the_window(
    shape: str, face_video: FaceVideo, plans: dict[str, CameraPath]
) -> None:
    path = plans[shape]
    _valid(path)
    held = total = 0
    for t, window in path.keyframes():
        for face in face_video.truth_at(t).faces:
            total += 1
            held += _holds(window, face)
    assert total > 200
    assert held / total >= 0.95


@pytest.mark.integration
@pytest.mark.parametrize("shape", SHAPES)
def test_the_window_rarely_turns_back(shape: str, plans: dict[str, CameraPath]) -> None:
    assert _reversals_per_second(plans[shape]) <= 0.15


@pytest.mark.integration
@pytest.mark.parametrize("shape", SHAPES)
def test_still_while_the_face_barely_moves(
    shape: str, face_video: FaceVideo, plans: dict[str, CameraPath]
) -> None:
    """The face sways by a pixel or two from 4 s to the cut at 6 s, and after it."""
    path = plans[shape]
    assert len({path.position_at(t / FPS) for t in range(125, 150)}) == 1
    assert len({path.position_at(t / FPS) for t in range(150, 212)}) == 1


@pytest.mark.integration
@pytest.mark.parametrize("shape", SHAPES)
def test_after_the_cut_the_window_is_on_the_face_at_once(
    shape: str, face_video: FaceVideo, plans: dict[str, CameraPath]
) -> None:
    cut = face_video.cuts[0]
    window = plans[shape].window_at(cut)
    (face,) = face_video.truth_at(cut).faces
    assert _holds(window, face)
    (before,) = face_video.truth_at(cut - 1 / FPS).faces
    assert _holds(plans[shape].window_at(cut - 1 / FPS), before)


@pytest.mark.integration
@pytest.mark.parametrize("shape", SHAPES)
def test_no_face_keeps_the_last_framing(
    shape: str, face_video: FaceVideo, plans: dict[str, CameraPath]
) -> None:
    path = plans[shape]
    gone = [k for k in range(len(path.xs)) if not face_video.truth_at(k / FPS).faces]
    assert len(gone) > 20
    last_seen = path.position_at((gone[0] - 1) / FPS)
    assert {path.position_at(k / FPS) for k in gone} == {last_seen}


@pytest.mark.integration
def test_landscape_is_the_whole_frame(plans: dict[str, CameraPath]) -> None:
    path = plans["16:9"]
    assert path.size == SOURCE
    assert set(path.xs) == {0} and set(path.ys) == {0}
    assert path.crop_commands() == ""


@pytest.mark.integration
def test_two_faces_the_speaker_when_the_mouth_says_so_else_the_larger(
    two_face_video: FaceVideo, two_face_track: FaceTrack
) -> None:
    track = two_face_track

    def framed(track: FaceTrack) -> list[bool]:
        path = plan_camera(
            track, [], source_size=SOURCE, aspect="9:16", start=0.0, end=8.0, fps=FPS
        )
        out = []
        for t, window in path.keyframes():
            speaking = [f for f in two_face_video.truth_at(t).faces if f.speaking]
            out.append(_holds(window, speaking[0]))
        return out

    on_speaker = framed(track)
    assert sum(on_speaker) / len(on_speaker) >= 0.95
    unheard = framed(track.with_speaking(lambda sample, face: None))
    assert not any(unheard)  # on the larger, silent face


@pytest.mark.integration
def test_the_commands_move_ffmpegs_crop(
    face_video: FaceVideo, plans: dict[str, CameraPath], tmp_path: Path
) -> None:
    """Debian's ffmpeg 5.1 takes ``x`` and ``y`` through ``sendcmd``: the frames it crops are
    the source frames cut at the planned windows (the pan of 1.6 s to 2.4 s)."""
    start, end = 1.6, 2.4
    full = plans["9:16"]
    xs = full.xs[round(start * FPS) : round(end * FPS)]
    ys = full.ys[round(start * FPS) : round(end * FPS)]
    path = CameraPath(full.framing, full.source_size, full.size, start, FPS, xs, ys)
    assert len(set(xs)) > 5  # it pans
    commands = tmp_path / "camera.txt"
    commands.write_text(path.crop_commands())
    raw = tmp_path / "out.rgb"
    run_ffmpeg([
        "-ss", f"{start:.3f}", "-i", file_arg(face_video.path), "-t", f"{end - start:.3f}",
        "-vf", f"sendcmd=f={commands},{path.crop_filter()}",
        "-f", "rawvideo", "-pix_fmt", "rgb24", file_arg(raw),
    ])  # fmt: skip
    w, h = path.size
    cropped = np.fromfile(raw, np.uint8).reshape(-1, h, w, 3).astype(np.int16)
    source = [f.image.astype(np.int16) for f in read_frames(face_video.path, start, end)]
    assert len(cropped) == len(source) == len(xs)
    for k, (frame, out) in enumerate(zip(source, cropped, strict=True)):
        x, y = path.position_at(k / FPS)
        exact = np.abs(frame[y : y + h, x : x + w] - out).mean()
        shifted = np.abs(frame[y : y + h, x + 8 : x + 8 + w] - out).mean()
        assert exact < 2.0 < shifted


# --- on made-up tracks ----------------------------------------------------------------------------


def _track(
    face_at: Callable[[float], list[Face]], start: float = 0.0, end: float = 10.0, fps: float = 5
) -> FaceTrack:
    count = math.ceil((end - start) * fps)
    samples = tuple(
        FaceSample(start + i / fps, tuple(face_at(start + i / fps))) for i in range(count)
    )
    return FaceTrack(start, end, fps, samples)


def _face(cx: float, cy: float = 0.45, size: float = 0.1, track: int = 1, **kw: float) -> Face:
    return Face(cx - size / 2, cy - size * 0.8, size, size * 1.6, 1.0, track=track, **kw)


def _plan(track: FaceTrack, shots: list[float] | None = None, **kw: object) -> CameraPath:
    options: dict[str, object] = {
        "source_size": SOURCE, "aspect": "9:16", "start": track.start, "end": track.end,
        "fps": FPS, **kw,
    }  # fmt: skip
    return plan_camera(track, shots or [], **options)  # type: ignore[arg-type]


def _centre(path: CameraPath, t: float) -> float:
    """The window's centre as a fraction of the source width."""
    x, _ = path.position_at(t - path.start)
    return (x + path.size[0] / 2) / path.source_size[0]


def test_window_sizes() -> None:
    assert window_size((1920, 1080), "9:16") == (606, 1080)
    assert window_size((1920, 1080), "1:1") == (1080, 1080)
    assert window_size((1920, 1080), "4:5") == (864, 1080)
    assert window_size((1920, 1080), "16:9") == (1920, 1080)
    assert window_size((1080, 1920), "16:9") == (1080, 606)
    assert window_size((1281, 721), "9:16") == (404, 720)


def test_a_still_face_is_framed_from_the_first_frame_and_never_moves() -> None:
    path = _plan(_track(lambda t: [_face(0.3)]))
    assert len(set(path.xs)) == 1
    assert _centre(path, 0.0) == pytest.approx(0.3, abs=0.01)


def test_jitter_inside_the_dead_zone_moves_nothing() -> None:
    rng = np.random.default_rng(0)
    path = _plan(_track(lambda t: [_face(0.6 + rng.uniform(-0.02, 0.02))]))
    assert len(set(path.xs)) == 1


def test_a_moving_face_is_followed_smoothly_and_no_faster_than_allowed() -> None:
    def moving(t: float) -> list[Face]:
        return [_face(0.2 + 0.6 * min(max(t - 2, 0), 4) / 4)]  # 0.2 -> 0.8 from 2 s to 6 s

    path = _plan(_track(moving))
    steps = np.abs(np.diff(np.array(path.xs)))
    assert steps.max() <= camera.MAX_SPEED * path.size[0] / FPS + 2
    assert _reversals_per_second(path) == 0
    for t in np.arange(0, 10, 0.2):
        face = moving(t)[0]
        window = path.window_at(t)
        assert window.x <= face.x * 1280 and (face.x + face.w) * 1280 <= window.x + window.w
    assert _centre(path, 9.9) == pytest.approx(0.8, abs=0.1 * 404 / 1280 + 0.01)


def test_one_stray_detection_moves_nothing() -> None:
    path = _plan(_track(lambda t: [_face(0.85 if abs(t - 4.0) < 0.01 else 0.25)]))
    assert len(set(path.xs)) == 1


def test_a_confirmed_far_move_is_a_jump_not_a_sweep() -> None:
    """A jump cut that the shot detector did not see: the camera cuts too, at the move."""
    path = _plan(_track(lambda t: [_face(0.2 if t < 5 else 0.8)]))
    assert _centre(path, 4.96) == pytest.approx(0.2, abs=0.01)
    assert _centre(path, 5.0) == pytest.approx(0.8, abs=0.01)
    assert len(set(path.xs)) == 2


def test_a_face_that_rushes_across_is_caught_where_it_stops() -> None:
    def rushing(t: float) -> list[Face]:
        return [_face(0.15 + 0.7 * min(max(t - 2.0, 0.0), 0.6) / 0.6)]

    path = _plan(_track(rushing))
    assert _reversals_per_second(path) == 0
    for t in np.arange(2.6, 10, 0.2):
        face = rushing(t)[0]
        window = path.window_at(t)
        assert window.x <= face.x * 1280 and (face.x + face.w) * 1280 <= window.x + window.w


def test_a_cut_starts_the_new_shot_on_its_face() -> None:
    path = _plan(_track(lambda t: [_face(0.25 if t < 4 else 0.6)]), shots=[4.0])
    assert _centre(path, 3.96) == pytest.approx(0.25, abs=0.01)
    assert _centre(path, 4.0) == pytest.approx(0.6, abs=0.01)


def test_a_shot_whose_face_comes_late_starts_on_it() -> None:
    path = _plan(_track(lambda t: [_face(0.75)] if t >= 4.6 else []), shots=[4.0])
    assert _centre(path, 4.0) == pytest.approx(0.75, abs=0.01)
    assert _centre(path, 3.0) == pytest.approx(0.5, abs=0.01)  # no face at all: centred


def test_no_face_mid_shot_keeps_the_framing() -> None:
    path = _plan(_track(lambda t: [] if 3 <= t < 7 else [_face(0.3)]))
    assert len(set(path.xs)) == 1


def test_no_face_at_all_is_centred() -> None:
    path = _plan(_track(lambda t: []))
    assert set(path.xs) == {(1280 - 404) // 2 // 2 * 2}


def test_two_faces_the_larger_unless_one_is_heard() -> None:
    def faces(t: float, left: float | None = None, right: float | None = None) -> list[Face]:
        return [
            _face(0.25, size=0.14, track=1, speaking=left),  # type: ignore[arg-type]
            _face(0.75, size=0.09, track=2, speaking=right),  # type: ignore[arg-type]
        ]

    assert _centre(_plan(_track(faces)), 5.0) == pytest.approx(0.25, abs=0.02)
    heard = _plan(_track(lambda t: faces(t, left=0.01, right=0.2)))
    assert _centre(heard, 0.0) == pytest.approx(0.75, abs=0.02)
    assert len(set(heard.xs)) == 1
    # evidence too close to tell the two apart: the larger
    unsure = _plan(_track(lambda t: faces(t, left=0.1, right=0.12)))
    assert _centre(unsure, 5.0) == pytest.approx(0.25, abs=0.02)


def test_the_camera_changes_speaker_after_a_while_with_a_jump() -> None:
    def faces(t: float) -> list[Face]:
        left, right = (0.3, 0.0) if t < 5 else (0.0, 0.3)
        return [
            _face(0.2, size=0.1, track=1, speaking=left),
            _face(0.8, size=0.1, track=2, speaking=right),
        ]

    path = _plan(_track(faces))
    assert _centre(path, 4.9) == pytest.approx(0.2, abs=0.02)
    assert _centre(path, 5.0 + camera.SWITCH + 0.1) == pytest.approx(0.8, abs=0.02)
    assert len(set(path.xs)) == 2  # a jump, no sweep
    # a single sample of the other speaker changes nothing
    blip = _plan(_track(lambda t: faces(5.0 if abs(t - 3) < 0.01 else 0.0)))
    assert len(set(blip.xs)) == 1


def test_fit_and_center() -> None:
    track = _track(lambda t: [_face(0.2)])
    fit = _plan(track, mode="fit")
    assert fit.fit and fit.size == SOURCE and fit.crop_commands() == ""
    centre = _plan(track, mode=Framing.CENTER, aspect="1:1")
    assert centre.size == (720, 720) and set(centre.xs) == {280} and set(centre.ys) == {0}


def test_a_span_in_the_middle_of_the_source() -> None:
    track = _track(lambda t: [_face(0.2 if t < 35 else 0.7)], start=30.0, end=40.0)
    path = _plan(track, shots=[25.0, 35.0, 45.0])
    assert len(path.xs) == 250
    assert _centre(path, 34.96) == pytest.approx(0.2, abs=0.01)
    assert _centre(path, 35.0) == pytest.approx(0.7, abs=0.01)
    assert path.window_at(0.0) == path.window_at(-1.0)  # clamped to the clip
    assert path.window_at(100.0) == path.window_at(9.96)


def test_windows_are_even_and_inside_the_frame_for_any_track() -> None:
    rng = np.random.default_rng(7)
    for _ in range(40):
        shape = str(rng.choice(["9:16", "1:1", "4:5", "16:9"]))
        source = (int(rng.integers(200, 2000)), int(rng.integers(200, 2000)))
        cuts = sorted(rng.uniform(0, 6, size=int(rng.integers(0, 3))).tolist())

        def random_faces(t: float) -> list[Face]:
            count = int(rng.integers(0, 3))
            faces = []
            for _ in range(count):
                x, y = rng.uniform(-0.1, 1.0, size=2)
                w, h = rng.uniform(0.01, 0.5, size=2)
                track, speaking = int(rng.integers(0, 3)), float(rng.uniform(0, 0.3))
                faces.append(Face(x, y, w, h, 1.0, track=track, speaking=speaking))
            return faces

        track = _track(random_faces, end=6.0, fps=float(rng.choice([2, 5, 10])))
        path = plan_camera(
            track, cuts, source_size=source, aspect=shape, start=0.0, end=6.0,
            fps=float(rng.choice([24, 25, 30, 60])),
        )  # fmt: skip
        _valid(path)


def test_crop_commands_are_a_sendcmd_file() -> None:
    path = CameraPath(Framing.FOLLOW, SOURCE, (404, 720), 0.0, 25.0, (0, 0, 10, 10, 20), (0,) * 5)
    assert path.crop_filter() == "crop@cam=w=404:h=720:x=0:y=0"
    assert path.crop_commands().splitlines() == [
        "0.060000 crop@cam x 10, crop@cam y 0;",
        "0.140000 crop@cam x 20, crop@cam y 0;",
    ]
    assert path.crop_commands(50.0, name="crop@other").splitlines()[0] == (
        "0.070000 crop@other x 10, crop@other y 0;"
    )
