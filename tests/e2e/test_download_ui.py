"""The download page, queue and history in Chromium, against real downloads of local media."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from clipmill.media.ffmpeg import probe_file
from tests.e2e.conftest import Served, screenshot
from tests.support.containers import wait_terminal
from tests.support.feeds import FeedSite
from tests.support.media_factory import MediaFiles

URL = Callable[[Path], str]
DONE = 60_000  # ms: a real download of small local media, child process included


def _paste(page: Any, url: str) -> None:
    page.fill("#urls", url)
    page.press("#urls", "Enter")
    expect(page.locator("[data-preview]")).to_be_visible(timeout=30_000)


def _finished_file(page: Any, role: str = "media") -> str:
    job = page.locator("[data-queue] li.job").first
    expect(job.locator("[data-job-status]")).to_have_text("Finished", timeout=DONE)
    href = job.locator(f'a[data-file="{role}"]').first.get_attribute("href")
    assert href
    return str(href)


def test_paste_preview_pick_360p_and_the_file_is_served(
    served: Callable[..., Served], page: Any, media_files: MediaFiles, media_url: URL,
    tmp_path: Path,
) -> None:  # fmt: skip
    app = served()
    page.goto(app.at("/"))
    _paste(page, media_url(media_files.hls_master))
    expect(page.locator("[data-preview-title]")).to_have_text("master")
    page.locator("label.chip", has_text="360p").click()
    page.click("[data-download]")
    href = _finished_file(page)
    screenshot(page, "download-queue")

    answer = httpx.get(href)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("video/")
    assert len(answer.content) > 0
    saved = tmp_path / "got.mp4"
    saved.write_bytes(answer.content)
    video = probe_file(saved).video
    assert video is not None and video.height == 360


def test_the_preview_card_shows_the_thumbnail_through_this_server(
    served: Callable[..., Served], page: Any, media_files: MediaFiles, media_url: URL
) -> None:
    app = served()
    page.goto(app.at("/?" + httpx.QueryParams({"url": media_url(media_files.page)}).__str__()))
    expect(page.locator("[data-preview-title]")).to_have_text(media_files.page_title + " (1)")
    thumb = page.locator("img[data-thumbnail]")
    assert (thumb.get_attribute("src") or "").startswith("/api/v1/thumbnail?url=")
    expect(thumb).to_have_js_property("naturalWidth", 320)  # loaded: thumb.jpg is 320x180
    expect(page.locator("[data-preview] input[data-sub-lang='en']")).to_be_visible()
    screenshot(page, "download-desktop")


def test_on_a_phone_the_preview_fits_the_screen(
    served: Callable[..., Served], phone: Any, media_files: MediaFiles, media_url: URL
) -> None:
    app = served()
    phone.goto(app.at("/?" + str(httpx.QueryParams({"url": media_url(media_files.page)}))))
    expect(phone.locator("[data-preview-title]")).to_be_visible()
    expect(phone.locator("img[data-thumbnail]")).to_have_js_property("naturalWidth", 320)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    box = phone.locator("[data-download]").bounding_box()
    assert box is not None and box["height"] >= 44
    screenshot(phone, "download-phone")


def test_audio_only_gives_an_mp3(
    served: Callable[..., Served], page: Any, media_files: MediaFiles, media_url: URL
) -> None:
    app = served()
    page.goto(app.at("/"))
    _paste(page, media_url(media_files.mp4))
    page.locator("label.chip", has_text="Audio only").click()
    page.select_option("[data-audio-format]", "mp3")
    page.select_option("[data-audio-bitrate]", "128k")
    page.click("[data-download]")
    href = _finished_file(page, "audio")
    answer = httpx.get(href)
    assert answer.status_code == 200 and answer.headers["content-type"] == "audio/mpeg"
    assert "mp3" in answer.headers["content-disposition"] and len(answer.content) > 1000


def test_two_picked_playlist_entries_come_as_a_zip_of_those_two(
    served: Callable[..., Served], page: Any, feed_site: FeedSite
) -> None:
    app = served()
    url = feed_site.numbered_feed("e2epick", 5, real_media=True)
    page.goto(app.at("/"))
    _paste(page, url)
    expect(page.locator("[data-entry]")).to_have_count(5)
    page.click("[data-select-none]")
    expect(page.locator("[data-selection-count]")).to_have_text("0 of 5 selected.")
    page.fill("#entry-range", "2,4")
    page.click("[data-apply-range]")
    expect(page.locator("[data-selection-count]")).to_have_text("2 of 5 selected.")
    page.click("[data-download]")
    job = page.locator("[data-queue] li.job").first
    expect(job.locator("[data-job-status]")).to_have_text("Finished", timeout=DONE)
    href = job.locator("a[data-zip]").get_attribute("href")
    assert href
    archive = httpx.get(href if href.startswith("http") else app.at(href))
    assert archive.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert len(names) == 2 and [n[:3] for n in sorted(names)] == ["002", "004"], names


def test_a_running_download_can_be_cancelled(
    served: Callable[..., Served], page: Any, media_files: MediaFiles,
    throttled_url: Callable[..., str],
) -> None:  # fmt: skip
    app = served()
    page.goto(app.at("/"))
    _paste(page, throttled_url(media_files.big, 40_000))
    page.click("[data-download]")
    job = page.locator("[data-queue] li.job").first
    expect(job.locator("[data-job-status]")).to_have_text("Running", timeout=20_000)
    job.locator("[data-action=cancel]").click()
    expect(job.locator("[data-job-status]")).to_have_text("Cancelled")
    expect(job.locator("[data-action=retry]")).to_be_visible()


def test_without_websockets_progress_still_shows_by_polling(
    served: Callable[..., Served], page: Any, media_files: MediaFiles,
    throttled_url: Callable[..., str],
) -> None:  # fmt: skip
    app = served()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.add_init_script("window.CLIPMILL_NO_WEBSOCKET = true")
    page.goto(app.at("/"))
    _paste(page, throttled_url(media_files.big, 400_000))
    page.click("[data-download]")
    job = page.locator("[data-queue] li.job").first
    bar = job.locator("[role=progressbar]")
    expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^[1-9]\d*$"), timeout=DONE)
    expect(job.locator("[data-progress-text]")).to_contain_text("%")
    expect(job.locator("[data-job-status]")).to_have_text("Finished", timeout=DONE)
    assert not sockets


def test_an_origin_error_reads_as_a_sentence(
    served: Callable[..., Served], page: Any, media_url: URL, media_files: MediaFiles,
    expected_failures: list[str],
) -> None:  # fmt: skip
    expected_failures.append("/api/v1/metadata")  # the link's 404, as this test means
    app = served()
    page.goto(app.at("/"))
    page.fill("#urls", media_url(media_files.root / "missing.mp4"))
    page.click("[data-preview-button]")
    expect(page.locator("[data-preview-status]")).to_have_text(  # a 404: page_not_found
        "The site says there is no such page. Check the link, or the video may have been removed."
    )
    page.fill("#urls", "not a link")
    page.press("#urls", "Enter")
    expect(page.locator("[data-preview-status]")).to_contain_text("doesn't look like a link")


def test_history_is_searchable_and_keeps_this_browsers_jobs(
    served: Callable[..., Served], page: Any, media_files: MediaFiles, media_url: URL
) -> None:
    app = served()
    ids = []
    with httpx.Client(base_url=app.url) as client:
        for path in (media_files.mp4, media_files.webm):
            answer = client.post("/api/v1/download", json={"url": media_url(path)})
            assert answer.status_code == 202
            ids.append(answer.json()["id"])
        for job_id in ids:
            wait_terminal(app.container, job_id, timeout=60)
    page.goto(app.at("/history"))
    expect(page.locator("[data-history] li.job")).to_have_count(2)
    page.fill("#history-search", "webm")
    expect(page.locator("[data-history] li.job")).to_have_count(1)
    expect(page.locator("[data-history] li.job .job-url")).to_contain_text("sample.webm")
    page.fill("#history-search", "")
    expect(page.locator("[data-history] li.job")).to_have_count(2)
    for job in page.locator("[data-history] li.job").all():
        expect(job.locator("[data-job-status]")).to_have_text("Finished")
        expect(job.locator("a[data-file=media]")).to_be_visible()
    # this browser started only the first (as the download page remembers it)
    page.evaluate(f"localStorage.setItem('clipmill.jobs', JSON.stringify(['{ids[0]}']))")
    page.check("[data-local-only]")
    expect(page.locator("[data-history] li.job")).to_have_count(1)
    expect(page.locator(f'[data-history] li.job[data-job-id="{ids[0]}"]')).to_be_visible()
    page.uncheck("[data-local-only]")
    expect(page.locator("[data-history] li.job")).to_have_count(2)
    screenshot(page, "history")
