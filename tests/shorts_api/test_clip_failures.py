"""One clip's failed render never fails the job: the job completes with the clips that rendered,
the failed one says why and can be rendered again; only when every clip fails does the job
fail; a retry renders only what failed; a cancel still stops every render."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clipmill.cancellation import CancelSignal
from clipmill.errors import RenderFailed
from clipmill.shorts import job_pipeline
from clipmill.shorts.seams import RenderedClip, RenderRequest
from clipmill.shorts.testing import FakeRenderer
from tests.shorts_api.conftest import ShortsApp
from tests.support.containers import wait_for, wait_terminal

OPTIONS = {"min_clip_duration": 10, "clip_duration": 25, "max_clip_duration": 45, "max_clips": 3}
REASON = "the rendered clip is 12.480 s long, planned 25.000 s"


class FailingRenderer(FakeRenderer):
    """Fails its first ``failures`` renders (whichever clips they are) with RenderFailed, as
    the length check does; renders like FakeRenderer after that."""

    def __init__(self, failures: int, hold: threading.Event | None = None) -> None:
        super().__init__(hold=hold)
        self.failures = failures
        self.reason = REASON
        self.lock = threading.Lock()
        self.failed: list[str] = []

    def render(
        self,
        request: RenderRequest,
        *,
        cancel: CancelSignal,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[RenderedClip]:
        with self.lock:
            fail = len(self.failed) < self.failures
            if fail:
                self.failed.append(request.clip_id)
        if fail:
            self.calls.append(request)
            raise RenderFailed(self.reason, planned=25.0, rendered=12.48)
        return super().render(request, cancel=cancel, on_progress=on_progress)


def run_job(app: ShortsApp, lecture_mp4: Path) -> dict[str, Any]:
    job_id = app.upload(lecture_mp4, options=OPTIONS).json()["id"]
    app.start_workers()
    return app.wait(job_id)


def test_one_failed_clip_leaves_a_completed_job_and_renders_again(
    make_shorts_app: Callable[..., ShortsApp], lecture_mp4: Path
) -> None:
    renderer = FailingRenderer(failures=1)
    app = make_shorts_app(renderer=renderer)

    detail = run_job(app, lecture_mp4)

    assert detail["status"] == "completed", detail["error"]
    clips = detail["generated_clips"]
    assert len(clips) == 3
    failed = [c for c in clips if c["status"] == "failed"]
    ready = [c for c in clips if c["status"] == "ready"]
    assert [c["clip_id"] for c in failed] == renderer.failed
    assert len(ready) == 2
    for clip in ready:
        assert clip["error"] is None
        assert app.client.get(clip["assets"]["video_url"]).status_code == 200
        assert app.client.get(clip["assets"]["captions_srt_url"]).status_code == 200
    (broken,) = failed
    assert broken["error"] == {"code": "render_failed", "message": REASON}
    assert broken["assets"]["renditions"] == [] and "video_url" not in broken["assets"]
    assert broken["title"] and broken["start_time"] < broken["end_time"]  # the plan stays
    stored_clip_files = [f for f in detail["files"] if f["role"] == "clip_video"]
    assert len(stored_clip_files) == 2
    log = app.client.get(f"/api/v1/jobs/{detail['id']}/logs").json()["lines"]
    assert any(broken["clip_id"] in line["line"] and REASON in line["line"] for line in log)

    # "Render again": the clip editor's re-render, with the clip's own span
    response = app.client.patch(
        f"/api/v1/jobs/{detail['id']}/clips/{broken['clip_id']}",
        json={"start_time": broken["start_time"], "end_time": broken["end_time"]},
    )
    assert response.status_code == 200, response.text
    render_id = response.json()["render_job_id"]
    assert wait_terminal(app.container, render_id).status.value == "completed"
    after = app.detail(detail["id"])
    again = next(c for c in after["generated_clips"] if c["clip_id"] == broken["clip_id"])
    assert again["status"] == "ready" and again["error"] is None
    assert app.client.get(again["assets"]["video_url"]).status_code == 200
    assert all(c["status"] == "ready" for c in after["generated_clips"])


def test_a_clip_that_fails_again_says_the_newest_reason(
    make_shorts_app: Callable[..., ShortsApp], lecture_mp4: Path
) -> None:
    renderer = FailingRenderer(failures=1)
    app = make_shorts_app(renderer=renderer)
    detail = run_job(app, lecture_mp4)
    broken = next(c for c in detail["generated_clips"] if c["status"] == "failed")
    renderer.failures, renderer.reason = 2, "the rendered clip is 1080x1080, not 1080x1920"

    response = app.client.patch(
        f"/api/v1/jobs/{detail['id']}/clips/{broken['clip_id']}",
        json={"start_time": broken["start_time"], "end_time": broken["end_time"]},
    )
    render = wait_terminal(app.container, response.json()["render_job_id"])

    assert (render.status.value, render.error_code) == ("failed", "render_failed")
    after = app.detail(detail["id"])
    still = next(c for c in after["generated_clips"] if c["clip_id"] == broken["clip_id"])
    assert still["status"] == "failed"
    assert still["error"]["message"] == renderer.reason
    others = [c for c in after["generated_clips"] if c["clip_id"] != broken["clip_id"]]
    assert all(c["status"] == "ready" and c["error"] is None for c in others)


def test_when_every_clip_fails_the_job_fails_with_the_first_reason(
    make_shorts_app: Callable[..., ShortsApp], lecture_mp4: Path
) -> None:
    renderer = FailingRenderer(failures=3)
    app = make_shorts_app(renderer=renderer)

    detail = run_job(app, lecture_mp4)

    assert detail["status"] == "failed"
    assert detail["stage"] == "generating_clips"
    assert detail["error"]["code"] == "render_failed"
    assert detail["error"]["message"] == REASON

    # a retry resumes at the clips (no new transcription) and now renders them
    assert app.client.post(f"/api/v1/jobs/{detail['id']}/retry", json={}).status_code == 200
    retried = app.wait(detail["id"])
    assert retried["status"] == "completed", retried["error"]
    assert all(c["status"] == "ready" for c in retried["generated_clips"])
    assert len(app.transcriber.calls) == 1


def test_a_retry_renders_only_the_clips_that_failed(
    make_shorts_app: Callable[..., ShortsApp], lecture_mp4: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One clip fails, then storing the results fails: the retry renders that clip alone."""
    renderer = FailingRenderer(failures=1)
    app = make_shorts_app(renderer=renderer)
    publish = job_pipeline.publish_results
    attempts: list[int] = []

    def fails_once(*args: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise RenderFailed("storing failed on purpose")
        return publish(*args, **kwargs)

    monkeypatch.setattr(job_pipeline, "publish_results", fails_once)
    detail = run_job(app, lecture_mp4)
    assert (detail["status"], detail["stage"]) == ("failed", "finalizing")
    first_calls = [r.clip_id for r in renderer.calls]
    assert len(first_calls) == 3

    assert app.client.post(f"/api/v1/jobs/{detail['id']}/retry", json={}).status_code == 200
    retried = app.wait(detail["id"])

    assert retried["status"] == "completed", retried["error"]
    assert [r.clip_id for r in renderer.calls[3:]] == renderer.failed  # only the failed one
    assert all(c["status"] == "ready" for c in retried["generated_clips"])
    assert len(retried["generated_clips"]) == 3


def test_a_cancel_while_clips_render_stops_them_all(
    make_shorts_app: Callable[..., ShortsApp], lecture_mp4: Path
) -> None:
    hold = threading.Event()
    renderer = FailingRenderer(failures=1, hold=hold)
    app = make_shorts_app(renderer=renderer)
    job_id = app.upload(lecture_mp4, options=OPTIONS).json()["id"]
    app.start_workers()
    wait_for(lambda: len(renderer.calls) >= 2, timeout=60)  # one failed, one held

    response = app.client.post(f"/api/v1/jobs/{job_id}/cancel", json={})

    assert response.json()["status"] == "cancelled"
    wait_for(lambda: job_id not in app.container.queue.running(), timeout=10)
    detail = app.detail(job_id)
    assert detail["status"] == "cancelled"  # the failed clip did not keep the others going
    assert not detail.get("generated_clips")
    assert not (app.container.settings.jobs_dir / job_id).exists()
