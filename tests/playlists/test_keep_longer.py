"""Keep longer on a parent keeps its items' files too, and the parent's card says when they go."""

from __future__ import annotations

from datetime import datetime, timedelta

from clipmill.clock import FakeClock
from clipmill.jobs.enums import JobStatus
from tests.playlists.conftest import ContainerFactory, FakeDownloads
from tests.support.api import api_client
from tests.support.containers import wait_terminal
from tests.support.feeds import FeedSite

DAY = 86400.0


def test_keep_longer_on_a_playlist_keeps_every_items_files(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    clock = FakeClock()
    c = parent_container(FakeDownloads(), clock=clock)
    url = feed_site.numbered_feed("keepme", 3)
    with api_client(c) as client:
        job_id = client.post("/api/v1/playlist/download", json={"url": url}).json()["id"]
        assert wait_terminal(c, job_id).status is JobStatus.COMPLETED
        detail = client.get(f"/api/v1/jobs/{job_id}").json()
        first = datetime.fromisoformat(detail["retention"]["expires_at"])
        assert detail["retention"]["files_kept"] == 3  # the items' files
        listed = next(j for j in client.get("/api/v1/jobs").json()["items"] if j["id"] == job_id)
        assert listed["retention"]["expires_at"] == detail["retention"]["expires_at"]

        kept = client.post(f"/api/v1/jobs/{job_id}/keep", json={"days": 10}).json()
        assert datetime.fromisoformat(kept["retention"]["expires_at"]) - first >= timedelta(days=10)
        clock.advance(8 * DAY)  # past the week's retention, within the kept days
        assert c.sweeper.sweep() == 0
        items = client.get(f"/api/v1/jobs/{job_id}/items").json()["items"]
        assert all(i["files"][0]["url"] and not i["files"][0]["expired"] for i in items)
        assert client.get(items[0]["files"][0]["url"]).status_code == 200

        clock.advance(10 * DAY)
        assert c.sweeper.sweep() == 3
        gone = client.get(f"/api/v1/jobs/{job_id}").json()
        assert gone["retention"]["expires_at"] is None and gone["retention"]["deleted_at"]
        assert all(i["files"][0]["url"] is None for i in gone["items"])
