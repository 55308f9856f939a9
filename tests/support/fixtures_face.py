"""Pytest plugin: the generated face videos (see face_video) and, once per session, what the
detectors find in the default one.

Videos are cached by content hash in the system temp dir (override with
``CLIPMILL_TEST_CACHE``), so later sessions reuse them.

Fixtures:
    face_video        (session) FaceVideo: 12 s, a pan, a cut at 6 s, no face 8.5-10 s
    two_face_video    (session) FaceVideo: 8 s, a large silent face and a smaller speaking one
    face_track        (session) FaceTrack of face_video (detect_faces over the whole video)
    two_face_track    (session) FaceTrack of two_face_video (with the mouths' evidence)
    face_video_shots  (session) detect_shots over the whole face_video
"""

from __future__ import annotations

import shutil

import pytest

from clipmill.shorts.render.faces import FaceTrack
from tests.support.face_video import FaceVideo, build_face_video, default_scene, two_face_scene


def _require_tools() -> None:
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="session")
def face_video() -> FaceVideo:
    _require_tools()
    return build_face_video(default_scene())


@pytest.fixture(scope="session")
def two_face_video() -> FaceVideo:
    _require_tools()
    return build_face_video(two_face_scene())


@pytest.fixture(scope="session")
def face_track(face_video: FaceVideo) -> FaceTrack:
    from clipmill.shorts.render.faces import detect_faces

    return detect_faces(face_video.path, 0.0, face_video.duration)


@pytest.fixture(scope="session")
def two_face_track(two_face_video: FaceVideo) -> FaceTrack:
    from clipmill.shorts.render.faces import detect_faces

    return detect_faces(two_face_video.path, 0.0, two_face_video.duration)


@pytest.fixture(scope="session")
def face_video_shots(face_video: FaceVideo) -> list[float]:
    from clipmill.shorts.render.shots import detect_shots

    return detect_shots(face_video.path, 0.0, face_video.duration)
