"""Channels through the fake channel site and its test-only yt-dlp extractors."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from clipmill.jobs.enums import JobStatus
from tests.playlists.conftest import ContainerFactory, FakeDownloads
from tests.support.api import api_client
from tests.support.containers import wait_terminal
from tests.support.feeds import FakeVideo, FeedSite
from tests.support.media_server import MediaServer

# listing order is the site's (not by date); the listing shows title and duration only
VIDEOS = [
    FakeVideo("v01", "Bread basics", 300, date(2024, 1, 5), 5000),
    FakeVideo("v02", "Pasta night", 3600, date(2024, 3, 2), 90),
    FakeVideo("v03", "Knife skills", 45, date(2023, 11, 20), 1200),
    FakeVideo("v04", "pasta al forno", 900, date(2024, 2, 14), 700),
    FakeVideo("v05", "Q&A", 1500, date(2024, 2, 1), 300),
    FakeVideo("v06", "Sourdough", 600, date(2023, 12, 24), 8000),
    FakeVideo("v07", "Quick lunch", 120, date(2024, 3, 10), 40),
    FakeVideo("v08", "PASTA shapes", 240, date(2024, 1, 20), 2500),
    FakeVideo("v09", "Stock", 2400, date(2023, 10, 1), 150),
    FakeVideo("v10", "Dessert", 480, date(2024, 2, 28), 650),
    FakeVideo("v11", "Pizza", 720, date(2024, 1, 1), 3300),
    FakeVideo("v12", "Soup", 30, date(2024, 3, 5), 10),
]

CASES: list[tuple[str, dict[str, Any], list[str], list[str]]] = [
    # (case, request fields, expected video ids in item order, filters applied after extraction)
    (
        "date_after",
        {"date_after": "2024-02-14"},
        ["v02", "v04", "v07", "v10", "v12"],
        ["date_after"],
    ),
    ("date_before", {"date_before": "2023-12-24"}, ["v03", "v06", "v09"], ["date_before"]),
    ("min_duration", {"min_duration": 1500}, ["v02", "v05", "v09"], []),
    ("max_duration", {"max_duration": 60}, ["v03", "v12"], []),
    ("min_views", {"min_views": 3300}, ["v01", "v06", "v11"], ["min_views"]),
    ("max_views", {"max_views": 90}, ["v02", "v07", "v12"], ["max_views"]),
    ("title_contains", {"title_contains": "pasta"}, ["v02", "v04", "v08"], []),
    ("newest", {"sort": "newest", "limit": 3}, ["v07", "v12", "v02"], ["sort"]),
    ("oldest", {"sort": "oldest", "limit": 2}, ["v09", "v03"], ["sort"]),
    ("most_viewed", {"sort": "most_viewed", "limit": 3}, ["v06", "v01", "v11"], ["sort"]),
    ("longest", {"sort": "longest", "limit": 2}, ["v02", "v09"], []),
    ("shortest", {"sort": "shortest", "limit": 3}, ["v12", "v03", "v07"], []),
    ("limit", {"limit": 4}, ["v01", "v02", "v03", "v04"], []),
    (
        "combined",
        {"title_contains": "pasta", "min_views": 100, "sort": "newest"},
        ["v04", "v08"],
        ["min_views", "sort"],
    ),
]


@pytest.mark.parametrize(("case", "fields", "expected", "later"), CASES, ids=[c[0] for c in CASES])
def test_channel_filters_and_sorts(
    parent_container: ContainerFactory,
    feed_site: FeedSite,
    feed_server: MediaServer,
    case: str,
    fields: dict[str, Any],
    expected: list[str],
    later: list[str],
) -> None:
    name = f"chan-{case}"
    url = feed_site.channel(name, VIDEOS)
    c = parent_container(FakeDownloads())
    with api_client(c) as client:
        response = client.post("/api/v1/channel/download", json={"url": url, **fields})
        assert response.status_code == 202, response.text
        started = response.json()
        assert started["kind"] == "channel"
        assert started["filters"]["after_extraction"] == later
        assert (started["filters"]["note"] is not None) == bool(later)
        assert wait_terminal(c, started["id"]).status is JobStatus.COMPLETED

        detail = client.get(f"/api/v1/channel/{started['id']}").json()
        got = [i["url"].rsplit("/", 1)[-1].removesuffix(".html") for i in detail["items"]]
        assert got == expected
        assert [i["index"] for i in detail["items"]] == list(range(1, len(expected) + 1))
        assert detail["filters"]["after_extraction"] == later
        assert detail["title"] == f"Channel {name}"
    pages = feed_server.requests_for(f"/{name}/videos/v01.html")
    # per-item extraction happened only when the listing lacked what a filter needs
    assert bool(pages) == bool(later)


def test_channel_info_shows_the_channel_and_its_first_page(
    parent_container: ContainerFactory, feed_site: FeedSite, feed_server: MediaServer
) -> None:
    url = feed_site.channel("chan-info", VIDEOS, title="Cooking With Tests")
    with api_client(parent_container(FakeDownloads())) as client:
        body = client.get("/api/v1/channel/info", params={"url": url, "limit": 5}).json()
    assert (body["name"], body["id"], body["entry_count"]) == (
        "Cooking With Tests",
        "UC-chan-info",
        12,
    )
    assert body["description"] == "The chan-info channel." and body["url"] == url
    assert [e["id"] for e in body["entries"]] == ["v01", "v02", "v03", "v04", "v05"]
    assert body["entries"][0]["duration"] == 300 and body["has_more"] is True
    assert feed_server.requests_for("/chan-info/page-2.json") == []  # one page was enough


def test_a_channel_request_with_bad_bounds_is_refused(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    url = feed_site.channel("chan-bad", VIDEOS[:2])
    with api_client(parent_container(FakeDownloads())) as client:
        response = client.post(
            "/api/v1/channel/download", json={"url": url, "min_views": 10, "max_views": 1}
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_option"
        response = client.post("/api/v1/channel/download", json={"url": url, "sort": "random"})
        assert response.status_code == 422


@pytest.mark.integration
def test_channel_items_download_for_real(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    """Children get the video page; yt-dlp's generic extractor finds its <video> and downloads."""
    url = feed_site.channel("chan-real", VIDEOS[:3])
    c = parent_container(None)
    with api_client(c) as client:
        response = client.post(
            "/api/v1/channel/download", json={"url": url, "sort": "longest", "limit": 2}
        )
        job_id = response.json()["id"]
        assert wait_terminal(c, job_id, timeout=120).status is JobStatus.COMPLETED
        items = client.get(f"/api/v1/jobs/{job_id}/items").json()["items"]
    assert [i["status"] for i in items] == ["completed", "completed"]
    assert [i["files"][0]["name"] for i in items] == [
        "001 - Pasta night.mp4",
        "002 - Bread basics.mp4",
    ]
