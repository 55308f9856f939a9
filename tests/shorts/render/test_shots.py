"""Hard cuts in a span: found on the generated videos within a frame, nothing else reported."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from clipmill.errors import BrokenMedia, JobCancelled, UnsupportedMedia
from clipmill.media.ffmpeg import MediaProbe, StreamInfo
from clipmill.shorts.render import faces
from clipmill.shorts.render.shots import detect_shots, find_cuts
from tests.support.face_video import JUMP_CUTS, FaceVideo, build_face_video, cuts_scene

FRAME = 1 / 25


@pytest.fixture(scope="module")
def cuts_video() -> FaceVideo:
    return build_face_video(cuts_scene())


def _matches(found: list[float], truth: list[float], frames: int = 1) -> bool:
    return len(found) == len(truth) and all(
        abs(f - t) <= frames * FRAME + 1e-6 for f, t in zip(found, truth, strict=True)
    )


@pytest.mark.integration
def test_the_cut_of_the_face_video_is_found_within_a_frame(
    face_video: FaceVideo, face_video_shots: list[float]
) -> None:
    assert _matches(face_video_shots, list(face_video.cuts))


@pytest.mark.integration
def test_every_hard_cut_is_found_and_nothing_else(cuts_video: FaceVideo) -> None:
    """A pan, a face that pops out and back, a two-face shot: no false cut; short shots and a
    cut into a faceless shot: found."""
    hard = [c for c in cuts_video.cuts if c not in JUMP_CUTS]
    found = detect_shots(cuts_video.path, 0.0, cuts_video.duration)
    assert _matches(found, hard)


@pytest.mark.integration
def test_a_span_is_read_from_its_start_only(face_video: FaceVideo) -> None:
    cut = face_video.cuts[0]
    assert _matches(detect_shots(face_video.path, cut - 1.3, cut + 1.7), [cut])
    # the pan before the cut (0.5 s to 5.5 s) is one shot
    assert detect_shots(face_video.path, 0.5, cut - 0.5) == []
    # a span that starts on the cut does not report its own start
    assert detect_shots(face_video.path, cut, cut + 1.0) == []


@pytest.mark.integration
def test_cancel_stops_the_reading(face_video: FaceVideo) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(JobCancelled):
        detect_shots(face_video.path, 0.0, face_video.duration, cancel=cancel)


@pytest.mark.integration
def test_a_playlist_disguised_as_video_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "clip.mp4"
    fake.write_text("#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n")
    with pytest.raises(UnsupportedMedia):
        detect_shots(fake, 0.0, 5.0)


@pytest.mark.integration
def test_the_decoder_keeps_the_whitelists_even_if_the_sniff_misses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Second layer: were the first-bytes check and ffprobe fooled, PyAV still may not open a
    demuxer that reads other files."""
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"\x00" * 64)
    playlist = tmp_path / "clip.mp4"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{secret}\n")
    video = StreamInfo(index=0, codec_type="video", codec_name="h264", width=64, height=36)
    fooled = MediaProbe(playlist, 10.0, "hls", (video,))
    monkeypatch.setattr(faces, "probe_file", lambda path: fooled)
    with pytest.raises(BrokenMedia):
        detect_shots(playlist, 0.0, 5.0)


# --- the decision on frames, without video --------------------------------------------------


def _frames(count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` frames of one picture (smooth colour blocks) with a little noise."""
    rng = np.random.default_rng(seed)
    blocks = rng.uniform(0, 255, size=(4, 8, 3)).astype(np.float32)
    base = np.kron(blocks, np.ones((9, 8, 1), np.float32))
    return [
        np.clip(base + rng.normal(0, 2, base.shape), 0, 255).astype(np.float32)
        for _ in range(count)
    ]


def _times(count: int) -> list[float]:
    return [i * FRAME for i in range(count)]


def test_a_new_picture_is_a_cut() -> None:
    frames = _frames(30) + _frames(30, seed=1)
    assert find_cuts(_times(60), frames) == [pytest.approx(30 * FRAME)]


def test_a_one_frame_flash_is_not_a_cut() -> None:
    frames = _frames(30)
    frames[15] = np.full_like(frames[15], 255.0)
    assert find_cuts(_times(30), frames) == []


def test_a_slow_change_is_not_a_cut() -> None:
    """A fade or a pan changes every frame a little: never a cut."""
    first, second = _frames(1)[0], _frames(1, seed=1)[0]
    frames = [first + (second - first) * i / 49 for i in range(50)]
    assert find_cuts(_times(50), frames) == []


def test_nothing_to_compare() -> None:
    assert find_cuts([], []) == []
    assert find_cuts([0.0], _frames(1)) == []
