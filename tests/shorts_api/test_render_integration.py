"""Real clips end to end: the moving-face test video (scikit-image's astronaut over espeak-ng
speech, with a hard cut) through Whisper, the plan, the renderer and an edit; every assertion is
on the files a user downloads."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import srt

from clipmill.shorts.render.faces import detect_faces
from tests.shorts_api.conftest import ShortsApp
from tests.support.containers import wait_terminal
from tests.support.face_video import FaceVideo

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OPTIONS = {
    "resolution": "720p", "aspect_ratios": ["9:16", "1:1"], "caption_style": "bold",
    "max_clips": 1, "min_clip_duration": 3, "clip_duration": 6, "max_clip_duration": 12,
    "language": "en",
}  # fmt: skip


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True, check=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(out)  # type: ignore[no-any-return]


def download(app: ShortsApp, url: str, path: Path) -> Path:
    response = app.client.get(url)
    assert response.status_code == 200, url
    path.write_bytes(response.content)
    return path


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory,
    make_module_app: Callable[..., ShortsApp],
    face_video: FaceVideo,
) -> dict[str, Any]:
    """One job over the face video, then a clip added over the whole speech (rendered as a
    job of its own)."""
    app = make_module_app(real_transcribers=True, real_renderer=True, max_concurrent_jobs=2)
    job_id = app.upload(face_video.path, options=OPTIONS, filename="face.mp4").json()["id"]
    app.start_workers()
    detail = app.wait(job_id, timeout=300)
    assert detail["status"] == "completed", detail["error"]
    added = app.client.post(
        f"/api/v1/jobs/{job_id}/clips", json={"start_time": 0.2, "end_time": 11.8}
    ).json()
    wait_terminal(app.container, added["render_job_id"], 300)
    after = app.detail(job_id)
    clip = next(c for c in after["generated_clips"] if c["clip_id"] == added["clip"]["clip_id"])
    folder = tmp_path_factory.mktemp("clip")
    files = {
        r["aspect_ratio"]: download(app, r["video_url"], folder / f"{r['width']}x{r['height']}.mp4")
        for r in clip["assets"]["renditions"]
    }
    return {"app": app, "job_id": job_id, "detail": after, "clip": clip, "files": files,
            "folder": folder}  # fmt: skip


def test_each_shape_is_h264_high_yuv420p_aac_at_its_size_and_planned_length(
    rendered: dict[str, Any], face_video: FaceVideo
) -> None:
    clip = rendered["clip"]
    planned = clip["end_time"] - clip["start_time"]
    for aspect, size in (("9:16", (720, 1280)), ("1:1", (720, 720))):
        info = ffprobe(rendered["files"][aspect])
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
        assert (video["codec_name"], video["profile"], video["pix_fmt"]) == (
            "h264", "High", "yuv420p")  # fmt: skip
        assert (video["width"], video["height"]) == size
        assert audio["codec_name"] == "aac"
        assert abs(float(info["format"]["duration"]) - planned) <= 1 / face_video.fps + 0.03


def test_the_face_stays_in_the_vertical_frame(
    rendered: dict[str, Any], face_video: FaceVideo
) -> None:
    """Wherever the source shows a face, the 9:16 clip shows it too (>= 95 % of samples)."""
    clip, video = rendered["clip"], rendered["files"]["9:16"]
    found = detect_faces(video, 0.0, clip["end_time"] - clip["start_time"], fps=4.0)
    expected = [s for s in found.samples
                if face_video.truth_at(clip["start_time"] + s.time).faces]  # fmt: skip
    assert len(expected) >= 20
    seen = sum(1 for s in expected if s.faces)
    assert seen / len(expected) >= 0.95, (seen, len(expected))


def test_the_thumbnail_is_a_jpeg_of_the_clip_size(rendered: dict[str, Any]) -> None:
    app, clip = rendered["app"], rendered["clip"]
    thumb = download(app, clip["assets"]["thumbnail_url"], rendered["folder"] / "thumb.jpg")
    assert thumb.read_bytes()[:3] == b"\xff\xd8\xff"
    stream = ffprobe(thumb)["streams"][0]
    assert (stream["width"], stream["height"]) == (720, 1280)


def test_caption_cues_are_the_words_at_their_times(rendered: dict[str, Any]) -> None:
    app, clip, job_id = rendered["app"], rendered["clip"], rendered["job_id"]
    cues = list(srt.parse(app.client.get(clip["assets"]["captions_srt_url"]).text))
    assert cues
    transcript = app.container.shorts.results(app.container.lifecycle.load(job_id))
    assert transcript.transcript
    from clipmill.shorts.artifacts import ArtifactStore
    from clipmill.shorts.transcript import Transcript

    store = ArtifactStore(app.container.settings.jobs_dir / job_id)
    words = Transcript.from_dict(store.read_json("transcript.json")).words
    inside = [w for w in words if clip["start_time"] <= (w.start + w.end) / 2 <= clip["end_time"]]
    spoken = " ".join(w.text for w in inside).split()
    shown = " ".join(c.content.replace("\n", " ") for c in cues).split()
    assert shown == spoken
    first = inside[0].start - clip["start_time"]
    assert abs(cues[0].start.total_seconds() - first) <= 0.2


def test_an_edited_clip_renders_again_alone_with_its_new_bounds(
    rendered: dict[str, Any], face_video: FaceVideo
) -> None:
    app, job_id, clip = rendered["app"], rendered["job_id"], rendered["clip"]
    others = {c["clip_id"]: c["revision"] for c in rendered["detail"]["generated_clips"]}
    change = app.client.patch(
        f"/api/v1/jobs/{job_id}/clips/{clip['clip_id']}",
        json={"start_time": clip["start_time"] + 3.0, "aspect_ratios": ["9:16"]},
    ).json()
    wait_terminal(app.container, change["render_job_id"], 300)
    after = app.detail(job_id)
    edited = next(c for c in after["generated_clips"] if c["clip_id"] == clip["clip_id"])
    assert edited["revision"] == clip["revision"] + 1
    assert [r["aspect_ratio"] for r in edited["assets"]["renditions"]] == ["9:16"]
    assert edited["start_time"] >= clip["start_time"] + 2.0
    video = download(app, edited["assets"]["video_url"], rendered["folder"] / "edited.mp4")
    length = float(ffprobe(video)["format"]["duration"])
    assert abs(length - (edited["end_time"] - edited["start_time"])) <= 1 / face_video.fps + 0.03
    for other in after["generated_clips"]:
        if other["clip_id"] != clip["clip_id"]:
            assert other["revision"] == others[other["clip_id"]]
