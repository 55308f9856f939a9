"""The API over fake pipelines: live events, the error envelope, signed links, retention."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clipmill.accounts.principal import LOCAL_USER
from clipmill.clock import FakeClock
from clipmill.jobs.enums import JobKind, JobStage
from clipmill.pipeline.context import JobContext
from tests.support.api import api_client
from tests.support.containers import Gate, make_container, wait_for, wait_terminal

PAYLOAD = bytes(range(256)) * 40  # 10240 bytes


def producing(ctx: JobContext) -> None:
    ctx.stage(JobStage.DOWNLOADING, "Downloading.")
    for pct in (25.0, 50.0, 75.0):
        ctx.progress(pct, speed=1000.0, force=True)
    ctx.stage(JobStage.FINALIZING, "Storing files.")
    src = ctx.workdir / "out.bin"
    src.write_bytes(PAYLOAD)
    ctx.save_file(src, role="media", name='Ünïcode "title".mp4', content_type="video/mp4")


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(tmp_path: Path, gate: Gate, clock: FakeClock):  # type: ignore[no-untyped-def]
    pipelines = {JobKind.DOWNLOAD: producing, JobKind.SHORTS: gate}
    container = make_container(
        tmp_path, pipelines, clock=clock, link_ttl_seconds=2, metrics_token="scrape"
    )
    with api_client(container) as c:
        c.container = container  # type: ignore[attr-defined]
        yield c
    container.stop()


def _job(client: TestClient, kind: JobKind = JobKind.DOWNLOAD) -> str:
    return client.container.jobs.create(LOCAL_USER, kind, {"url": "http://x"}).id  # type: ignore[attr-defined]


def test_websocket_sends_initial_status_then_updates_then_completed(
    client: TestClient, gate: Gate
) -> None:
    job_id = _job(client, JobKind.SHORTS)
    wait_for(lambda: job_id in gate.started)
    with client.websocket_connect(f"/ws/{job_id}") as ws:
        first = ws.receive_json()
        assert first["type"] == "initial_status"
        assert first["data"]["job_id"] == job_id and first["data"]["status"] == "processing"
        gate.release.set()
        envelopes = []
        while True:
            env = ws.receive_json()
            envelopes.append(env)
            if env["type"] == "job_completed":
                break
    assert envelopes[-1]["data"]["status"] == "completed"
    assert envelopes[-1]["data"]["progress"] == 100.0
    assert {"job_id", "status", "stage", "progress", "message", "timestamp"} <= set(
        envelopes[-1]["data"]
    )


def test_websocket_for_unknown_job_says_not_found(client: TestClient) -> None:
    with client.websocket_connect("/ws/nope") as ws:
        env = ws.receive_json()
    assert env["type"] == "error" and env["error"]["code"] == "not_found"


def test_sse_replays_the_same_envelopes(client: TestClient) -> None:
    job_id = _job(client)
    wait_terminal(client.container, job_id)  # type: ignore[attr-defined]
    with client.stream("GET", f"/api/v1/jobs/{job_id}/events") as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        body = "".join(resp.iter_text())
    events = [line[len("event: ") :] for line in body.splitlines() if line.startswith("event: ")]
    datas = [
        json.loads(line[len("data: ") :]) for line in body.splitlines() if line.startswith("data: ")
    ]
    assert events == ["initial_status"] and datas[0]["data"]["status"] == "completed"


def test_sse_streams_live_stages_in_order(client: TestClient) -> None:
    import threading

    release = threading.Event()

    def staged(ctx: JobContext) -> None:
        release.wait(10)
        for stage in (JobStage.DOWNLOADING, JobStage.POSTPROCESSING, JobStage.FINALIZING):
            ctx.stage(stage, stage.value)
            ctx.progress(50.0, force=True)

    client.container.runner.pipelines[JobKind.TRANSCRIBE] = staged  # type: ignore[attr-defined]
    job_id = _job(client, JobKind.TRANSCRIBE)
    wait_for(lambda: client.container.lifecycle.load(job_id).status.value == "processing")  # type: ignore[attr-defined]
    threading.Timer(0.5, release.set).start()  # after the stream is open
    with client.stream("GET", f"/api/v1/jobs/{job_id}/events") as resp:
        envelopes = [
            json.loads(line[6:]) for line in resp.iter_lines() if line.startswith("data: ")
        ]
    assert envelopes[0]["type"] == "initial_status"
    assert envelopes[0]["data"]["status"] == "processing"
    stages = [e["data"]["stage"] for e in envelopes if e["data"].get("event") == "stage"]
    assert stages == ["downloading", "postprocessing", "finalizing"]
    assert envelopes[-1]["type"] == "job_completed" and envelopes[-1]["data"]["progress"] == 100.0


def test_error_envelope_for_unknown_job_and_bad_query(client: TestClient) -> None:
    resp = client.get("/api/v1/jobs/does-not-exist")
    assert resp.status_code == 404
    assert resp.json() == {
        "error": {
            "code": "not_found",
            "message": "No job does-not-exist.",
            "details": {"resource": "job"},
        }
    }
    resp = client.get("/api/v1/jobs", params={"limit": 0})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_option"
    assert resp.json()["error"]["fields"][0]["field"] == "limit"
    resp = client.get("/api/v1/jobs", params={"type": "nonsense"})
    assert resp.status_code == 422 and "nonsense" in resp.json()["error"]["message"]
    assert client.get("/no/such/route").json()["error"]["code"] == "not_found"


def test_cancel_twice_is_a_conflict(client: TestClient, gate: Gate) -> None:
    job_id = _job(client, JobKind.SHORTS)
    assert (
        client.post(f"/api/v1/jobs/{job_id}/cancel", json={"reason": "changed my mind"}).json()[
            "status"
        ]
        == "cancelled"
    )
    resp = client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "invalid_transition"


def test_signed_link_serves_ranges_type_and_utf8_name(client: TestClient) -> None:
    job_id = _job(client)
    wait_terminal(client.container, job_id)  # type: ignore[attr-defined]
    job = client.get(f"/api/v1/jobs/{job_id}").json()
    (file,) = job["files"]
    assert file["size"] == len(PAYLOAD) and file["name"] == 'Ünïcode "title".mp4'
    resp = client.get(file["url"])
    assert resp.status_code == 200 and resp.content == PAYLOAD
    assert resp.headers["content-type"] == "video/mp4"
    assert resp.headers["content-disposition"] == (
        'attachment; filename="Unicode _title_.mp4"; '
        "filename*=UTF-8''%C3%9Cn%C3%AFcode%20%22title%22.mp4"
    )
    part = client.get(file["url"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == PAYLOAD[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(PAYLOAD)}"


def test_tampered_and_expired_links_are_403(client: TestClient, clock: FakeClock) -> None:
    job_id = _job(client)
    wait_terminal(client.container, job_id)  # type: ignore[attr-defined]
    url = client.get(f"/api/v1/jobs/{job_id}").json()["files"][0]["url"]
    token = url.rsplit("/", 1)[1]
    tampered = url[: -len(token)] + token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    resp = client.get(tampered)
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "link_invalid"
    assert client.get(url).status_code == 200
    clock.advance(3)  # the test container's links live 2 s
    resp = client.get(url)
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "link_expired"


def test_retention_deletes_files_but_keeps_the_job(client: TestClient, clock: FakeClock) -> None:
    container = client.container  # type: ignore[attr-defined]
    job_id = _job(client)
    wait_terminal(container, job_id)
    assert container.sweeper.sweep() == 0  # not yet
    clock.advance(container.settings.retention_seconds + 600)  # the clock started before the file
    assert container.sweeper.sweep() == 1
    job = client.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "completed"
    assert job["files"][0]["expired"] is True and job["files"][0]["url"] is None
    fresh = container.signer.sign(job["files"][0]["id"])  # a link still within its lifetime
    resp = client.get(f"/files/{fresh}")
    assert resp.status_code == 410 and resp.json()["error"]["code"] == "file_expired"
    assert not any((container.settings.files_dir / job_id).iterdir())


def test_health_reports_database_and_workers(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    body = client.get("/api/v1/health").json()
    assert body["checks"]["database"]["ok"] and body["checks"]["workers"]["ok"]
    assert client.get("/api/openapi.json").json()["info"]["title"] == "clipmill"


def test_metrics_count_finished_jobs(client: TestClient) -> None:
    job_id = _job(client)
    wait_terminal(client.container, job_id)  # type: ignore[attr-defined]
    text = client.get("/metrics", headers={"authorization": "Bearer scrape"}).text
    assert 'clipmill_jobs_finished_total{status="completed"} 1.0' in text
    assert "clipmill_jobs_running" in text


def test_api_docs_work_without_internet(client: TestClient) -> None:
    html = client.get("/api/docs").text
    assert "/api/docs/static/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    js = client.get("/api/docs/static/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert client.get("/api/docs/static/swagger-ui.css").status_code == 200
