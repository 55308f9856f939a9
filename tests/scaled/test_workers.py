"""Worker processes die and Redis restarts; every job still ends once, and a job that kills its
worker every time is given up on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clipmill.accounts.principal import LOCAL_USER
from clipmill.jobs.enums import JobKind
from tests.scaled.conftest import Cluster, wait_until
from tests.support.media_factory import MediaFiles
from tests.support.media_server import MediaServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TERMINAL = ("completed", "failed", "cancelled")


def submit(api: TestClient, url: str) -> str:
    response = api.post("/api/v1/download", json={"url": url})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def job(api: TestClient, job_id: str) -> dict[str, Any]:
    return dict(api.get(f"/api/v1/jobs/{job_id}").json())


def wait_all_finished(cluster: Cluster, api: TestClient, ids: list[str]) -> list[dict[str, Any]]:
    try:
        wait_until(lambda: all(job(api, j)["status"] in TERMINAL for j in ids), 90, "all ended")
    except AssertionError:
        raise AssertionError(cluster.logs()) from None
    return [job(api, j) for j in ids]


def completions(api: TestClient, job_id: str) -> int:
    events = api.app.state.container.jobs.events(LOCAL_USER, job_id)  # type: ignore[attr-defined]
    return sum(1 for e in events if e.status == "completed" and e.type == "status")


def test_workers_killed_mid_job_lose_nothing_and_duplicate_nothing(
    cluster: Cluster, media_server: MediaServer, media_files: MediaFiles
) -> None:
    api = cluster.api()
    cluster.start_workers(2)
    ids = [submit(api, media_server.slow_url(media_files.rel(media_files.mp4), 200_000))
           for _ in range(3)]  # fmt: skip
    killed = 0
    for n in range(3):  # three SIGKILLs, each while a job runs
        target = ids[n]
        wait_until(
            lambda t=target: (
                (  # type: ignore[misc]
                    job(api, t)["status"] == "processing" and cluster.worker_of(t) is not None
                )
                or job(api, t)["status"] in TERMINAL
            ),
            60,
            "a running job",
        )
        worker = cluster.worker_of(target)
        if worker is not None:
            worker.kill()
            killed += 1
    assert killed >= 2, "the downloads ended before the kills"
    finished = wait_all_finished(cluster, api, ids)
    assert [j["status"] for j in finished] == ["completed"] * 3, finished
    for record in finished:
        media = [f for f in record["files"] if f["role"] == "media"]
        assert len(media) == 1, record["files"]
        got = api.get(media[0]["url"])
        assert got.status_code == 200 and got.content == media_files.mp4.read_bytes()
        assert completions(api, record["id"]) == 1
    stored = [p for p in (cluster.data_dir / "files").rglob("*") if p.is_file()]
    assert len(stored) == 3, stored  # no second copy of any download
    assert sum(j["attempts"] for j in finished) == 3 + killed


def test_redis_restart_while_jobs_run(
    cluster: Cluster, media_server: MediaServer, media_files: MediaFiles
) -> None:
    api = cluster.api()
    cluster.start_workers(2)
    seen: list[str] = []
    api.app.state.container.bus.add_listener(  # type: ignore[attr-defined]
        lambda m: seen.append(f"{m.job_id}:{m.status}")
    )
    slow = media_server.slow_url(media_files.rel(media_files.mp4), 150_000)
    ids = [submit(api, slow) for _ in range(2)]
    wait_until(lambda: all(job(api, j)["status"] == "processing" for j in ids), 60, "running")
    cluster.redis.restart(down_for=1.0)
    finished = wait_all_finished(cluster, api, ids)
    assert [j["status"] for j in finished] == ["completed"] * 2, finished
    # after the restart, the API sends and the workers take new work, and events flow again
    after = submit(api, media_server.url(media_files.rel(media_files.mp4)))
    (done,) = wait_all_finished(cluster, api, [after])
    assert done["status"] == "completed"
    wait_until(lambda: f"{after}:completed" in seen, 10, "the worker's event at the API")


def test_a_job_that_kills_its_worker_every_time_fails_too_many_attempts(
    cluster: Cluster, tmp_path: Path
) -> None:
    api = cluster.api()
    cluster.worker_module = "tests.scaled.suicidal_worker"
    cluster.start_workers(2)
    container = api.app.state.container  # type: ignore[attr-defined]
    record = container.jobs.create(
        LOCAL_USER, JobKind.DOWNLOAD, {}, source_url="http://127.0.0.1:9/suicide/a.mp4"
    )
    (ended,) = wait_all_finished(cluster, api, [record.id])
    assert ended["status"] == "failed" and ended["error"]["code"] == "too_many_attempts", ended
    assert ended["attempts"] == 3


def test_cancel_reaches_queued_and_running_jobs_in_workers(
    cluster: Cluster, media_server: MediaServer, media_files: MediaFiles
) -> None:
    api = cluster.api()
    cluster.start_workers(1)  # one slot: the second job waits in Redis
    slow = media_server.slow_url(media_files.rel(media_files.mp4), 30_000)
    running, waiting = submit(api, slow), submit(api, slow)
    wait_until(lambda: job(api, running)["status"] == "processing", 60, "the first job runs")
    assert job(api, waiting)["status"] == "queued"
    metrics = api.get("/metrics").text
    assert "clipmill_jobs_queued 1.0" in metrics and "clipmill_jobs_running 1.0" in metrics
    for job_id in (waiting, running):
        assert api.post(f"/api/v1/jobs/{job_id}/cancel").status_code in (200, 202)
    wait_until(lambda: job(api, running)["status"] == "cancelled", 10, "the running job stopped")
    wait_until(lambda: cluster.worker_of(running) is None, 10, "its worker let go")
    # the worker is free again: a new job runs at once; the cancelled ones never ran again
    after = submit(api, media_server.url(media_files.rel(media_files.mp4)))
    (done,) = wait_all_finished(cluster, api, [after])
    assert done["status"] == "completed"
    assert job(api, waiting)["status"] == "cancelled" and job(api, waiting)["attempts"] == 0
    assert job(api, running)["attempts"] == 1
