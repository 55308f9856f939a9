"""A shorts job's clips under retention: kept longer with the job (and its transcript, so the
editor still works), and after the sweep no clip links a deleted file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from clipmill.clock import FakeClock
from tests.shorts_api.conftest import ShortsApp

DAY = 86400.0
OPTIONS = {"min_clip_duration": 10, "clip_duration": 25, "max_clip_duration": 45, "max_clips": 2}


def test_kept_clips_outlive_the_retention_then_go_without_dead_links(
    make_shorts_app: Callable[..., ShortsApp], lecture_mp4: Path
) -> None:
    clock = FakeClock()
    app = make_shorts_app(clock=clock)
    job_id = app.upload(lecture_mp4, options=OPTIONS).json()["id"]
    app.start_workers()
    detail = app.wait(job_id)
    assert detail["status"] == "completed" and detail["generated_clips"]
    assert detail["retention"]["files_kept"] >= 2 and detail["retention"]["can_keep_longer"]

    kept = app.client.post(f"/api/v1/jobs/{job_id}/keep", json={"days": 10})
    assert kept.status_code == 200, kept.text
    clock.advance(8 * DAY)  # past the week's retention, within the kept days
    app.container.sweeper.sweep()
    still = app.detail(job_id)
    assert all(c["assets"]["video_url"] for c in still["generated_clips"])
    words = app.client.get(f"/api/v1/jobs/{job_id}/transcript")
    assert words.status_code == 200 and words.json()["words"]  # the editor still has its words

    clock.advance(10 * DAY)
    app.container.sweeper.sweep()
    gone = app.detail(job_id)
    assert gone["retention"]["expires_at"] is None and gone["retention"]["deleted_at"]
    assert all(c["assets"]["video_url"] is None for c in gone["generated_clips"])
    assert all(url is None for url in gone["transcript_files"].values())
