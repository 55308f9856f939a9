"""Faces found on the generated videos: where they were drawn, nowhere else, the speaker told."""

from __future__ import annotations

import statistics
import threading
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from clipmill.errors import JobCancelled
from clipmill.media.ffmpeg import file_arg, run_ffmpeg
from clipmill.shorts.render.faces import (
    Face,
    FaceSample,
    FaceTrack,
    HaarFaceDetector,
    detect_faces,
    read_frames,
)
from tests.support.face_video import FaceVideo, TrueFace, build_face_video, variant_scenes

pytestmark = pytest.mark.integration


def _iou(face: Face, truth: TrueFace, video: FaceVideo) -> float:
    a = (face.x * video.width, face.y * video.height, face.w * video.width, face.h * video.height)
    b = (truth.x, truth.y, truth.w, truth.h)
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _score(track: FaceTrack, video: FaceVideo) -> tuple[float, int]:
    """(share of drawn faces found, number of detections that match no drawn face)."""
    drawn = found = false = 0
    for sample in track.samples:
        truth = video.truth_at(sample.time).faces
        drawn += len(truth)
        found += sum(any(_iou(f, t, video) >= 0.3 for f in sample.faces) for t in truth)
        false += sum(all(_iou(f, t, video) < 0.3 for t in truth) for f in sample.faces)
    return found / max(drawn, 1), false


def test_the_face_is_found_where_it_was_drawn(face_video: FaceVideo, face_track: FaceTrack) -> None:
    recall, false = _score(face_track, face_video)
    assert recall >= 0.95
    assert false == 0


def test_samples_come_a_few_times_a_second_over_the_span(
    face_video: FaceVideo, face_track: FaceTrack
) -> None:
    times = [s.time for s in face_track.samples]
    assert times[0] == pytest.approx(0.0)
    assert times[-1] < face_video.duration
    assert all(0.15 <= b - a <= 0.25 for a, b in pairwise(times))
    assert all(f.x >= 0.0 and f.x + f.w <= 1.0 for s in face_track.samples for f in s.faces)


def test_no_face_is_reported_while_none_is_shown(
    face_video: FaceVideo, face_track: FaceTrack
) -> None:
    empty = [s for s in face_track.samples if not face_video.truth_at(s.time).faces]
    assert len(empty) >= 5
    assert all(not s.faces for s in empty)


def test_one_person_keeps_one_track_within_a_shot(face_track: FaceTrack) -> None:
    """The pan of the first shot is one track (the camera follows a person, not boxes)."""
    first_shot = {f.track for s in face_track.samples if s.time < 6.0 for f in s.faces}
    assert len(first_shot) == 1


def test_a_span_is_read_from_its_start(face_video: FaceVideo) -> None:
    track = detect_faces(face_video.path, 6.5, 8.0, fps=4)
    times = [s.time for s in track.samples]
    assert times[0] == pytest.approx(6.5, abs=0.05)
    assert times[-1] < 8.0
    assert len(times) == 6
    recall, false = _score(track, face_video)
    assert recall == 1.0 and false == 0


@pytest.mark.parametrize("name", ["small", "large", "turned", "none"])
def test_face_sizes_a_turned_face_and_no_face(name: str) -> None:
    video = build_face_video(variant_scenes()[name])
    track = detect_faces(video.path, 0.0, video.duration)
    recall, false = _score(track, video)
    assert false == 0
    if name != "none":
        assert recall >= 0.9


def test_two_faces_and_the_speaker_is_told_by_the_mouth(
    two_face_video: FaceVideo, two_face_track: FaceTrack
) -> None:
    track = two_face_track
    recall, false = _score(track, two_face_video)
    assert recall >= 0.95 and false == 0
    speaking: dict[str, list[float]] = {"speaker": [], "silent": []}
    for sample in track.samples:
        for face in sample.faces:
            if face.speaking is None:
                continue
            speaker = face.cx > 0.5  # the speaking face is drawn on the right
            speaking["speaker" if speaker else "silent"].append(face.speaking)
    assert statistics.median(speaking["speaker"]) > 2 * statistics.median(speaking["silent"])


def test_evidence_from_elsewhere_replaces_the_mouth() -> None:
    left = Face(0.1, 0.3, 0.2, 0.3, 1.0, track=1, speaking=0.5)
    right = Face(0.6, 0.3, 0.1, 0.15, 1.0, track=2, speaking=0.0)
    track = FaceTrack(0.0, 1.0, 5.0, (FaceSample(0.0, (left, right)),))
    heard = track.with_speaking(lambda sample, face: 1.0 if face.track == 2 else 0.0)
    assert [f.speaking for f in heard.samples[0].faces] == [0.0, 1.0]
    assert [f.speaking for f in track.samples[0].faces] == [0.5, 0.0]


def test_frames_are_downscaled_and_timed(face_video: FaceVideo) -> None:
    frames = list(read_frames(face_video.path, 1.0, 2.0, fps=5, width=320))
    assert [round(f.time, 2) for f in frames] == [1.0, 1.2, 1.4, 1.6, 1.8]
    assert frames[0].image.shape == (180, 320, 3)
    gray = next(read_frames(face_video.path, 0.0, 1.0, width=64, gray=True))
    assert gray.image.shape == (36, 64) and gray.image.dtype == np.uint8


def test_cancel_stops_detection(face_video: FaceVideo) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(JobCancelled):
        detect_faces(face_video.path, 0.0, face_video.duration, cancel=cancel)


def test_the_detector_options_are_checked() -> None:
    with pytest.raises(ValueError, match="profile"):
        HaarFaceDetector(profile="sometimes")
    blank = np.zeros((270, 480), np.uint8)
    for profile in ("fallback", "always", "never"):
        assert HaarFaceDetector(profile=profile).detect(blank) == []


def test_a_video_stored_sideways_is_read_upright(face_video: FaceVideo, tmp_path: Path) -> None:
    """As ffmpeg shows it (autorotate), so boxes match the picture the encoder crops."""
    sideways = tmp_path / "phone.mp4"
    run_ffmpeg([
        "-i", file_arg(face_video.path), "-t", "1", "-map", "0:v", "-c", "copy",
        "-metadata:s:v", "rotate=90", file_arg(sideways),
    ])  # fmt: skip
    upright = next(read_frames(face_video.path, 0.5, 1.0, width=320))
    turned = next(read_frames(sideways, 0.5, 1.0, width=180))
    assert turned.image.shape == (320, 180, 3)
    assert np.abs(turned.image.astype(int) - np.rot90(upright.image).astype(int)).mean() < 3
