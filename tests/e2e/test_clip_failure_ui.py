"""A clip whose render failed, in Chromium: the job page says the job is done with the clips that
rendered, the failed card says why without blaming the video, and "Render again" renders it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from clipmill.media.testing import FakeFetcher
from clipmill.shorts.testing import FakeTranscriber, FakeTranscribers, transcript_from_sentences
from tests.e2e.conftest import Axe, Served
from tests.e2e.test_shorts_ui import SHORT_SCRIPT
from tests.shorts_api.test_clip_failures import FailingRenderer
from tests.support.fixtures_talk import talk_cache_root
from tests.support.talk import Talk, build_talk

OPTIONS = {"min_clip_duration": 3, "clip_duration": 5, "max_clip_duration": 8, "max_clips": 2}


@pytest.fixture(scope="module")
def short_talk() -> Talk:
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    return build_talk(talk_cache_root(), SHORT_SCRIPT, sentence_pause=0.5)


def test_a_failed_clip_says_why_and_renders_again(
    served: Callable[..., Served], page: Any, short_talk: Talk, axe: Axe
) -> None:
    transcript = transcript_from_sentences(list(SHORT_SCRIPT[0].sentences), start=0.5)
    url = "http://127.0.0.1:9/media/talk.mp4"
    renderer = FailingRenderer(failures=1)
    app = served(
        fetcher=FakeFetcher({url: short_talk.mp4}),
        transcribers=FakeTranscribers(FakeTranscriber(transcript)),
        renderer=renderer,
    )
    job_id = httpx.post(app.at("/api/v1/jobs"), json={"youtube_url": url, "options": OPTIONS})
    job_id = job_id.json()["id"]
    deadline = time.monotonic() + 60
    while (detail := httpx.get(app.at(f"/api/v1/jobs/{job_id}")).json())["status"] != "completed":
        assert detail["status"] not in ("failed", "cancelled") and time.monotonic() < deadline
        time.sleep(0.1)
    clips = detail["generated_clips"]
    assert len(clips) == 2, clips
    (failed_id,) = renderer.failed

    page.goto(app.at(f"/shorts/{job_id}"))
    card = page.locator(f".gallery .clip[data-clip-id='{failed_id}']")
    card.wait_for()
    status = page.locator("[data-job-status]").text_content() or ""
    assert status.startswith("Done: 1 of 2 clips rendered"), status
    assert card.get_attribute("data-status") == "failed"
    reason = card.locator("[data-clip-error]")
    assert reason.get_attribute("data-clip-error") == "render_failed"
    text = (reason.text_content() or "").lower()
    assert "your video is fine" in text and "damaged" not in text
    assert card.locator("video").count() == 0 and card.locator("[data-download]").count() == 0
    other = page.locator(".gallery .clip[data-status='ready']")
    assert other.count() == 1 and other.locator("video").count() == 1
    axe.check(page, "a shorts job with a failed clip")

    card.locator("[data-render-again]").click()
    page.wait_for_selector(f".gallery .clip[data-clip-id='{failed_id}'][data-status='ready'] video")
    assert page.locator(".gallery .clip[data-status='failed']").count() == 0
    after = httpx.get(app.at(f"/api/v1/jobs/{job_id}")).json()["generated_clips"]
    assert all(c["status"] == "ready" for c in after)
