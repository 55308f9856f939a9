"""The clip editor in Chromium: it opens at the clip, its modes stay put, and a corrected word
reaches the clip's captions.

A two-minute scripted lecture (a fake transcript over a tone video whose sound matches it) runs
through the real planner with the fake renderer, so a late clip has over a box-height of
transcript before it; the tests are about the editor, not the pictures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from clipmill.media.testing import FakeFetcher
from clipmill.shorts.testing import (
    FakeRenderer,
    FakeTranscriber,
    FakeTranscribers,
    transcript_from_sentences,
)
from clipmill.shorts.transcript import Transcript
from tests.e2e.conftest import Served
from tests.support.talk import DEFAULT_SCRIPT
from tests.support.tone_video import tone_video

URL = "http://127.0.0.1:9/media/lecture.mp4"
OPTIONS = {"min_clip_duration": 10, "clip_duration": 20, "max_clip_duration": 30, "max_clips": 4}


@pytest.fixture(scope="module")
def lecture() -> Transcript:
    sentences = [sentence for topic in DEFAULT_SCRIPT for sentence in topic.sentences]
    return transcript_from_sentences(sentences, pauses={10: 1.5, 20: 1.5})


@pytest.fixture(scope="module")
def lecture_mp4(tmp_path_factory: pytest.TempPathFactory, lecture: Transcript) -> Path:
    """A tiny video with a tone where the lecture's words are (so the planner's pauses agree)."""
    return tone_video(tmp_path_factory.mktemp("lecture"), lecture)


def finished_job(
    served: Callable[..., Served], lecture: Transcript, mp4: Path
) -> tuple[Served, dict[str, Any]]:
    app = served(
        fetcher=FakeFetcher({URL: mp4}),
        transcribers=FakeTranscribers(FakeTranscriber(lecture)),
        renderer=FakeRenderer(),
    )
    job_id = httpx.post(app.at("/api/v1/jobs"), json={"youtube_url": URL, "options": OPTIONS})
    job_id = job_id.json()["id"]
    deadline = time.monotonic() + 60
    while (detail := httpx.get(app.at(f"/api/v1/jobs/{job_id}")).json())["status"] != "completed":
        assert detail["status"] not in ("failed", "cancelled"), detail["error"]
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return app, detail


def latest_clip(detail: dict[str, Any]) -> dict[str, Any]:
    return dict(max(detail["generated_clips"], key=lambda c: c["start_time"]))


def open_editor(page: Any, app: Served, job_id: str, clip_id: str) -> None:
    page.goto(app.at(f"/shorts/{job_id}/clips/{clip_id}"))
    page.wait_for_selector("[data-clip-editor][data-ready=true]")


def test_the_editor_opens_scrolled_to_the_clips_first_word(
    served: Callable[..., Served], page: Any, lecture: Transcript, lecture_mp4: Path
) -> None:
    app, detail = finished_job(served, lecture, lecture_mp4)
    clip = latest_clip(detail)
    assert clip["start_time"] > 45  # the editor shows 45 s of transcript before it
    open_editor(page, app, detail["id"], clip["clip_id"])
    facts = page.eval_on_selector(
        "[data-transcript]",
        """(box) => {
            const first = box.querySelector(".word[data-in=true]");
            const b = box.getBoundingClientRect(), w = first.getBoundingClientRect();
            return { top: w.top - b.top, bottom: w.bottom - b.top, height: box.clientHeight,
                     scrolled: box.scrollTop, inContent: w.top - b.top + box.scrollTop,
                     start: Number(first.dataset.start) };
        }""",
    )
    # unscrolled, the clip's first word would be below the box: the box had to scroll to it
    assert facts["inContent"] > facts["height"], facts
    assert facts["scrolled"] > 0, facts
    assert facts["top"] >= 0 and facts["bottom"] <= facts["height"], facts
    assert abs(facts["start"] - clip["start_time"]) < 0.5


def test_set_start_stays_set_start_until_the_user_picks_set_end(
    served: Callable[..., Served], page: Any, lecture: Transcript, lecture_mp4: Path
) -> None:
    app, detail = finished_job(served, lecture, lecture_mp4)
    clip = latest_clip(detail)
    open_editor(page, app, detail["id"], clip["clip_id"])
    inside = page.locator("[data-transcript] .word[data-in=true]")
    end_before = page.get_attribute("[data-end-time]", "data-end-time")
    assert page.get_attribute("[data-mode=start]", "aria-pressed") == "true"
    for nth in (3, 1):  # a second thought about the first word: still the start
        word = inside.nth(nth)
        start = word.get_attribute("data-start")
        word.click()
        assert page.get_attribute("[data-start-time]", "data-start-time") == start
        assert page.get_attribute("[data-mode=start]", "aria-pressed") == "true"
        assert page.get_attribute("[data-mode=end]", "aria-pressed") == "false"
        assert page.get_attribute("[data-end-time]", "data-end-time") == end_before
    assert "first word" in page.inner_text("[data-mode-text]")

    page.click("[data-mode=end]")
    assert page.get_attribute("[data-mode=end]", "aria-pressed") == "true"
    assert "last word" in page.inner_text("[data-mode-text]")
    words = page.locator("[data-transcript] .word[data-in=true]")
    count = words.count()
    for nth in (count - 2, count - 3):  # and the end, twice
        word = words.nth(nth)
        end = word.get_attribute("data-end")
        word.click()
        assert page.get_attribute("[data-end-time]", "data-end-time") == end
        assert page.get_attribute("[data-mode=end]", "aria-pressed") == "true"


def test_a_corrected_word_shows_in_the_editor_and_the_rerendered_captions(
    served: Callable[..., Served], page: Any, lecture: Transcript, lecture_mp4: Path
) -> None:
    app, detail = finished_job(served, lecture, lecture_mp4)
    job_id = detail["id"]
    clip = latest_clip(detail)
    open_editor(page, app, job_id, clip["clip_id"])
    inside = page.locator("[data-transcript] .word[data-in=true]")
    target = inside.nth(2)
    misheard = target.inner_text().strip(".,!?")
    # a misheard word in the title, as the planner's titles carry them
    titled = httpx.patch(
        app.at(f"/api/v1/jobs/{job_id}/clips/{clip['clip_id']}"),
        json={"title": f"{misheard.capitalize()} fix"},
    )
    assert titled.status_code == 200, titled.text
    open_editor(page, app, job_id, clip["clip_id"])
    target = page.locator("[data-transcript] .word[data-in=true]").nth(2)
    index = target.get_attribute("data-word")

    page.click("[data-mode=fix]")
    assert "correct" in page.inner_text("[data-mode-text]")
    target.click()
    field = page.locator("[data-word-input]")
    assert field.input_value().strip(".,!?") == misheard
    field.fill("Zanzibar")
    field.press("Enter")
    page.wait_for_selector(f"[data-transcript] .word[data-word='{index}'][data-corrected=true]")
    assert page.inner_text(f"[data-transcript] .word[data-word='{index}']") == "Zanzibar"
    page.wait_for_selector("[data-clip-editor][data-revision='1']")
    assert "ready" in page.inner_text("[data-render-text]")
    assert page.inner_text("[data-clip-heading]") == "Zanzibar fix"
    assert page.input_value("#clip-title") == "Zanzibar fix"

    after = httpx.get(app.at(f"/api/v1/jobs/{job_id}")).json()
    edited = next(c for c in after["generated_clips"] if c["clip_id"] == clip["clip_id"])
    link = edited["assets"]["captions_srt_url"]
    srt = httpx.get(link if link.startswith("http") else app.at(link)).text
    assert "Zanzibar" in srt
    others = [c for c in after["generated_clips"] if c["clip_id"] != clip["clip_id"]]
    assert all(c["revision"] == 0 for c in others)

    # by keyboard: F2 on the focused word, a new text, Enter; Escape leaves a word alone
    page.focus("[data-transcript] .word[tabindex='0']")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("F2")
    page.keyboard.press("Escape")
    assert page.locator("[data-word-input]").count() == 0
    keyed = page.evaluate("() => document.activeElement.dataset.word")
    page.keyboard.press("F2")
    page.keyboard.press("Control+a")
    page.keyboard.type("Kilimanjaro")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"[data-transcript] .word[data-word='{keyed}'][data-corrected=true]")
    page.wait_for_selector("[data-clip-editor][data-revision='2']")
    words = httpx.get(app.at(f"/api/v1/jobs/{job_id}/transcript")).json()["words"]
    assert words[int(keyed)]["text"] == "Kilimanjaro"
    assert words[int(index)]["text"] == "Zanzibar"
