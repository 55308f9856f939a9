"""ZIPs of parent jobs: contents, order and names (read back with ``zipfile``), signed links."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pytest

from clipmill.accounts.principal import LOCAL_USER, Principal
from clipmill.errors import NotFound
from clipmill.jobs.enums import JobStatus
from clipmill.jobs.schemas import FileRecord
from clipmill.playlists.schemas import PlaylistDownloadRequest
from clipmill.playlists.zipstream import member_names
from tests.playlists.conftest import ContainerFactory, FakeDownloads
from tests.support.api import api_client
from tests.support.containers import wait_terminal
from tests.support.feeds import FeedItem, FeedSite


def record(name: str, key: str = "k") -> FileRecord:
    return FileRecord(
        id=key, job_id="j", owner_id="local", role="media", key=key, name=name, size=1,
        content_type="video/mp4", created_at=datetime.now(UTC),
    )  # fmt: skip


def test_member_names_are_ordered_prefixed_safe_and_unique() -> None:
    items = [
        (12, [record("012 - Last.mp4")]),
        (2, [record("../../etc/passwd"), record("Clip.en.srt")]),
        (1, [record("001 - Same.mp4"), record("001 - Same.mp4"), record("001 - SAME.mp4")]),
    ]
    names = [m.name for m in member_names(items)]
    assert names == [
        "001 - Same.mp4", "001 - Same (2).mp4", "001 - SAME (3).mp4",
        "002 - ._._etc_passwd", "002 - Clip.en.srt", "012 - Last.mp4",
    ]  # fmt: skip
    assert all("/" not in n and "\\" not in n and not n.startswith(".") for n in names)


def test_zip_streams_finished_items_in_order_beside_a_failed_one(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    url = feed_site.numbered_feed("zipfake", 5)
    c = parent_container(FakeDownloads(fail=("zipfake-3.",)))
    with api_client(c) as client:
        response = client.post("/api/v1/playlist/download", json={"url": url, "zip": True})
        job_id = response.json()["id"]
        assert wait_terminal(c, job_id).status is JobStatus.COMPLETED
        detail = client.get(f"/api/v1/jobs/{job_id}").json()
        archive = [f for f in detail["files"] if f["role"] == "archive"]
        assert len(archive) == 1 and archive[0]["name"] == "Feed zipfake.zip"

        got = client.get(f"/api/v1/jobs/{job_id}/zip")
        assert got.status_code == 200
        assert got.headers["content-type"] == "application/zip"
        assert int(got.headers["content-length"]) == len(got.content) == archive[0]["size"]
        assert 'filename="Feed zipfake.zip"' in got.headers["content-disposition"]
        with zipfile.ZipFile(io.BytesIO(got.content)) as zf:
            assert zf.testzip() is None
            assert zf.namelist() == [
                "001 - Episode 1.mp4", "002 - Episode 2.mp4",
                "004 - Episode 4.mp4", "005 - Episode 5.mp4",
            ]  # fmt: skip
            assert zf.read("004 - Episode 4.mp4").decode().endswith("/nothing/zipfake-4.mp4\n")

        # the signed link works without the API's auth, and only for ZIPs
        link = archive[0]["url"].split("testserver", 1)[-1]
        assert link.startswith("/files/zip/") and link == detail["zip_url"].split("testserver")[-1]
        assert client.get(link).content == got.content
        assert client.get(link + "x").json()["error"]["code"] == "link_invalid"
        file_token = c.signer.sign(detail["items"][0]["files"][0]["id"])
        assert client.get(f"/files/zip/{file_token}").json()["error"]["code"] == "link_invalid"
        zip_token = link.rsplit("/", 1)[-1]
        assert client.get(f"/files/{zip_token}").status_code == 404


def test_a_parent_without_finished_items_has_nothing_to_zip(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    url = feed_site.numbered_feed("zipnone", 2)
    c = parent_container(FakeDownloads(fail=("zipnone",)))
    with api_client(c) as client:
        job_id = client.post("/api/v1/playlist/download", json={"url": url, "zip": True}).json()[
            "id"
        ]
        assert wait_terminal(c, job_id).status is JobStatus.FAILED
        response = client.get(f"/api/v1/jobs/{job_id}/zip")
        assert (response.status_code, response.json()["error"]["code"]) == (409, "zip_empty")
        assert "zip_url" not in client.get(f"/api/v1/jobs/{job_id}").json()


def test_another_users_parent_cannot_be_zipped(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    c = parent_container(FakeDownloads())
    url = feed_site.numbered_feed("zipowner", 1)
    job = c.parents.start_playlist(LOCAL_USER, PlaylistDownloadRequest(url=url))
    wait_terminal(c, job.id)
    with api_client(c), pytest.raises(NotFound):
        c.archives.plan(Principal(user_id="other", name="other"), job.id)


@pytest.mark.integration
def test_zip_of_real_downloads_with_a_404_item(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    """yt-dlp downloads every enclosure (one is missing); the ZIP holds the three real files."""
    items = [
        FeedItem("Intro: part 1/2", feed_site.media("real-a")),
        FeedItem("Ünïcode ✓", feed_site.media("real-b")),
        FeedItem("Gone", feed_site.url("missing/real-c.mp4")),
        FeedItem("Last", feed_site.media("real-d")),
    ]
    url = feed_site.feed("realzip", items, title="Real Zip")
    c = parent_container(None, max_concurrent_jobs=3)  # the real download pipeline
    tiny = (feed_site.root / "tiny.mp4").read_bytes()
    with api_client(c) as client:
        job_id = client.post("/api/v1/playlist/download", json={"url": url, "zip": True}).json()[
            "id"
        ]
        assert wait_terminal(c, job_id, timeout=120).status is JobStatus.COMPLETED
        detail = client.get(f"/api/v1/jobs/{job_id}").json()
        assert (detail["counts"]["completed"], detail["counts"]["failed"]) == (3, 1)
        gone = next(i for i in detail["items"] if i["index"] == 3)
        assert gone["status"] == "failed" and gone["error"]["code"] == "page_not_found"
        assert gone["files"] == []
        got = client.get(f"/api/v1/jobs/{job_id}/zip")
        with zipfile.ZipFile(io.BytesIO(got.content)) as zf:
            assert zf.namelist() == [
                "001 - Intro_ part 1_2.mp4",
                "002 - Ünïcode ✓.mp4",
                "004 - Last.mp4",
            ]
            for name in zf.namelist():
                assert zf.read(name) == tiny
