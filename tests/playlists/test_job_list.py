"""The job list (``GET /api/v1/jobs``, what the download page and History load) carries what a
parent's card needs: after a reload the card must equal the live one (issue 15, item 3)."""

from __future__ import annotations

from clipmill.jobs.enums import JobStatus
from tests.playlists.conftest import ContainerFactory, FakeDownloads
from tests.support.api import api_client
from tests.support.containers import wait_terminal
from tests.support.feeds import FeedSite

CARD_FIELDS = ("counts", "items_total", "items_url", "zip_url")


def test_the_list_shows_a_finished_playlist_as_its_detail_does(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    url = feed_site.numbered_feed("listed", 3)
    c = parent_container(FakeDownloads(fail=("listed-2.",)))
    with api_client(c) as client:
        job_id = client.post("/api/v1/playlist/download", json={"url": url, "zip": True}).json()[
            "id"
        ]
        assert wait_terminal(c, job_id).status is JobStatus.COMPLETED
        single = client.post("/api/v1/download", json={"url": feed_site.media("single")})
        detail = client.get(f"/api/v1/jobs/{job_id}").json()
        page = client.get("/api/v1/jobs").json()
        listed = {job["id"]: job for job in page["items"]}[job_id]
        for field in CARD_FIELDS:
            assert listed[field] == detail[field], field
        assert listed["counts"]["completed"] == 2 and listed["counts"]["failed"] == 1
        assert listed["items_total"] == 3
        assert [f["role"] for f in listed["files"]] == [f["role"] for f in detail["files"]]
        assert "archive" in [f["role"] for f in listed["files"]]
        download = {job["id"]: job for job in page["items"]}[single.json()["id"]]
        assert download["counts"] is None and download["zip_url"] is None


def test_the_list_takes_several_kinds_and_pages(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    c = parent_container(FakeDownloads())
    with api_client(c) as client:
        ids = [
            client.post("/api/v1/download", json={"url": feed_site.media(f"k{n}")}).json()["id"]
            for n in range(3)
        ]
        parent = client.post(
            "/api/v1/playlist/download", json={"url": feed_site.numbered_feed("kinds", 1)}
        ).json()["id"]
        for job_id in [*ids, parent]:
            wait_terminal(c, job_id)
        both = client.get("/api/v1/jobs", params={"type": "download,playlist", "limit": 3})
        assert both.status_code == 200, both.text
        body = both.json()
        assert (body["total"], body["has_more"], len(body["items"])) == (4, True, 3)
        rest = client.get(
            "/api/v1/jobs", params={"type": "download,playlist", "limit": 3, "offset": 3}
        ).json()
        seen = [j["id"] for j in body["items"]] + [j["id"] for j in rest["items"]]
        assert sorted(seen) == sorted([*ids, parent]) and rest["has_more"] is False
        wrong = client.get("/api/v1/jobs", params={"type": "download,nonsense"})
        assert wrong.status_code == 422
