"""The download page's flows as a user lives them (issue 15, items 3, 4, 7 and 10), in Chromium.

Each test asserts on what the page shows: a playlist's ZIP and items that survive a reload, a
single-file source offering its one quality, choices remembered by this browser, the one-click
paste-bar buttons, and a queue paged 10 at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import Served
from tests.support.containers import wait_terminal
from tests.support.feeds import FeedSite
from tests.support.media_factory import MediaFiles

URL = Callable[[Path], str]
DONE = 60_000  # ms: a real download of small local media, child process included


def _paste(page: Any, url: str) -> None:
    page.fill("#urls", url)
    page.press("#urls", "Enter")
    expect(page.locator("[data-preview]")).to_be_visible(timeout=30_000)


def _first_job(page: Any) -> Any:
    return page.locator("[data-queue] li.job").first


def test_a_finished_playlist_keeps_its_zip_and_items_after_a_reload(
    served: Callable[..., Served], page: Any, feed_site: FeedSite
) -> None:
    """Item 3: the job list the page loads carries the counts the ZIP button needs."""
    app = served()
    url = feed_site.numbered_feed("e2ereload", 4, real_media=True)
    page.goto(app.at("/"))
    _paste(page, url)
    expect(page.locator("[data-entry]")).to_have_count(4)
    page.click("[data-select-none]")
    page.fill("#entry-range", "2,4")
    page.click("[data-apply-range]")
    expect(page.locator("[data-selection-count]")).to_have_text("2 of 4 selected.")
    page.click("[data-download]")
    job = _first_job(page)
    expect(job.locator("[data-job-status]")).to_have_text("Finished", timeout=DONE)
    expect(job.locator("a[data-zip]")).to_have_text("Download ZIP (2 files)", timeout=10_000)
    job_id = job.get_attribute("data-job-id")
    assert job_id

    page.reload()
    again = page.locator(f'[data-queue] li.job[data-job-id="{job_id}"]')
    expect(again.locator("[data-job-status]")).to_have_text("Finished")
    expect(again.locator("a[data-zip]")).to_have_text("Download ZIP (2 files)")
    expect(again.locator("[data-items] summary")).to_have_text("Items (2)")
    again.locator("[data-items] summary").click()
    rows = again.locator("[data-items] ol > li")
    expect(rows).to_have_count(2)
    for row in rows.all():
        expect(row.locator(".badge")).to_have_text("Finished")
    href = again.locator("a[data-zip]").get_attribute("href")
    assert href
    assert httpx.get(href if href.startswith("http") else app.at(href)).status_code == 200


def test_a_single_file_source_offers_its_one_quality_and_the_card_says_what_came(
    served: Callable[..., Served], page: Any, media_files: MediaFiles, media_url: URL
) -> None:
    """Item 4: no chip promises a quality the 640x360 file lacks; asked 480p, the card says so."""
    app = served()
    page.goto(app.at("/"))
    _paste(page, media_url(media_files.mp4))
    chips = page.locator("[data-preview] [data-preset]")
    expect(chips).to_have_count(2)
    assert [c.get_attribute("value") for c in chips.all()] == ["best", "audio"]
    expect(page.locator("[data-preview] label.chip")).to_have_text(["Best", "Audio only"])
    # a direct file lists no height before it is downloaded: the sentence, without one
    expect(page.locator("[data-one-quality]")).to_have_text(
        re.compile(r"^This source offers one quality(: 360p|\.)$")
    )

    # the API still takes a preset the source lacks (an old client, a script): the card tells
    answer = httpx.post(
        app.at("/api/v1/download"), json={"url": media_url(media_files.mp4), "quality": "480p"}
    )
    assert answer.status_code == 202
    job_id = answer.json()["id"]
    wait_terminal(app.container, job_id, timeout=60)
    page.reload()
    card = page.locator(f'[data-queue] li.job[data-job-id="{job_id}"]')
    expect(card.locator("[data-job-status]")).to_have_text("Finished")
    expect(card.locator("[data-delivered]")).to_have_text(
        "Asked 480p; the source offers at most 360p, delivered 640x360."
    )


def test_the_audio_choice_comes_back_after_a_reload(
    served: Callable[..., Served], page: Any, media_files: MediaFiles, media_url: URL
) -> None:
    """Item 7: this browser remembers audio-only MP3 at 128 kbps for the next preview."""
    app = served()
    page.goto(app.at("/"))
    _paste(page, media_url(media_files.mp4))
    page.locator("label.chip", has_text="Audio only").click()
    page.select_option("[data-audio-format]", "mp3")
    page.select_option("[data-audio-bitrate]", "128k")
    page.click("[data-download]")
    expect(_first_job(page).locator("[data-job-status]")).to_have_text("Finished", timeout=DONE)
    stored = page.evaluate("JSON.parse(localStorage.getItem('clipmill.preferences'))")
    assert stored["download"]["quality"] == "audio"

    page.reload()
    _paste(page, media_url(media_files.webm))
    expect(page.locator("[data-preview] input[data-preset=audio]")).to_be_checked()
    expect(page.locator("[data-audio-options]")).to_be_visible()
    expect(page.locator("[data-audio-format]")).to_have_value("mp3")
    expect(page.locator("[data-audio-bitrate]")).to_have_value("128k")


def test_the_one_click_buttons_download_without_a_preview(
    served: Callable[..., Served], page: Any, media_files: MediaFiles, media_url: URL
) -> None:
    """Item 7: "Audio" and "Best video" on the paste bar start the download at once."""
    app = served()
    page.goto(app.at("/"))
    page.fill("#urls", media_url(media_files.webm))
    page.click("[data-quick=audio]")
    job = _first_job(page)
    expect(job.locator("[data-job-status]")).to_have_text("Finished", timeout=DONE)
    expect(job.locator("a[data-file=audio]")).to_be_visible()
    expect(page.locator("[data-preview]")).to_be_hidden()
    expect(page.locator("#urls")).to_have_value("")

    page.fill("#urls", media_url(media_files.mp4))
    page.click("[data-quick=best]")
    expect(page.locator("[data-queue] li.job")).to_have_count(2)
    job = _first_job(page)
    expect(job.locator(".job-title")).to_have_text("sample")
    expect(job.locator("[data-job-status]")).to_have_text("Finished", timeout=DONE)
    expect(job.locator("a[data-file=media]")).to_be_visible()
    expect(page.locator("[data-preview]")).to_be_hidden()


def test_the_queue_shows_ten_jobs_and_show_more_loads_the_rest(
    served: Callable[..., Served], page: Any, feed_site: FeedSite
) -> None:
    """Item 10: a page of the queue is 10 cards; "Show more" brings the older two."""
    app = served()
    ids = []
    with httpx.Client(base_url=app.url) as client:
        for n in range(12):
            answer = client.post("/api/v1/download", json={"url": feed_site.media(f"page-{n}")})
            assert answer.status_code == 202
            ids.append(answer.json()["id"])
    for job_id in ids:
        wait_terminal(app.container, job_id, timeout=120)
    page.goto(app.at("/"))
    cards = page.locator("[data-queue] li.job")
    expect(cards).to_have_count(10)
    expect(page.locator(f'[data-queue] li.job[data-job-id="{ids[-1]}"]')).to_be_visible()
    expect(page.locator(f'[data-queue] li.job[data-job-id="{ids[0]}"]')).to_have_count(0)
    more = page.locator("[data-queue-more]")
    expect(more).to_be_visible()
    expect(more).to_have_text("Show more")
    more.click()
    expect(cards).to_have_count(12)
    expect(page.locator(f'[data-queue] li.job[data-job-id="{ids[0]}"]')).to_be_visible()
    expect(more).to_be_hidden()
    shown = [card.get_attribute("data-job-id") for card in cards.all()]
    assert shown == ids[::-1]  # newest first, each once
