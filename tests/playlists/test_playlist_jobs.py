"""Playlist jobs end to end over the API: preview, selection, cancel, retry, restart, limits.

Listings are real (yt-dlp's generic extractor reading RSS from the local server, or the gated
test extractor); downloads are ``FakeDownloads`` so these tests stay fast.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clipmill.accounts.principal import LOCAL_USER
from clipmill.bootstrap import Container
from clipmill.jobs.enums import JobStatus
from clipmill.playlists.schemas import PlaylistDownloadRequest
from tests.playlists.conftest import ContainerFactory, FakeDownloads
from tests.support.api import api_client
from tests.support.containers import wait_for, wait_terminal
from tests.support.feeds import FeedSite, GatedListIE


def start(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/playlist/download", json=body)
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def items_of(client: TestClient, job_id: str) -> list[dict[str, Any]]:
    return client.get(f"/api/v1/jobs/{job_id}/items", params={"limit": 500}).json()["items"]  # type: ignore[no-any-return]


def test_preview_pages_through_a_feed(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    url = feed_site.numbered_feed("preview25", 25)
    with api_client(parent_container(FakeDownloads())) as client:
        page = client.get(
            "/api/v1/playlist/preview", params={"url": url, "limit": 10, "offset": 10}
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert (body["title"], body["entry_count"], body["has_more"]) == (
            "Feed preview25",
            25,
            True,
        )
        assert [e["index"] for e in body["entries"]] == list(range(11, 21))
        assert body["entries"][0]["title"] == "Episode 11"
        assert body["entries"][0]["url"].endswith("/nothing/preview25-11.mp4")

        last = client.get(
            "/api/v1/playlist/preview", params={"url": url, "limit": 10, "offset": 20}
        )
        assert [e["index"] for e in last.json()["entries"]] == [21, 22, 23, 24, 25]
        assert last.json()["has_more"] is False

        single = client.get("/api/v1/playlist/preview", params={"url": feed_site.media("single")})
        assert single.status_code == 422
        assert single.json()["error"]["code"] == "not_a_playlist"


def test_items_select_with_ranges_and_negative_indexes(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    fake = FakeDownloads()
    url = feed_site.numbered_feed("select12", 12)
    with api_client(parent_container(fake)) as client:
        job = start(client, url=url, items="1-3,7,-2:")
        assert job["kind"] == "playlist" and job["status"] == "queued"
        wait_terminal(client.app.state.container, job["id"])  # type: ignore[attr-defined]
        detail = client.get(f"/api/v1/jobs/{job['id']}").json()
        assert detail["status"] == "completed" and detail["title"] == "Feed select12"
        assert detail["counts"]["total"] == detail["counts"]["completed"] == 6
        items = detail["items"]
        assert [i["index"] for i in items] == [1, 2, 3, 7, 11, 12]
        assert [i["files"][0]["name"] for i in items][:2] == [
            "001 - Episode 1.mp4",
            "002 - Episode 2.mp4",
        ]
        assert items[-1]["files"][0]["name"] == "012 - Episode 12.mp4"
        assert sorted(fake.runs) == sorted(i["url"] for i in items)
        child = client.get(f"/api/v1/jobs/{items[3]['id']}").json()
        assert (child["kind"], child["parent_id"], child["item_index"]) == (
            "download",
            job["id"],
            7,
        )
        assert detail["progress"]["percent"] == 100.0

        bad = client.post("/api/v1/playlist/download", json={"url": url, "items": "1,,2"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_option"


def test_an_empty_selection_fails_the_parent(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    url = feed_site.numbered_feed("three", 3)
    with api_client(parent_container(FakeDownloads())) as client:
        job = start(client, url=url, items="10-20")
        done = wait_terminal(client.app.state.container, job["id"])  # type: ignore[attr-defined]
        assert (done.status, done.error_code) == (JobStatus.FAILED, "no_items")


def test_cancel_stops_every_item_and_retry_reruns_only_those(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    hold = threading.Event()
    fake = FakeDownloads(hold=hold)
    url = feed_site.numbered_feed("cancel6", 6)
    c = parent_container(fake, max_concurrent_jobs=2)
    with api_client(c) as client:
        job = start(client, url=url)
        wait_for(
            lambda: len(fake.runs) == 2 and c.jobs.child_counts(LOCAL_USER, job["id"]).total == 6
        )
        cancelled = client.delete(f"/api/v1/playlist/{job['id']}").json()
        assert cancelled["status"] == "cancelled"
        wait_for(lambda: c.jobs.child_counts(LOCAL_USER, job["id"]).cancelled == 6)
        assert {i["status"] for i in items_of(client, job["id"])} == {"cancelled"}

        hold.set()
        retried = client.post(f"/api/v1/jobs/{job['id']}/retry")
        assert retried.status_code == 200, retried.text
        done = wait_terminal(c, job["id"])
        assert done.status is JobStatus.COMPLETED
        counts = c.jobs.child_counts(LOCAL_USER, job["id"])
        assert (counts.total, counts.completed) == (6, 6)  # no item was created twice


def test_retry_of_a_completed_parent_reruns_only_failed_items(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    fake = FakeDownloads(fail=("flaky4-2.",))
    url = feed_site.numbered_feed("flaky4", 4)
    c = parent_container(fake)
    with api_client(c) as client:
        job = start(client, url=url)
        assert wait_terminal(c, job["id"]).status is JobStatus.COMPLETED  # 3 of 4 is completed
        detail = client.get(f"/api/v1/jobs/{job['id']}").json()
        assert (detail["counts"]["completed"], detail["counts"]["failed"]) == (3, 1)
        failed = [i for i in detail["items"] if i["status"] == "failed"]
        assert failed[0]["index"] == 2 and failed[0]["error"]["code"] == "origin_error"

        fake.fail = ()
        client.post(f"/api/v1/jobs/{job['id']}/retry")
        wait_for(lambda: c.jobs.child_counts(LOCAL_USER, job["id"]).completed == 4)
        assert [u.rsplit("/", 1)[-1] for u in fake.runs].count("flaky4-2.mp4") == 2
        assert len(fake.runs) == 5  # the three good items never ran again
        assert c.lifecycle.load(job["id"]).status is JobStatus.COMPLETED


def test_a_parent_fails_only_when_nothing_succeeded(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    url = feed_site.numbered_feed("allbad", 3)
    c = parent_container(FakeDownloads(fail=("allbad",)))
    job = c.parents.start_playlist(LOCAL_USER, PlaylistDownloadRequest(url=url))
    done = wait_terminal(c, job.id)
    assert (done.status, done.error_code) == (JobStatus.FAILED, "all_items_failed")
    assert done.result is not None and done.result["counts"]["failed"] == 3


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch, feed_site: FeedSite) -> type[GatedListIE]:
    monkeypatch.setattr(GatedListIE, "release", threading.Event())
    monkeypatch.setattr(GatedListIE, "block_after", 3)
    monkeypatch.setattr(GatedListIE, "media_base", feed_site.url("nothing/"))
    return GatedListIE


def test_cancel_during_expansion_creates_no_more_items(
    parent_container: ContainerFactory, feed_site: FeedSite, gated: type[GatedListIE]
) -> None:
    hold = threading.Event()
    c = parent_container(FakeDownloads(hold=hold), max_concurrent_jobs=3)
    job = c.parents.start_playlist(
        LOCAL_USER, PlaylistDownloadRequest(url=feed_site.url("gated/8"))
    )
    wait_for(lambda: c.jobs.child_counts(LOCAL_USER, job.id).total == 3)
    c.jobs.cancel(LOCAL_USER, job.id)
    gated.release.set()
    hold.set()
    wait_for(lambda: not c.queue.running())
    counts = c.jobs.child_counts(LOCAL_USER, job.id)
    assert (counts.total, counts.cancelled) == (3, 3)
    assert c.lifecycle.load(job.id).status is JobStatus.CANCELLED


def test_restart_mid_playlist_resumes_without_downloading_finished_items(
    parent_container: ContainerFactory,
    feed_site: FeedSite,
    gated: type[GatedListIE],
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "shared"
    first = FakeDownloads()
    c1 = parent_container(first, data_dir=data_dir)
    job = c1.parents.start_playlist(
        LOCAL_USER, PlaylistDownloadRequest(url=feed_site.url("gated/8"))
    )
    wait_for(lambda: c1.jobs.child_counts(LOCAL_USER, job.id).completed == 3)
    # the worker pool stops while the listing is paused after item 3 (mid-expansion): the
    # pool's shutdown signal (not a user's cancel) reaches the parent, then the listing resumes
    stopping = threading.Thread(target=c1.stop)
    stopping.start()
    wait_for(lambda: c1.runner.cancel_token(job.id).shutting_down)
    gated.release.set()
    stopping.join(30)
    assert not stopping.is_alive()
    assert c1.lifecycle.load(job.id).status is JobStatus.PROCESSING

    second = FakeDownloads()
    c2: Container = parent_container(second, data_dir=data_dir)
    done = wait_terminal(c2, job.id)
    assert done.status is JobStatus.COMPLETED
    children = c2.jobs.list_jobs(LOCAL_USER, parent_id=job.id, limit=100).items
    assert [child.item_index for child in children] == list(range(1, 9))
    assert sorted(u.rsplit("/", 1)[-1] for u in second.runs) == [
        f"gated-{n}.mp4" for n in range(4, 9)
    ]
    assert len(first.runs) == 3


def test_a_300_entry_feed_never_runs_more_than_the_concurrency_limit(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    fake = FakeDownloads(delay=0.002)
    c = parent_container(fake, max_concurrent_jobs=3)
    url = feed_site.numbered_feed("big300", 300)
    seen: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen.append(len(c.queue.running()))
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        job = c.parents.start_playlist(LOCAL_USER, PlaylistDownloadRequest(url=url))
        done = wait_terminal(c, job.id, timeout=120)
    finally:
        stop.set()
        sampler.join()
    assert done.status is JobStatus.COMPLETED
    assert c.jobs.child_counts(LOCAL_USER, job.id).completed == 300
    assert max(seen) <= 3 and fake.max_parallel <= 3
    assert fake.max_parallel >= 2  # the limit was reached, not just respected by accident


def test_a_bounded_selection_reads_only_the_pages_it_needs(
    parent_container: ContainerFactory, feed_site: FeedSite, gated: type[GatedListIE]
) -> None:
    """`1-3` of a lazily listed playlist stops listing after item 3 (the gate never opens)."""
    c = parent_container(FakeDownloads())
    job = c.parents.start_playlist(
        LOCAL_USER, PlaylistDownloadRequest(url=feed_site.url("gated/50"), items="1-3")
    )
    done = wait_terminal(c, job.id, timeout=20)
    assert done.status is JobStatus.COMPLETED and not gated.release.is_set()
    assert c.jobs.child_counts(LOCAL_USER, job.id).total == 3


def test_a_single_download_is_not_stuck_behind_a_long_playlist(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    from clipmill.media.options import DownloadOptions

    hold = threading.Event()
    fake = FakeDownloads(hold=hold)
    c = parent_container(fake, max_concurrent_jobs=1)
    url = feed_site.numbered_feed("fair20", 20)
    parent = c.parents.start_playlist(LOCAL_USER, PlaylistDownloadRequest(url=url))
    wait_for(lambda: len(fake.runs) == 1)  # the parent has listed all; item 1 runs, 19 wait
    single_url = feed_site.base_url + "/single.mp4"
    single = c.downloads.start(LOCAL_USER, single_url, DownloadOptions())
    hold.set()
    wait_terminal(c, single.id)
    wait_terminal(c, parent.id, 60)
    assert fake.runs.index(single_url) == 1  # right after the item that was already running
