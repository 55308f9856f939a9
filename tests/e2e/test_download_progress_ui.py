"""A download's card while it runs: the stage in words, never a work file's name (issue 15, 9)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Served
from tests.support.media_factory import MediaFiles
from tests.support.media_server import MediaServer

DONE = 60_000  # ms

# every text the card's status line ever shows, as it changes (no polling gaps)
RECORD_TEXTS = """
window.__progressTexts = [];
new MutationObserver(() => {
  for (const el of document.querySelectorAll("[data-progress-text]")) {
    const text = el.textContent;
    if (text && window.__progressTexts[window.__progressTexts.length - 1] !== text) {
      window.__progressTexts.push(text);
    }
  }
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


def _slow_page(media_files: MediaFiles, media_server: MediaServer) -> str:
    """A page that takes seconds to arrive (as a slow site's does) with a fast video in it."""
    name = "slow-page.html"
    video = media_server.url(media_files.rel(media_files.mp4))
    (media_files.root / name).write_text(
        "<!DOCTYPE html><html><head><title>Slow Page</title>"
        f'<meta property="og:video" content="{video}"></head>'
        f'<body><video src="{video}"></video></body></html>'
    )
    return media_server.slow_url(name, 150)


def test_the_card_says_it_reads_the_page_and_never_shows_a_part_file(
    served: Callable[..., Served],
    page: Any,
    media_files: MediaFiles,
    media_server: MediaServer,
    tmp_path: Path,
) -> None:
    app = served()
    page.add_init_script(RECORD_TEXTS)
    page.goto(app.at("/"))
    page.fill("#urls", _slow_page(media_files, media_server))
    page.press("#urls", "Enter")
    expect(page.locator("[data-preview]")).to_be_visible(timeout=30_000)
    page.click("[data-download]")
    job = page.locator("[data-queue] li.job").first
    # while yt-dlp reads the slow page, the card names the stage instead of sitting at 0 %
    expect(job.locator("[data-progress-text]")).to_contain_text("Reading the page…")
    expect(job.locator("[data-job-status]")).to_have_text("Finished", timeout=DONE)
    texts: list[str] = page.evaluate("window.__progressTexts")
    assert any("Reading the page…" in t for t in texts), texts
    for text in texts:
        assert ".part" not in text and "media." not in text and "Postprocessing" not in text, texts


def test_the_paste_bar_completes_a_link_without_https(
    served: Callable[..., Served], page: Any, expected_failures: list[str]
) -> None:
    expected_failures.append("/api/v1/metadata")  # the name does not resolve offline
    app = served()
    page.goto(app.at("/"))
    page.fill("#urls", "www.example.org/video")
    with page.expect_request(lambda r: "/api/v1/metadata?" in r.url) as asked:
        page.press("#urls", "Enter")
    assert "url=https%3A%2F%2Fwww.example.org%2Fvideo" in asked.value.url
    expect(page.locator("[data-preview-status]")).not_to_contain_text("doesn't look like a link")
