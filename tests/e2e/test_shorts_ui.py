"""The shorts studio, the job page and the clip editor in Chromium.

The main test is real end to end: a short espeak-ng talk over a test picture is dropped on the
studio's drop zone, transcribed by the bundled Whisper model, planned, rendered by ffmpeg at
720p (one clip, centre framing), played in the gallery, then edited and rendered again. The
polling test uses a slowed fake transcriber and the fake renderer, since it is about the stepper.
"""

from __future__ import annotations

import base64
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from clipmill.cancellation import CancelSignal
from clipmill.media.testing import FakeFetcher
from clipmill.shorts.testing import FakeRenderer, FakeTranscriber, FakeTranscribers
from clipmill.shorts.transcribe import ProgressCallback
from clipmill.shorts.transcript import Transcript
from tests.e2e.conftest import PHONE, Served, screenshot
from tests.support.fixtures_talk import talk_cache_root
from tests.support.talk import ScriptTopic, Talk, build_talk

SHORT_SCRIPT = (
    ScriptTopic(
        "pasta",
        (
            "Today we cook a simple plate of pasta at home.",
            "Wait until the water is boiling hard before you add the pasta.",
            "Add a large spoon of salt to the water as well.",
            "Taste a piece a minute before the time on the box.",
        ),
        hooks=(1,),
    ),
)
FINISHED = 180_000  # ms: the real job (download, Whisper, plan, ffmpeg) on a slow CI core


@pytest.fixture(scope="module")
def short_talk() -> Talk:
    """About 14 s of espeak-ng speech over a 320x180 test picture (cached between sessions)."""
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    return build_talk(talk_cache_root(), SHORT_SCRIPT, sentence_pause=0.5)


def drop_file(tab: Any, selector: str, path: Path, mime: str = "video/mp4") -> None:
    """Drag and drop ``path`` onto ``selector`` the way a file manager does: a DataTransfer
    holding a File, through dragenter, dragover and drop."""
    tab.evaluate(
        """([selector, name, mime, data]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            const target = document.querySelector(selector);
            for (const type of ["dragenter", "dragover", "drop"]) {
                target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true,
                                                           dataTransfer: transfer }));
            }
        }""",
        [selector, path.name, mime, base64.b64encode(path.read_bytes()).decode()],
    )


def fill_studio(tab: Any, *, clips: int = 1) -> None:
    tab.fill("#shorts-min", "3")
    tab.fill("#shorts-max", "12")
    tab.fill("#shorts-count", str(clips))
    tab.click("details.more summary")
    tab.select_option("#shorts-resolution", "720p")
    tab.select_option("#shorts-framing", "center")
    tab.fill("#shorts-language", "en")


def stepper_states(tab: Any) -> dict[str, str]:
    return dict(
        tab.evaluate(
            """() => [...document.querySelectorAll("[data-stepper] li")]
                     .map((li) => [li.dataset.stage, li.dataset.state])"""
        )
    )


def wait_until_done(tab: Any, timeout_ms: int = FINISHED) -> list[dict[str, str]]:
    """Stepper snapshots until the job page says completed (each distinct one once)."""
    seen: list[dict[str, str]] = []
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        status = tab.get_attribute("[data-shorts-job]", "data-status")
        states = stepper_states(tab)
        if states and (not seen or seen[-1] != states):
            seen.append(states)
        if status in ("completed", "failed", "cancelled"):
            assert status == "completed", tab.inner_text("[data-job-error]")
            return seen
        tab.wait_for_timeout(100)
    raise AssertionError(f"the job did not finish; stepper went {seen}")


def wait_playable(tab: Any, selector: str) -> dict[str, float]:
    """Load the video fully (the gallery preloads metadata only) and wait until it can play."""
    tab.eval_on_selector(selector, "(v) => { v.preload = 'auto'; v.muted = true; v.load(); }")
    tab.wait_for_function(
        """(selector) => { const v = document.querySelector(selector);
                           return v && v.readyState >= 2 && v.duration > 0; }""",
        arg=selector,
    )
    return dict(
        tab.eval_on_selector(
            selector,
            """(v) => ({ duration: v.duration, width: v.videoWidth, height: v.videoHeight,
                        readyState: v.readyState })""",
        )
    )


def test_upload_to_a_playable_clip_then_edit_and_render_it_again(
    served: Callable[..., Served], page: Any, browser: Any, short_talk: Talk
) -> None:
    app = served(max_concurrent_jobs=2)
    started = time.monotonic()
    page.goto(app.at("/shorts"))
    page.wait_for_selector("[data-caption-styles]")
    screenshot(page, "shorts-desktop")

    drop_file(page, "[data-dropzone]", short_talk.mp4)
    assert "talk.mp4" in page.inner_text("[data-file-name]")
    fill_studio(page)
    page.check("input[name=caption_style][value=bold]")
    page.click("[data-start]")
    page.wait_for_url("**/shorts/*", timeout=30_000)
    job_id = page.url.rstrip("/").rsplit("/", 1)[1]

    # the stepper goes through the stages to done
    snapshots = wait_until_done(page)
    currents = {stage for snap in snapshots for stage, state in snap.items() if state == "current"}
    assert currents, snapshots  # some stage was seen running
    assert set(snapshots[-1].values()) == {"done"}
    finished = time.monotonic() - started

    # the gallery: one clip that plays, its facts and its files
    page.wait_for_selector(".gallery .clip video")
    cards = page.locator(".gallery .clip")
    assert cards.count() == 1
    facts = wait_playable(page, ".gallery .clip video")
    assert (facts["width"], facts["height"]) == (720, 1280)
    card_text = cards.first.inner_text()
    assert "Score" in card_text and "Edit clip" in card_text
    assert page.get_attribute(".gallery .clip video", "poster")
    kinds = {"video": "video/", "srt": "", "vtt": "text/vtt", "thumbnail": "image/jpeg"}
    with httpx.Client() as client:
        for kind, content_type in kinds.items():
            href = page.get_attribute(f".gallery .clip [data-download={kind}]", "href")
            assert href, kind
            response = client.get(href if href.startswith("http") else app.at(href))
            assert response.status_code == 200, (kind, response.status_code)
            assert response.headers["content-type"].startswith(content_type), kind
    old_video = page.get_attribute(".gallery .clip video", "src")
    screenshot(page, "shorts-gallery-desktop")

    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                has_touch=True).new_page()  # fmt: skip
    phone.goto(app.at("/shorts"))
    phone.wait_for_selector("[data-jobs] li")
    screenshot(phone, "shorts-phone")
    phone.goto(app.at(f"/shorts/{job_id}"))
    phone.wait_for_selector(".gallery .clip video")
    screenshot(phone, "shorts-gallery-phone")
    phone.context.close()

    # the editor: a later first word and boxed captions, rendered again
    page.click(".gallery .clip .edit-link")
    page.wait_for_selector("[data-clip-editor][data-ready=true]")
    clip = app_clip(app, job_id)
    inside = page.locator("[data-transcript] .word[data-in=true]")
    assert inside.count() >= 4
    screenshot(page, "clip-editor-desktop")
    last_word_end = float(inside.last.get_attribute("data-end"))  # the server snaps to words
    word = inside.nth(2)
    new_start = float(word.get_attribute("data-start"))
    word.click()
    assert float(page.get_attribute("[data-start-time]", "data-start-time")) == new_start
    assert page.get_attribute("[data-mode=start]", "aria-pressed") == "true"  # the mode stays
    page.check("input[name=caption_style][value=boxed]")
    page.click("[data-rerender]")
    page.wait_for_selector("[data-clip-editor][data-revision='1']", timeout=FINISHED)
    assert "ready" in page.inner_text("[data-render-text]")
    edited = app_clip(app, job_id)
    assert edited["start_time"] == new_start and edited["end_time"] == last_word_end
    assert abs(edited["end_time"] - clip["end_time"]) < 0.5
    assert edited["caption_style"] == "boxed"
    new_video = page.get_attribute("video[data-preview]", "src")
    assert new_video and file_of(new_video) != file_of(old_video)
    played = wait_playable(page, "video[data-preview]")
    assert abs(played["duration"] - (edited["end_time"] - edited["start_time"])) <= 0.2

    # and the gallery shows the new version
    page.click("[data-back]")
    page.wait_for_selector(".gallery .clip[data-revision='1'] video")
    assert file_of(page.get_attribute(".gallery .clip video", "src")) == file_of(new_video)
    print(f"job finished in {finished:.1f} s; whole test {time.monotonic() - started:.1f} s")


def file_of(signed_url: str) -> str:
    """The file a signed link names (the signature and its time differ between answers)."""
    return signed_url.rsplit("/", 1)[1].split(".", 1)[0]


def app_clip(app: Served, job_id: str) -> dict[str, Any]:
    """The job's only clip, as the API tells it."""
    detail = httpx.get(app.at(f"/api/v1/jobs/{job_id}")).json()
    [clip] = detail["generated_clips"]
    return dict(clip)


class PacedTranscriber(FakeTranscriber):
    """Returns the fake transcript a segment every ``pace`` seconds, so a polling page sees the
    transcribing stage run."""

    def __init__(self, transcript: Transcript, pace: float) -> None:
        super().__init__(transcript)
        self.pace = pace

    def transcribe(
        self,
        audio_path: Path,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: CancelSignal | None = None,
    ) -> Transcript:
        def paced(fraction: float) -> None:
            time.sleep(self.pace)
            if on_progress is not None:
                on_progress(fraction)

        return super().transcribe(audio_path, language=language, on_progress=paced, cancel=cancel)


def test_the_stepper_advances_by_polling_without_a_websocket(
    served: Callable[..., Served], page: Any, short_talk: Talk, tmp_path: Path
) -> None:
    from clipmill.shorts.testing import transcript_from_sentences

    transcript = transcript_from_sentences(list(SHORT_SCRIPT[0].sentences), start=0.5)
    url = "http://127.0.0.1:9/media/talk.mp4"
    app = served(
        fetcher=FakeFetcher({url: short_talk.mp4}),
        transcribers=FakeTranscribers(PacedTranscriber(transcript, pace=1.0)),
        renderer=FakeRenderer(),
    )
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.add_init_script("window.CLIPMILL_NO_WEBSOCKET = true;")
    page.goto(app.at("/shorts"))
    page.fill("#shorts-url", url)
    fill_studio(page, clips=2)
    page.click("[data-start]")
    page.wait_for_url("**/shorts/*")
    snapshots = wait_until_done(page, 60_000)
    currents = [stage for snap in snapshots for stage, state in snap.items() if state == "current"]
    assert "transcribing" in currents, snapshots
    progress_seen = page.evaluate("() => document.querySelector('[data-job-status]').textContent")
    assert progress_seen == "Done."
    assert set(snapshots[-1].values()) == {"done"}
    assert len(snapshots) >= 3  # it moved on several polls, not in one jump
    assert not sockets, sockets
    page.wait_for_selector(".gallery .clip")
    assert page.locator(".gallery .clip").count() >= 1


def test_the_editor_by_keyboard_adds_a_clip_and_deletes_one(
    served: Callable[..., Served], page: Any, short_talk: Talk
) -> None:
    from clipmill.shorts.testing import transcript_from_sentences

    transcript = transcript_from_sentences(list(SHORT_SCRIPT[0].sentences), start=0.5)
    url = "http://127.0.0.1:9/media/talk.mp4"
    app = served(
        fetcher=FakeFetcher({url: short_talk.mp4}),
        transcribers=FakeTranscribers(FakeTranscriber(transcript)),
        renderer=FakeRenderer(),
    )
    options = {"min_clip_duration": 3, "clip_duration": 6, "max_clip_duration": 12, "max_clips": 2}
    job_id = httpx.post(app.at("/api/v1/jobs"), json={"youtube_url": url, "options": options})
    job_id = job_id.json()["id"]
    deadline = time.monotonic() + 60
    while (detail := httpx.get(app.at(f"/api/v1/jobs/{job_id}")).json())["status"] != "completed":
        assert detail["status"] not in ("failed", "cancelled") and time.monotonic() < deadline
        time.sleep(0.1)
    clips = detail["generated_clips"]
    clip = clips[0]
    page.goto(app.at(f"/shorts/{job_id}/clips/{clip['clip_id']}"))
    page.wait_for_selector("[data-clip-editor][data-ready=true]")

    # keyboard only: the first word of the span has the focus stop; move, pick, move, Shift+Enter
    page.focus("[data-transcript] .word[tabindex='0']")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    first = page.evaluate("() => document.activeElement.dataset")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+Enter")
    last = page.evaluate("() => document.activeElement.dataset")
    assert page.get_attribute("[data-start-time]", "data-start-time") == first["start"]
    assert page.get_attribute("[data-end-time]", "data-end-time") == last["end"]
    assert page.locator("[data-transcript] .word[data-in=true]").count() == 4

    page.click("[data-add-clip]")
    page.wait_for_selector("[data-render-text] a")
    after = httpx.get(app.at(f"/api/v1/jobs/{job_id}")).json()["generated_clips"]
    [added] = [c for c in after if c["clip_id"] not in {c["clip_id"] for c in clips}]
    assert (added["start_time"], added["end_time"]) == (float(first["start"]), float(last["end"]))

    page.click("[data-delete-clip]")
    page.click("[data-confirm-delete]")
    page.wait_for_url(f"**/shorts/{job_id}")
    page.wait_for_selector(".gallery .clip")
    left = httpx.get(app.at(f"/api/v1/jobs/{job_id}")).json()["generated_clips"]
    assert clip["clip_id"] not in {c["clip_id"] for c in left}
    assert page.locator(".gallery .clip").count() == len(left)


def test_shorts_pages_hold_no_inline_script_or_style(served: Callable[..., Served]) -> None:
    app = served()
    with httpx.Client(base_url=app.url) as client:
        for path in ("/shorts", "/shorts/some-job", "/shorts/some-job/clips/clip-01"):
            html = client.get(path).text
            assert "<script>" not in html and " onclick=" not in html, path
            assert " style=" not in html, path
        for asset in ("/static/css/shorts.css", "/static/js/pages/clip_editor.js",
                      "/static/js/shorts/picker.js"):  # fmt: skip
            response = client.get(asset)
            assert response.status_code == 200 and len(response.content) < 100_000, asset
