"""Editing the clips of a finished job through the API: times snap to words, only the edited
clip renders again (as its own job), old files go only when the new ones are stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clipmill.jobs.enums import JobKind
from clipmill.shorts.testing import FakeRenderer
from tests.shorts_api.conftest import ShortsApp
from tests.support.containers import wait_terminal

OPTIONS = {
    "min_clip_duration": 10, "clip_duration": 25, "max_clip_duration": 45, "max_clips": 3,
    "aspect_ratios": ["9:16", "1:1"],
}  # fmt: skip


def finished_job(app: ShortsApp, lecture_mp4: Path) -> dict[str, Any]:
    job_id = app.upload(lecture_mp4, options=OPTIONS).json()["id"]
    app.start_workers()
    detail = app.wait(job_id)
    assert detail["status"] == "completed", detail["error"]
    assert detail["generated_clips"]
    return detail


def renderer(app: ShortsApp) -> FakeRenderer:
    shorts = app.container.pipelines[JobKind.SHORTS]
    fake = shorts.seams.renderer  # type: ignore[attr-defined]
    assert isinstance(fake, FakeRenderer)
    return fake


def test_a_finished_clip_has_a_video_and_thumbnail_per_shape(
    shorts_app: ShortsApp, lecture_mp4: Path
) -> None:
    detail = finished_job(shorts_app, lecture_mp4)
    clip = detail["generated_clips"][0]
    assets = clip["assets"]
    assert [r["aspect_ratio"] for r in assets["renditions"]] == ["9:16", "1:1"]
    assert (assets["width"], assets["height"]) == (1080, 1920)
    assert (assets["renditions"][1]["width"], assets["renditions"][1]["height"]) == (1080, 1080)
    for key in ("video_url", "thumbnail_url", "captions_srt_url", "captions_vtt_url"):
        assert shorts_app.client.get(assets[key]).status_code == 200, key
    roles = {f["role"] for f in detail["files"]}
    assert {"clip_video", "clip_thumbnail", "clip_subtitles"} <= roles


def test_an_edit_snaps_to_words_and_renders_only_that_clip(
    shorts_app: ShortsApp, lecture_mp4: Path
) -> None:
    detail = finished_job(shorts_app, lecture_mp4)
    first, second = detail["generated_clips"][:2]
    old_video = first["assets"]["video_url"]
    calls_before = len(renderer(shorts_app).calls)
    wanted_start, wanted_end = first["start_time"] + 0.7, first["end_time"] - 0.9
    response = shorts_app.client.patch(
        f"/api/v1/jobs/{detail['id']}/clips/{first['clip_id']}",
        json={"start_time": wanted_start, "end_time": wanted_end, "caption_style": "boxed"},
    )
    assert response.status_code == 200, response.text
    change = response.json()
    assert change["render_job_id"]
    planned = change["clip"]
    assert planned["revision"] == 1 and planned["caption_style"] == "boxed"
    wait_terminal(shorts_app.container, change["render_job_id"])
    render = shorts_app.client.get(f"/api/v1/jobs/{change['render_job_id']}").json()
    assert render["status"] == "completed", render["error"]
    after = shorts_app.detail(detail["id"])
    edited = next(c for c in after["generated_clips"] if c["clip_id"] == first["clip_id"])
    untouched = next(c for c in after["generated_clips"] if c["clip_id"] == second["clip_id"])
    assert untouched["assets"]["video_url"] and untouched["revision"] == 0
    assert edited["revision"] == 1
    # snapped outwards to whole words: the edges are word edges near the asked times
    store_words = _words(shorts_app, detail["id"])
    assert edited["start_time"] in {round(w[0], 3) for w in store_words}
    assert edited["end_time"] in {round(w[1], 3) for w in store_words}
    assert abs(edited["start_time"] - wanted_start) < 1.0
    assert abs(edited["end_time"] - wanted_end) < 1.0
    calls = renderer(shorts_app).calls[calls_before:]
    assert [c.clip_id for c in calls] == [first["clip_id"]]  # only the edited clip
    assert calls[0].caption_style.value == "boxed"
    assert shorts_app.client.get(edited["assets"]["video_url"]).status_code == 200
    assert shorts_app.client.get(old_video).status_code == 410  # the old file went after
    events = [e for e in _events(shorts_app, detail["id"]) if e["type"] == "clip"]
    assert any("edited" in (e["message"] or "") for e in events)
    assert any("rendered again" in (e["message"] or "") for e in events)


def test_a_title_alone_changes_at_once_without_a_render(
    shorts_app: ShortsApp, lecture_mp4: Path
) -> None:
    detail = finished_job(shorts_app, lecture_mp4)
    clip = detail["generated_clips"][0]
    calls = len(renderer(shorts_app).calls)
    response = shorts_app.client.patch(
        f"/api/v1/jobs/{detail['id']}/clips/{clip['clip_id']}", json={"title": "A better title"}
    )
    assert response.status_code == 200 and response.json()["render_job_id"] is None
    after = shorts_app.detail(detail["id"])
    assert after["generated_clips"][0]["title"] == "A better title"
    assert len(renderer(shorts_app).calls) == calls


def test_a_clip_can_be_added_from_a_span_and_removed(
    shorts_app: ShortsApp, lecture_mp4: Path
) -> None:
    detail = finished_job(shorts_app, lecture_mp4)
    count = len(detail["generated_clips"])
    added = shorts_app.client.post(
        f"/api/v1/jobs/{detail['id']}/clips", json={"start_time": 2.0, "end_time": 14.0}
    )
    assert added.status_code == 202, added.text
    change = added.json()
    wait_terminal(shorts_app.container, change["render_job_id"])
    after = shorts_app.detail(detail["id"])
    assert len(after["generated_clips"]) == count + 1
    new = next(c for c in after["generated_clips"] if c["clip_id"] == change["clip"]["clip_id"])
    assert new["transcript_segment"] and new["assets"]["video_url"]
    gone = shorts_app.client.delete(f"/api/v1/jobs/{detail['id']}/clips/{new['clip_id']}")
    assert gone.status_code == 204
    final = shorts_app.detail(detail["id"])
    assert new["clip_id"] not in {c["clip_id"] for c in final["generated_clips"]}
    assert shorts_app.client.get(new["assets"]["video_url"]).status_code == 410


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"start_time": 500.0, "end_time": 510.0}, 422, "invalid_option"),  # no words there
        ({"start_time": 10.0, "end_time": 5.0}, 422, "invalid_option"),
        ({}, 422, "invalid_option"),
        ({"aspect_ratios": ["9:16", "9:16"]}, 422, "invalid_option"),
    ],
)
def test_bad_edits_are_refused(
    shorts_app: ShortsApp, lecture_mp4: Path, body: dict[str, Any], status: int, code: str
) -> None:
    detail = finished_job(shorts_app, lecture_mp4)
    clip = detail["generated_clips"][0]
    response = shorts_app.client.patch(
        f"/api/v1/jobs/{detail['id']}/clips/{clip['clip_id']}", json=body
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_clips_of_unknown_or_unfinished_jobs_cannot_be_edited(shorts_app: ShortsApp) -> None:
    missing = shorts_app.client.patch("/api/v1/jobs/nope/clips/clip-01", json={"title": "x"})
    assert missing.status_code == 404
    job_id = shorts_app.client.post(
        "/api/v1/jobs", json={"youtube_url": "http://127.0.0.1:9/x.mp4"}
    ).json()["id"]  # queued: workers are paused
    queued = shorts_app.client.patch(f"/api/v1/jobs/{job_id}/clips/clip-01", json={"title": "x"})
    assert queued.status_code == 409


def _words(app: ShortsApp, job_id: str) -> list[tuple[float, float]]:
    from clipmill.shorts.artifacts import ArtifactStore
    from clipmill.shorts.transcript import Transcript

    store = ArtifactStore(app.container.settings.jobs_dir / job_id)
    transcript = Transcript.from_dict(store.read_json("transcript.json"))
    return [(w.start, w.end) for w in transcript.words]


def _events(app: ShortsApp, job_id: str) -> list[dict[str, Any]]:
    from clipmill.accounts.principal import LOCAL_USER

    return [e.model_dump() for e in app.container.jobs.events(LOCAL_USER, job_id)]
