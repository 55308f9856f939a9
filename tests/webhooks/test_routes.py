"""The webhook routes: registration, secrets shown once, logs, test events, validation, and
another user's ids answering 404."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from clipmill.accounts.principal import Principal
from clipmill.api.app import create_app
from clipmill.api.deps import get_principal
from clipmill.bootstrap import Container
from clipmill.errors import NotFound
from clipmill.jobs.enums import JobKind
from clipmill.webhooks.schemas import EndpointIn, EndpointPatch
from tests.support.containers import wait_for
from tests.webhooks.conftest import add_user, documented_verify
from tests.webhooks.receiver import Receiver


class Users:
    """Two users of one app; ``act_as`` picks who the next requests come from."""

    def __init__(self, container: Container, client: TestClient) -> None:
        self.container = container
        self.client = client
        self.alice = add_user(container, "alice")
        self.bob = add_user(container, "bob")
        self.current = self.alice
        client.app.dependency_overrides[get_principal] = lambda: self.current  # type: ignore[attr-defined]

    def act_as(self, principal: Principal) -> TestClient:
        self.current = principal
        return self.client


@pytest.fixture
def users(make: Callable[..., Container]) -> Iterator[Users]:
    container = make()
    with TestClient(create_app(container=container)) as client:
        yield Users(container, client)


def test_register_list_read_change_and_delete(users: Users, receiver: Receiver) -> None:
    client = users.act_as(users.alice)
    created = client.post("/api/v1/webhooks", json={"url": receiver.url, "description": "ci"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
    assert body["events"] == ["job.completed", "job.failed", "job.cancelled"]
    assert body["active"] is True and body["description"] == "ci"
    hook = body["id"]

    listed = client.get("/api/v1/webhooks").json()["items"]
    assert [h["id"] for h in listed] == [hook] and "secret" not in listed[0]
    assert "secret" not in client.get(f"/api/v1/webhooks/{hook}").json()

    changed = client.patch(
        f"/api/v1/webhooks/{hook}",
        json={"events": ["job.failed", "job.progress"], "active": False, "description": None},
    ).json()
    assert changed["events"] == ["job.failed", "job.progress"]
    assert changed["active"] is False and changed["description"] is None

    rotated = client.post(f"/api/v1/webhooks/{hook}/rotate-secret").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != body["secret"]

    assert client.delete(f"/api/v1/webhooks/{hook}").status_code == 204
    assert client.get(f"/api/v1/webhooks/{hook}").status_code == 404
    assert client.get("/api/v1/webhooks").json()["items"] == []


def test_test_event_is_delivered_signed_and_logged(users: Users, receiver: Receiver) -> None:
    client = users.act_as(users.alice)
    created = client.post("/api/v1/webhooks", json={"url": receiver.url}).json()
    queued = client.post(f"/api/v1/webhooks/{created['id']}/test")
    assert queued.status_code == 202
    delivery = queued.json()
    assert delivery["event"] == "ping" and delivery["status"] == "pending"
    wait_for(lambda: len(receiver.received()) == 1)
    request = receiver.received()[0]
    assert request.headers["x-clipmill-event"] == "ping"
    assert request.headers["x-clipmill-delivery"] == delivery["id"]
    assert json.loads(request.body)["data"]["webhook"]["id"] == created["id"]
    assert documented_verify()(created["secret"], request.headers, request.body)

    def logged() -> dict[str, object]:
        page = client.get(f"/api/v1/webhooks/{created['id']}/deliveries").json()
        assert page["total"] == 1
        return dict(page["items"][0])

    wait_for(lambda: logged()["status"] == "delivered")
    assert logged()["attempts"] == 1 and logged()["last_status_code"] == 204


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "file:///etc/passwd",
        "https://user:pass@hooks.example.com/x",
        "https://token@hooks.example.com/x",
        "http://[::1/x",
        "http://",
        "hooks.example.com/x",
        " http://127.0.0.1/x",
        "http://127.0.0.1:99999/x",
        "http://127.0.0.1/" + "a" * 2100,
        "javascript:alert(1)",
    ],
)
def test_bad_webhook_urls_are_refused_before_any_job_exists(users: Users, url: str) -> None:
    client = users.act_as(users.alice)
    answer = client.post(
        "/api/v1/download", json={"url": "http://127.0.0.1:9/v.mp4", "webhook_url": url}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] in {"invalid_option", "invalid_url"}
    assert client.get("/api/v1/jobs").json()["total"] == 0
    registered = client.post("/api/v1/webhooks", json={"url": url})
    assert registered.status_code == 422
    assert client.get("/api/v1/webhooks").json()["items"] == []


def test_events_must_be_known_and_ping_is_not_subscribable(
    users: Users, receiver: Receiver
) -> None:
    client = users.act_as(users.alice)
    for events in (["ping"], ["job.exploded"], []):
        answer = client.post("/api/v1/webhooks", json={"url": receiver.url, "events": events})
        assert answer.status_code == 422, events


def test_another_users_webhooks_and_deliveries_are_not_found(
    users: Users, receiver: Receiver
) -> None:
    alice = users.act_as(users.alice)
    hook = alice.post("/api/v1/webhooks", json={"url": receiver.url}).json()["id"]
    job = users.container.jobs.create(
        users.alice, JobKind.DOWNLOAD, {"url": "http://127.0.0.1:9/v"}, webhook_url=receiver.url
    )
    alice_secret = alice.get("/api/v1/webhooks/signing-secret").json()["secret"]

    bob = users.act_as(users.bob)
    assert bob.get("/api/v1/webhooks").json()["items"] == []
    for method, path, body in [
        ("GET", f"/api/v1/webhooks/{hook}", None),
        ("PATCH", f"/api/v1/webhooks/{hook}", {"active": False}),
        ("PATCH", f"/api/v1/webhooks/{hook}", {"url": "ftp://x"}),
        ("DELETE", f"/api/v1/webhooks/{hook}", None),
        ("GET", f"/api/v1/webhooks/{hook}/deliveries", None),
        ("POST", f"/api/v1/webhooks/{hook}/test", None),
        ("POST", f"/api/v1/webhooks/{hook}/rotate-secret", None),
        ("GET", f"/api/v1/jobs/{job.id}/webhook-deliveries", None),
    ]:
        answer = bob.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["error"]["code"] == "not_found"
    assert bob.get("/api/v1/webhooks/signing-secret").json()["secret"] != alice_secret

    service = users.container.webhooks
    with pytest.raises(NotFound):
        service.update_endpoint(users.bob, hook, EndpointPatch(active=False))
    with pytest.raises(NotFound):
        service.delete_endpoint(users.bob, hook)
    assert service.get_endpoint(users.alice, hook).active is True
    mine = service.create_endpoint(users.bob, EndpointIn(url=receiver.url))
    assert [e.id for e in service.list_endpoints(users.alice)] == [hook]
    with pytest.raises(NotFound):
        service.send_test(users.alice, mine.id)
