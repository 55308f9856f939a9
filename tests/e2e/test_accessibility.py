"""axe-core over every page state, in light and dark mode: 0 violations of any impact.

One app serves the module (auth off): a real preview and real downloads of local media (one
finished, one failed), and a shorts job on the fake transcriber and renderer, so its gallery
and clip editor are there in seconds. A second app runs with accounts, for the sign-in form and
a signed-in account with an API key. Each state opens its ``<details>`` first, so what they
hide is checked too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from clipmill.shorts.testing import FakeRenderer, FakeTranscriber, FakeTranscribers
from tests.e2e.conftest import Axe, Served
from tests.support.containers import wait_terminal
from tests.support.feeds import FeedSite
from tests.support.media_factory import MediaFiles

URL = Callable[[Path], str]
SENTENCES = (
    "Today we cook a simple plate of pasta at home with only four things.",
    "Wait until the water is boiling hard before you add the pasta to the pot.",
    "Add a large spoon of salt to the water as well, more than you think.",
    "Taste a piece a minute before the time on the box says it is ready.",
    "Keep a cup of the cooking water for the sauce before you drain it.",
)


@dataclass(frozen=True)
class Studio:
    """The module's app and the jobs it holds."""

    app: Served
    preview_url: str
    shorts_job: str
    clip_id: str


@pytest.fixture(scope="module")
def studio(served_module: Callable[..., Served], media_files: MediaFiles, media_url: URL) -> Studio:
    from clipmill.shorts.testing import transcript_from_sentences

    transcript = transcript_from_sentences(list(SENTENCES))
    app = served_module(
        transcribers=FakeTranscribers(FakeTranscriber(transcript)),
        renderer=FakeRenderer(),
        max_concurrent_jobs=3,
    )
    options = {"min_clip_duration": 3, "clip_duration": 6, "max_clip_duration": 12, "max_clips": 2}
    with httpx.Client(base_url=app.url) as client:
        finished = client.post("/api/v1/download", json={"url": media_url(media_files.mp4)})
        failed = client.post(
            "/api/v1/download", json={"url": media_url(media_files.root / "missing.mp4")}
        )
        shorts = client.post(
            "/api/v1/jobs",
            json={"youtube_url": media_url(media_files.big), "options": options},
        )
        ids = [answer.json()["id"] for answer in (finished, failed, shorts)]
        for job_id in ids:
            wait_terminal(app.container, job_id, timeout=90)
        detail = client.get(f"/api/v1/jobs/{ids[2]}").json()
    assert detail["status"] == "completed", detail
    return Studio(app, media_url(media_files.page), ids[2], detail["generated_clips"][0]["clip_id"])


@pytest.fixture(scope="module")
def accounts(served_module: Callable[..., Served]) -> Served:
    app = served_module(auth="users")
    app.container.accounts.create_user("ada", "correct horse battery")
    return app


def open_details(tab: Any) -> None:
    """Open every ``<details>``, so axe sees what they hide."""
    tab.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")


def settle(tab: Any) -> None:
    """Wait until the page's own requests are done and a frame has been painted."""
    tab.wait_for_load_state("networkidle")
    tab.evaluate("() => new Promise((done) => requestAnimationFrame(() => done(null)))")


def test_empty_pages(served: Callable[..., Served], page: Any, axe: Axe) -> None:
    app = served()
    for path, ready in (
        ("/", "#urls"),
        ("/history", "#history-search"),
        ("/shorts", "[data-caption-styles]"),
    ):
        page.goto(app.at(path))
        page.wait_for_selector(ready)
        open_details(page)
        settle(page)
        axe.check(page, f"{path} with no jobs")


def test_download_page_with_a_preview(studio: Studio, page: Any, axe: Axe) -> None:
    page.goto(studio.app.at("/?" + str(httpx.QueryParams({"url": studio.preview_url}))))
    expect(page.locator("[data-preview-title]")).to_be_visible(timeout=30_000)
    expect(page.locator("img[data-thumbnail]")).to_have_js_property("naturalWidth", 320)
    open_details(page)
    settle(page)
    axe.check(page, "the download page with a preview card")


def test_download_page_with_a_playlist_preview(
    studio: Studio, page: Any, axe: Axe, feed_site: FeedSite
) -> None:
    url = feed_site.numbered_feed("a11y", 3)
    page.goto(studio.app.at("/?" + str(httpx.QueryParams({"url": url}))))
    expect(page.locator("[data-entry]")).to_have_count(3, timeout=30_000)
    open_details(page)
    settle(page)
    axe.check(page, "the download page with a playlist's entries")


def test_download_queue_and_history_of_finished_and_failed_jobs(
    studio: Studio, page: Any, axe: Axe
) -> None:
    page.goto(studio.app.at("/"))
    statuses = page.locator("[data-queue] li.job [data-job-status]")
    expect(statuses.filter(has_text="Finished")).to_have_count(1)
    expect(statuses.filter(has_text="Failed")).to_have_count(1)
    open_details(page)
    settle(page)
    axe.check(page, "the download queue")

    page.goto(studio.app.at("/history"))
    expect(page.locator("[data-history] li.job").first).to_be_visible()
    open_details(page)
    settle(page)
    axe.check(page, "history")


def test_shorts_studio_job_page_and_clip_editor(studio: Studio, page: Any, axe: Axe) -> None:
    page.goto(studio.app.at("/shorts"))
    page.wait_for_selector("[data-jobs] li")
    open_details(page)
    settle(page)
    axe.check(page, "the shorts studio")

    page.goto(studio.app.at(f"/shorts/{studio.shorts_job}"))
    page.wait_for_selector(".gallery .clip")
    open_details(page)
    settle(page)
    axe.check(page, "a shorts job with its gallery")

    page.goto(studio.app.at(f"/shorts/{studio.shorts_job}/clips/{studio.clip_id}"))
    page.wait_for_selector("[data-clip-editor][data-ready=true]")
    open_details(page)
    settle(page)
    axe.check(page, "the clip editor")


def test_account_without_accounts_with_a_cookie_file_and_a_webhook(
    studio: Studio, page: Any, axe: Axe
) -> None:
    cookie_line = "127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tvalue\n"
    with httpx.Client(base_url=studio.app.url) as client:
        stored = client.post(
            "/api/v1/auth/cookies",
            files={"file": ("cookies.txt", cookie_line.encode(), "text/plain")},
        )
        assert stored.status_code == 201, stored.text
        hook = client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"})
        assert hook.status_code == 201, hook.text
    page.goto(studio.app.at("/account"))
    expect(page.locator("pre.howto")).to_be_visible()
    expect(page.locator("[data-cookies] tbody tr", has_text="127.0.0.1")).to_be_visible()
    page.locator("[data-webhooks] li.job").get_by_role("button", name="Send test event").click()
    expect(page.locator("[data-webhooks] .deliveries table")).to_be_visible()
    settle(page)
    axe.check(page, "the account page with auth=none, a cookie file and a webhook")


def test_account_signed_out_and_signed_in_with_a_key(accounts: Served, page: Any, axe: Axe) -> None:
    page.goto(accounts.at("/account"))
    page.wait_for_selector("[data-sign-in]")
    settle(page)
    axe.check(page, "the sign-in form")

    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "correct horse battery")
    page.click("[data-sign-in]")
    expect(page.locator("[data-keys]")).to_be_visible()
    page.fill("[data-keys] input[type=text]", "my script")
    page.click("[data-create-key]")
    expect(page.locator("[data-keys] tbody tr", has_text="my script")).to_be_visible()
    settle(page)
    started = time.monotonic()
    axe.check(page, "the account page signed in, with a new API key")
    print(f"axe on one state, both schemes: {time.monotonic() - started:.1f} s")
