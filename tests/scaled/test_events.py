"""Live events cross processes: a job run by a worker process reaches every API instance's
WebSocket clients and listeners through Redis."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from clipmill.events.bus import JobEventMessage
from tests.scaled.conftest import Cluster, wait_until
from tests.support.media_factory import MediaFiles
from tests.support.media_server import MediaServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_api_instances_see_the_events_of_a_job_a_worker_runs(
    cluster: Cluster, media_server: MediaServer, media_files: MediaFiles
) -> None:
    first, second = cluster.api(), cluster.api()
    heard: list[JobEventMessage] = []
    lock = threading.Lock()

    def hear(message: JobEventMessage) -> None:
        with lock:
            heard.append(message)

    second.app.state.container.bus.add_listener(hear)  # type: ignore[attr-defined]
    cluster.start_workers(1)
    url = media_server.slow_url(media_files.rel(media_files.mp4), 400_000)
    response = second.post("/api/v1/download", json={"url": url})  # sent by instance 2
    job_id = response.json()["id"]
    envelopes: list[dict[str, Any]] = []
    with first.websocket_connect(f"/ws/{job_id}") as ws:  # watched on instance 1
        while True:
            envelope = ws.receive_json()
            envelopes.append(envelope)
            if envelope["type"] in ("job_completed", "job_failed"):
                break
    assert envelopes[0]["type"] == "initial_status"
    assert envelopes[-1]["type"] == "job_completed", envelopes[-1]
    stages = {e["data"]["stage"] for e in envelopes[1:]}
    assert "downloading" in stages, stages  # published by the worker, not by an API process
    assert any(e["data"].get("event") == "progress" for e in envelopes)
    wait_until(
        lambda: any(m.job_id == job_id and m.status == "completed" for m in heard),
        10,
        "the completion at instance 2's listeners",
    )
    with lock:
        processing = [m for m in heard if m.job_id == job_id and m.status == "processing"]
    assert processing, "instance 2 heard the worker's events too"
