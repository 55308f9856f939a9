"""Batches: many URLs as one job, with duplicates removed and bad URLs reported one by one."""

from __future__ import annotations

import threading

from clipmill.accounts.principal import LOCAL_USER
from clipmill.jobs.enums import JobStatus
from tests.playlists.conftest import ContainerFactory, FakeDownloads
from tests.support.api import api_client
from tests.support.containers import wait_for, wait_terminal
from tests.support.feeds import FeedSite

INVALID = [
    ("not a url", "invalid_url"),
    ("ftp://example.com/clip.mp4", "invalid_url"),
    ("", "invalid_url"),
    ("http://", "invalid_url"),
    ("javascript:alert(1)", "invalid_url"),
    ("http://exa mple.com/x.mp4", "invalid_url"),
    ("file:///etc/passwd", "invalid_url"),
]


def test_a_batch_of_50_with_duplicates_and_invalid_urls(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    good = [feed_site.url(f"nothing/batch-{n}.mp4") for n in range(1, 36)]
    duplicates = [
        good[0], good[1], good[2] + "#t=10", good[3].replace("http://", "HTTP://"),
        good[4], good[5], " " + good[6] + " ", good[0],
    ]  # fmt: skip
    urls = good[:10] + duplicates[:4] + [u for u, _ in INVALID] + good[10:] + duplicates[4:]
    assert len(urls) == 50
    fake = FakeDownloads()
    c = parent_container(fake, max_concurrent_jobs=3)
    with api_client(c) as client:
        response = client.post("/api/v1/batch/download", json={"urls": urls, "quality": "720p"})
        assert response.status_code == 202, response.text
        batch = response.json()
        assert (batch["kind"], batch["title"]) == ("batch", "Batch of 35 URLs")
        assert (batch["accepted"], batch["duplicates_removed"]) == (35, 8)
        rejected = {r["url"]: r["error"]["code"] for r in batch["rejected"]}
        assert rejected == {u.strip(): code for u, code in INVALID}
        assert [r["position"] for r in batch["rejected"]] == list(range(15, 22))

        assert wait_terminal(c, batch["id"], timeout=60).status is JobStatus.COMPLETED
        shown = client.get(f"/api/v1/batch/{batch['id']}").json()
        assert shown["counts"]["completed"] == shown["items_total"] == 35
        assert [i["url"] for i in shown["items"]] == good
        assert [i["index"] for i in shown["items"]] == list(range(1, 36))
        assert shown["items"][0]["files"][0]["name"] == "001 - batch-1.mp4"
        assert len(shown["rejected"]) == 7  # still reported after the job ran
        assert shown["options"]["download"]["quality"] == "720p"
        assert sorted(fake.runs) == sorted(good)


def test_delete_cancels_a_batch(parent_container: ContainerFactory, feed_site: FeedSite) -> None:
    hold = threading.Event()
    c = parent_container(FakeDownloads(hold=hold))
    urls = [feed_site.url(f"nothing/cancel-batch-{n}.mp4") for n in range(5)]
    with api_client(c) as client:
        batch = client.post("/api/v1/batch/download", json={"urls": urls}).json()
        wait_for(lambda: c.jobs.child_counts(LOCAL_USER, batch["id"]).total == 5)
        cancelled = client.delete(f"/api/v1/batch/{batch['id']}").json()
        assert cancelled["status"] == "cancelled"
        hold.set()
        wait_for(lambda: c.jobs.child_counts(LOCAL_USER, batch["id"]).cancelled == 5)
        assert client.get(f"/api/v1/playlist/{batch['id']}").status_code == 404  # wrong kind


def test_batch_limits(parent_container: ContainerFactory, feed_site: FeedSite) -> None:
    c = parent_container(FakeDownloads(), max_batch=5)
    with api_client(c) as client:
        six = [feed_site.url(f"nothing/limit-{n}.mp4") for n in range(6)]
        too_many = client.post("/api/v1/batch/download", json={"urls": six})
        assert too_many.status_code == 422
        assert too_many.json()["error"]["code"] == "invalid_option"
        five_and_a_repeat = client.post("/api/v1/batch/download", json={"urls": [*six[:5], six[0]]})
        assert five_and_a_repeat.status_code == 202  # duplicates do not count
        assert client.post("/api/v1/batch/download", json={"urls": []}).status_code == 422

        all_bad = client.post("/api/v1/batch/download", json={"urls": ["nope", "ftp://x/y"]})
        assert all_bad.status_code == 422
        error = all_bad.json()["error"]
        assert error["code"] == "invalid_url" and len(error["details"]["rejected"]) == 2


def test_blocked_addresses_are_rejected_per_url(
    parent_container: ContainerFactory, feed_site: FeedSite
) -> None:
    c = parent_container(FakeDownloads(hold=threading.Event()), allow_private_networks=False)
    with api_client(c) as client:
        urls = ["http://93.184.216.34/clip.mp4", feed_site.url("nothing/private.mp4")]
        batch = client.post("/api/v1/batch/download", json={"urls": urls}).json()
        assert batch["accepted"] == 1
        assert [r["error"]["code"] for r in batch["rejected"]] == ["blocked_address"]
        client.delete(f"/api/v1/batch/{batch['id']}")
