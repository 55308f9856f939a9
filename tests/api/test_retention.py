"""Retention as a user meets it: each file says when it goes, "keep longer" moves that (up to
the operator's maximum), the sweeper honours it, and a deleted file says so instead of linking.

Time is a `FakeClock` the tests move; nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clipmill.accounts.principal import LOCAL_USER
from clipmill.clock import FakeClock
from clipmill.config import Settings
from clipmill.jobs.enums import JobKind
from clipmill.pipeline.context import JobContext
from tests.support.api import api_client
from tests.support.containers import make_container, wait_terminal

DAY = 86400.0


def producing(ctx: JobContext) -> None:
    src = ctx.workdir / "out.bin"
    src.write_bytes(b"x" * 1000)
    ctx.save_file(src, role="media", name="clip.mp4", content_type="video/mp4")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    container = make_container(tmp_path, {JobKind.DOWNLOAD: producing}, clock=clock)
    with api_client(container) as c:
        c.container = container  # type: ignore[attr-defined]
        yield c
    container.stop()


def _finished(client: TestClient) -> dict[str, Any]:
    container = client.container  # type: ignore[attr-defined]
    job_id = container.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {"url": "http://x"}).id
    wait_terminal(container, job_id)
    body: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
    return body


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_the_default_retention_is_days_and_keep_longer_has_a_maximum() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.retention_seconds == 7 * DAY
    assert settings.retention_max_seconds == 30 * DAY
    assert settings.link_ttl_seconds is None  # links live as long as their files


def test_every_file_and_the_job_say_when_the_files_go(client: TestClient) -> None:
    job = _finished(client)
    (file,) = job["files"]
    created = _at(job["created_at"])
    week = timedelta(days=7)
    assert abs(_at(file["expires_at"]) - (created + week)) < timedelta(minutes=1)
    assert file["deleted_at"] is None and file["url"]
    retention = job["retention"]
    assert retention["expires_at"] == file["expires_at"] and retention["deleted_at"] is None
    assert _at(retention["keep_limit"]) == created + timedelta(days=30)
    assert retention["can_keep_longer"] is True
    listed = client.get("/api/v1/jobs").json()["items"][0]
    assert listed["files"][0]["expires_at"] == file["expires_at"]
    assert listed["retention"]["expires_at"] == file["expires_at"]


def test_keep_longer_moves_the_date_and_stops_at_the_maximum(client: TestClient) -> None:
    job = _finished(client)
    before = _at(job["files"][0]["expires_at"])
    kept = client.post(f"/api/v1/jobs/{job['id']}/keep", json={"days": 3})
    assert kept.status_code == 200, kept.text
    after = _at(kept.json()["files"][0]["expires_at"])
    assert after - before == timedelta(days=3)
    assert kept.json()["retention"]["expires_at"] == kept.json()["files"][0]["expires_at"]

    again = client.post(f"/api/v1/jobs/{job['id']}/keep")  # no body: one retention period more
    assert _at(again.json()["retention"]["expires_at"]) - after == timedelta(days=7)

    limit = _at(job["retention"]["keep_limit"])
    capped = client.post(f"/api/v1/jobs/{job['id']}/keep", json={"days": 365}).json()
    assert _at(capped["files"][0]["expires_at"]) == limit
    assert capped["retention"]["can_keep_longer"] is False
    refused = client.post(f"/api/v1/jobs/{job['id']}/keep", json={"days": 1})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "keep_limit"


def test_keep_until_a_date_and_bad_requests(client: TestClient) -> None:
    job = _finished(client)
    until = _at(job["files"][0]["expires_at"]) + timedelta(days=2)
    kept = client.post(f"/api/v1/jobs/{job['id']}/keep", json={"until": until.isoformat()})
    assert _at(kept.json()["files"][0]["expires_at"]) == until
    earlier = client.post(
        f"/api/v1/jobs/{job['id']}/keep", json={"until": (until - timedelta(days=1)).isoformat()}
    )
    assert earlier.status_code == 422 and earlier.json()["error"]["code"] == "invalid_option"
    both = client.post(
        f"/api/v1/jobs/{job['id']}/keep", json={"days": 1, "until": until.isoformat()}
    )
    assert both.status_code == 422
    assert client.post(f"/api/v1/jobs/{job['id']}/keep", json={"days": -1}).status_code == 422


def test_keep_longer_on_an_unknown_job_is_404(client: TestClient) -> None:
    resp = client.post("/api/v1/jobs/00000000-0000-0000-0000-000000000000/keep")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"


def test_the_sweeper_honours_keep_longer(client: TestClient, clock: FakeClock) -> None:
    container = client.container  # type: ignore[attr-defined]
    kept, plain = _finished(client), _finished(client)
    client.post(f"/api/v1/jobs/{kept['id']}/keep", json={"days": 5})
    clock.advance(8 * DAY)  # past the week of retention, within the kept job's twelve days
    assert container.sweeper.sweep() == 1
    assert client.get(f"/api/v1/jobs/{plain['id']}").json()["files"][0]["expired"] is True
    still = client.get(f"/api/v1/jobs/{kept['id']}").json()
    assert still["files"][0]["expired"] is False and still["files"][0]["url"]
    assert client.get(still["files"][0]["url"]).status_code == 200  # a link days old works
    clock.advance(5 * DAY)
    assert container.sweeper.sweep() == 1


def test_after_the_sweep_the_job_says_deleted_and_links_nothing(
    client: TestClient, clock: FakeClock
) -> None:
    container = client.container  # type: ignore[attr-defined]
    job = _finished(client)
    old_link = job["files"][0]["url"]
    clock.advance(8 * DAY)
    container.sweeper.sweep()
    gone = client.get(f"/api/v1/jobs/{job['id']}").json()
    (file,) = gone["files"]
    assert file["expired"] is True and file["url"] is None and file["expires_at"] is None
    assert file["deleted_at"] is not None
    assert gone["retention"]["expires_at"] is None
    assert gone["retention"]["deleted_at"] == file["deleted_at"]
    assert gone["retention"]["can_keep_longer"] is False
    resp = client.get(old_link)
    assert resp.status_code == 410 and resp.json()["error"]["code"] == "file_expired"
    late = client.post(f"/api/v1/jobs/{job['id']}/keep")
    assert late.status_code == 410 and late.json()["error"]["code"] == "file_expired"


def test_an_operator_without_a_maximum_lets_files_be_kept_for_years(
    tmp_path: Path, clock: FakeClock
) -> None:
    container = make_container(
        tmp_path, {JobKind.DOWNLOAD: producing}, clock=clock, retention_max_seconds=0
    )
    with api_client(container) as c:
        c.container = container  # type: ignore[attr-defined]
        job = _finished(c)
        assert job["retention"]["keep_limit"] is None
        kept = c.post(f"/api/v1/jobs/{job['id']}/keep", json={"days": 3650}).json()
        assert _at(kept["retention"]["expires_at"]) - _at(job["retention"]["expires_at"]) == (
            timedelta(days=3650)
        )
        assert kept["retention"]["can_keep_longer"] is True
    container.stop()
