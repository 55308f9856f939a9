"""Job endings reach the job's own webhook_url and registered endpoints, signed and verifiable."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from clipmill import __version__
from clipmill.accounts.principal import LOCAL_USER
from clipmill.api.app import create_app
from clipmill.bootstrap import Container
from clipmill.jobs.enums import JobKind
from clipmill.webhooks.schemas import EndpointIn, WebhookEvent
from tests.support.containers import Gate, wait_for, wait_terminal
from tests.webhooks.conftest import documented_verify, failing
from tests.webhooks.receiver import Receiver


def _start_download(client: TestClient, webhook_url: str | None) -> str:
    body: dict[str, object] = {"url": "http://127.0.0.1:9/video.mp4"}
    if webhook_url is not None:
        body["webhook_url"] = webhook_url
    answer = client.post("/api/v1/download", json=body)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def _deliveries(client: TestClient, job_id: str) -> list[dict[str, object]]:
    answer = client.get(f"/api/v1/jobs/{job_id}/webhook-deliveries")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_completed_job_posts_a_signed_event_that_the_documented_snippet_verifies(
    client: TestClient, receiver: Receiver
) -> None:
    job_id = _start_download(client, receiver.url)
    wait_for(lambda: len(receiver.received()) == 1)
    request = receiver.received()[0]
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == f"clipmill-webhooks/{__version__}"
    assert headers["x-clipmill-event"] == "job.completed"
    body = json.loads(request.body)
    assert headers["x-clipmill-delivery"] == body["id"]
    assert body["type"] == "job.completed"
    job = body["data"]["job"]
    assert job["id"] == job_id and job["status"] == "completed" and job["kind"] == "download"
    assert job["progress"] == 100.0 and job["error"] is None and job["finished_at"]
    assert job["files"] == [{"name": "talk.mp4", "size": 1234, "content_type": "video/mp4"}]
    assert set(job) == {"id", "kind", "status", "stage", "progress", "title", "source_url",
                        "error", "created_at", "finished_at", "files"}  # fmt: skip
    assert "url" not in json.dumps(job["files"])  # no signed links

    secret = client.get("/api/v1/webhooks/signing-secret").json()["secret"]
    assert secret.startswith("whsec_")
    verify = documented_verify()
    assert verify(secret, headers, request.body)
    assert not verify(secret, headers, request.body.replace(b"completed", b"completeD"))
    assert not verify(secret, headers, request.body + b" ")
    assert not verify("whsec_other", headers, request.body)
    assert not verify(secret, headers, request.body, now=time.time() + 301)

    wait_for(lambda: _deliveries(client, job_id)[0]["status"] == "delivered")
    [logged] = _deliveries(client, job_id)
    assert logged["attempts"] == 1 and logged["last_status_code"] == 204
    assert logged["id"] == body["id"] and logged["event"] == "job.completed"
    assert logged["delivered_at"] is not None


def test_failed_job_reports_its_error(make: Callable[..., Container], receiver: Receiver) -> None:
    container = make(failing)
    with TestClient(create_app(container=container)) as client:
        job_id = _start_download(client, receiver.url)
        wait_for(lambda: len(receiver.received()) == 1)
    request = receiver.received()[0]
    body = json.loads(request.body)
    assert request.headers["x-clipmill-event"] == "job.failed" == body["type"]
    assert body["data"]["job"]["id"] == job_id
    assert body["data"]["job"]["error"] == {
        "code": "origin_error",
        "message": "The origin answered 404.",
    }


def test_cancelled_job_reports_once_and_a_retried_job_reports_again(
    make: Callable[..., Container], receiver: Receiver, gate: Gate
) -> None:
    container = make(gate)
    with TestClient(create_app(container=container)) as client:
        job_id = _start_download(client, receiver.url)
        wait_for(lambda: job_id in gate.started)
        assert client.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 200
        wait_for(lambda: receiver.events() == ["job.cancelled"])
        # the queue drops a job enqueued while its cancelled run is still unwinding
        wait_for(lambda: job_id not in container.queue.running())
        assert client.post(f"/api/v1/jobs/{job_id}/retry").status_code == 200
        gate.release.set()
        wait_terminal(container, job_id)
        wait_for(lambda: receiver.events() == ["job.cancelled", "job.completed"])
        ids = [r.headers["x-clipmill-delivery"] for r in receiver.received()]
        assert len(set(ids)) == 2
        wait_for(lambda: len(_deliveries(client, job_id)) == 2)
        assert [d["event"] for d in _deliveries(client, job_id)] == [
            "job.completed",
            "job.cancelled",
        ]  # newest first


def test_a_job_without_webhook_url_sends_nothing_of_its_own(
    client: TestClient, receiver: Receiver
) -> None:
    job_id = _start_download(client, None)
    wait_terminal(client.container, job_id)  # type: ignore[attr-defined]
    time.sleep(0.2)
    assert receiver.received() == [] and _deliveries(client, job_id) == []


def test_registered_endpoints_get_the_events_they_asked_for_signed_with_their_secret(
    make: Callable[..., Container], receiver: Receiver, gate: Gate
) -> None:
    container = make(gate)
    service = container.webhooks
    every = service.create_endpoint(LOCAL_USER, EndpointIn(url=receiver.url + "/every"))
    only_done = service.create_endpoint(
        LOCAL_USER, EndpointIn(url=receiver.url + "/done", events=[WebhookEvent.JOB_COMPLETED])
    )
    with TestClient(create_app(container=container)) as client:
        cancelled = _start_download(client, None)
        wait_for(lambda: cancelled in gate.started)
        client.post(f"/api/v1/jobs/{cancelled}/cancel")
        wait_for(lambda: len(receiver.received()) == 1)
        gate.release.set()
        done = _start_download(client, None)
        wait_terminal(container, done)
        wait_for(lambda: len(receiver.received()) == 3)
    by_path = sorted((r.path, r.headers["x-clipmill-event"]) for r in receiver.received())
    assert by_path == [
        ("/hook/done", "job.completed"),
        ("/hook/every", "job.cancelled"),
        ("/hook/every", "job.completed"),
    ]
    verify = documented_verify()
    for request in receiver.received():
        secret = every.secret if request.path.endswith("every") else only_done.secret
        assert verify(secret, request.headers, request.body)
        assert not verify(service.account_secret(LOCAL_USER.user_id), request.headers, request.body)
    log = service.endpoint_deliveries(LOCAL_USER, every.id)
    assert log.total == 2 and {d.status for d in log.items} == {"delivered"}


def test_progress_milestones_go_to_endpoints_that_ask_for_them(
    make: Callable[..., Container], receiver: Receiver
) -> None:
    container = make()
    container.webhooks.create_endpoint(
        LOCAL_USER,
        EndpointIn(
            url=receiver.url,
            events=[WebhookEvent.JOB_PROGRESS, WebhookEvent.JOB_COMPLETED],
        ),
    )
    with TestClient(create_app(container=container)) as client:
        _start_download(client, None)
        wait_for(lambda: len(receiver.received()) == 4)
    bodies = sorted(
        (json.loads(r.body) for r in receiver.received()),
        key=lambda b: b["data"]["job"]["progress"],
    )
    assert [(b["type"], b["data"]["job"]["progress"]) for b in bodies] == [
        ("job.progress", 25.0),
        ("job.progress", 50.0),
        ("job.progress", 75.0),
        ("job.completed", 100.0),
    ]


def test_playlist_items_do_not_report_their_parent_does(
    make: Callable[..., Container], receiver: Receiver
) -> None:
    container = make()
    container.webhooks.create_endpoint(LOCAL_USER, EndpointIn(url=receiver.url))
    with TestClient(create_app(container=container)):
        parent = container.lifecycle.create(LOCAL_USER.user_id, JobKind.BATCH, {}, enqueue=False)
        child = container.lifecycle.create_child(
            parent,
            JobKind.DOWNLOAD,
            {"url": "http://127.0.0.1:9/v", "webhook_url": receiver.url},
            item_index=1,
        )
        wait_terminal(container, child.id)
        time.sleep(0.3)
    assert receiver.received() == []
