"""Rate limits, quotas, metrics access and statistics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clipmill.accounts.principal import LOCAL_USER
from clipmill.jobs.enums import JobKind
from clipmill.pipeline.context import JobContext
from tests.support.api import api_client
from tests.support.containers import Gate, make_container, wait_for, wait_terminal

JOB = {"url": "http://127.0.0.1:9/video"}


def producing(ctx: JobContext) -> None:
    src = ctx.workdir / "out.bin"
    src.write_bytes(b"x" * 5000)
    ctx.save_file(src, role="media", name="clip.mp4", content_type="video/mp4")


def _client(tmp_path: Path, pipeline: Any = producing, **settings: Any) -> Iterator[TestClient]:
    container = make_container(tmp_path, {JobKind.DOWNLOAD: pipeline}, **settings)
    with api_client(container) as client:
        client.container = container  # type: ignore[attr-defined]
        yield client
    container.stop()


def _ratelimit_headers(response: Any) -> dict[str, int]:
    return {
        name: int(response.headers[name])
        for name in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
    }


# -- rate limits -------------------------------------------------------------------------------
def test_requests_over_the_budget_get_429_with_the_headers(tmp_path: Path) -> None:
    for client in _client(tmp_path, rate_limit_requests="5/minute"):
        seen = [client.get("/api/v1/jobs") for _ in range(5)]
        assert all(r.status_code == 200 for r in seen)
        assert [_ratelimit_headers(r)["ratelimit-remaining"] for r in seen] == [4, 3, 2, 1, 0]
        assert all(_ratelimit_headers(r)["ratelimit-limit"] == 5 for r in seen)
        refused = client.get("/api/v1/jobs")
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert _ratelimit_headers(refused)["ratelimit-remaining"] == 0
        # probes and scrapes are never throttled
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/v1/health").status_code in (200, 503)


def test_budgets_are_per_client_address(tmp_path: Path) -> None:
    for client in _client(tmp_path, rate_limit_requests="2/minute"):
        limiter = client.container.limiter  # type: ignore[attr-defined]
        assert limiter.hit(limiter.requests, "requests", "ip:10.0.0.1").allowed
        assert limiter.hit(limiter.requests, "requests", "ip:10.0.0.1").allowed
        assert not limiter.hit(limiter.requests, "requests", "ip:10.0.0.1").allowed
        assert limiter.hit(limiter.requests, "requests", "ip:10.0.0.2").allowed
        assert client.get("/api/v1/jobs").status_code == 200  # testclient's address is its own


def test_login_attempts_have_their_own_small_budget(tmp_path: Path) -> None:
    for client in _client(tmp_path, rate_limit_login="3/minute"):
        codes = [
            client.post("/api/v1/auth/login", json={"username": "a", "password": "b" * 8})
            for _ in range(4)
        ]
        assert [r.status_code == 429 for r in codes] == [False, False, False, True]
        assert "retry-after" in codes[-1].headers
        assert client.get("/api/v1/jobs").status_code == 200  # other requests go on


def test_job_creation_has_its_own_budget_on_every_route(tmp_path: Path) -> None:
    for client in _client(tmp_path, rate_limit_jobs="3/minute"):
        made = [client.post("/api/v1/download", json=JOB) for _ in range(3)]
        assert all(r.status_code in (200, 201, 202) for r in made)
        refused = client.post("/api/v1/download", json=JOB)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        # the shorts route spends the same budget
        shorts = client.post("/api/v1/jobs", json={"youtube_url": JOB["url"]})
        assert shorts.status_code == 429
        assert client.get("/api/v1/jobs").status_code == 200
        assert client.container.jobs.list_jobs(LOCAL_USER).total == 3  # type: ignore[attr-defined]


# -- quotas ------------------------------------------------------------------------------------
def test_a_user_cannot_queue_more_than_the_waiting_quota(tmp_path: Path) -> None:
    gate = Gate()
    for client in _client(tmp_path, gate, quota_queued_jobs=2, max_concurrent_jobs=1):
        first = client.post("/api/v1/download", json=JOB).json()
        wait_for(lambda: len(gate.started) == 1)
        client.post("/api/v1/download", json=JOB)
        client.post("/api/v1/download", json=JOB)  # two waiting now
        refused = client.post("/api/v1/download", json=JOB)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "quota_exceeded"
        assert "waiting" in refused.json()["error"]["message"]
        stats = client.get("/api/v1/stats").json()
        assert stats["quota"]["jobs_waiting"] == 2 and stats["quota"]["max_jobs_waiting"] == 2
        gate.release.set()
        wait_terminal(client.container, first["id"])  # type: ignore[attr-defined]


def test_stored_bytes_over_the_quota_refuse_new_jobs(tmp_path: Path) -> None:
    for client in _client(tmp_path, quota_storage_bytes=4000):
        job = client.post("/api/v1/download", json=JOB).json()
        wait_terminal(client.container, job["id"])  # type: ignore[attr-defined]
        refused = client.post("/api/v1/download", json=JOB)
        assert refused.status_code == 507
        assert refused.json()["error"]["code"] == "storage_quota_exceeded"
        assert client.get("/api/v1/stats").json()["quota"]["bytes_stored"] == 5000


def test_the_running_quota_makes_a_users_jobs_take_turns(tmp_path: Path) -> None:
    gate = Gate()
    for client in _client(tmp_path, gate, quota_concurrent_jobs=1, max_concurrent_jobs=3):
        ids = [client.post("/api/v1/download", json=JOB).json()["id"] for _ in range(3)]
        wait_for(lambda: len(gate.started) == 1)
        gate.release.set()
        for job_id in ids:
            assert wait_terminal(client.container, job_id).status == "completed"  # type: ignore[attr-defined]
        assert gate.max_parallel == 1
        assert sorted(gate.started) == sorted(ids)


# -- metrics and stats ---------------------------------------------------------------------------
@pytest.fixture
def metered(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path, metrics_token="scrape-me")


def test_metrics_name_durations_bytes_and_storage(metered: TestClient) -> None:
    job = metered.post("/api/v1/download", json=JOB).json()
    wait_terminal(metered.container, job["id"])  # type: ignore[attr-defined]
    text = metered.get("/metrics", headers={"authorization": "Bearer scrape-me"}).text
    assert 'clipmill_job_duration_seconds_count{kind="download",status="completed"} 1.0' in text
    assert 'clipmill_job_output_bytes_total{kind="download"} 5000.0' in text
    assert "clipmill_storage_bytes 5000.0" in text
    assert "clipmill_job_queue_wait_seconds_bucket" in text
    alias = metered.get("/api/v1/metrics", headers={"authorization": "Bearer scrape-me"})
    assert alias.status_code == 200 and "clipmill_storage_files 1.0" in alias.text


def test_metrics_need_the_token_or_an_admin(metered: TestClient) -> None:
    wrong = metered.get("/metrics", headers={"authorization": "Bearer scrape-you"})
    if metered.container.settings.auth == "none":  # type: ignore[attr-defined]
        # the local user is the admin: a wrong token changes nothing
        assert wrong.status_code == 200
    else:  # the client's key is an ordinary user's
        assert wrong.status_code in (401, 403)
        assert metered.get("/api/v1/metrics").status_code == 403


def test_stats_count_the_callers_jobs_and_the_service(tmp_path: Path) -> None:
    for client in _client(tmp_path):
        for _ in range(2):
            job = client.post("/api/v1/download", json=JOB).json()
            wait_terminal(client.container, job["id"])  # type: ignore[attr-defined]
        body = client.get("/api/v1/stats").json()
        assert body["user"]["jobs"]["total"] == 2
        assert body["user"]["jobs"]["by_status"] == {"completed": 2}
        assert body["user"]["jobs"]["by_kind"] == {"download": 2}
        assert body["user"]["storage"] == {"files": 2, "bytes": 10000, "expired_files": 0}
        if client.container.settings.auth == "none":  # type: ignore[attr-defined]
            # the local user is the admin and sees the service's figures too
            assert body["service"]["users"] >= 1 and body["service"]["jobs"]["total"] == 2
        else:  # an ordinary user does not
            assert body["service"] is None
