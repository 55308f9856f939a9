"""Retries with backoff, the give-up, redirects, timeouts, 410, restarts, and the network guard."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from clipmill.accounts.principal import LOCAL_USER
from clipmill.api.app import create_app
from clipmill.bootstrap import Container
from clipmill.clock import FakeClock
from clipmill.jobs.enums import JobKind
from clipmill.media.netguard import NetGuard
from clipmill.webhooks.dispatcher import backoff_delay
from clipmill.webhooks.outbox import Receiver as Target
from clipmill.webhooks.schemas import DeliveryOut, EndpointIn, WebhookEvent
from clipmill.webhooks.sender import WebhookSender
from tests.support.containers import wait_for
from tests.webhooks.conftest import documented_verify
from tests.webhooks.receiver import Behaviour, Receiver, running_receiver


def _job_with_hook(container: Container, url: str) -> str:
    return container.jobs.create(
        LOCAL_USER, JobKind.DOWNLOAD, {"url": "http://127.0.0.1:9/v"}, webhook_url=url
    ).id


def _only_delivery(container: Container, job_id: str) -> DeliveryOut:
    page = container.webhooks.job_deliveries(LOCAL_USER.user_id, job_id)
    assert page.total == 1
    return page.items[0]


def _settled(container: Container, job_id: str) -> DeliveryOut:
    wait_for(lambda: container.webhooks.job_deliveries(LOCAL_USER.user_id, job_id).total == 1)
    wait_for(lambda: _only_delivery(container, job_id).status != "pending")
    return _only_delivery(container, job_id)


def test_a_flaky_receiver_gets_retries_and_the_log_shows_them(
    make: Callable[..., Container],
) -> None:
    with running_receiver(Behaviour(fail_first=2)) as receiver:
        container = make()
        container.start()
        job_id = _job_with_hook(container, receiver.url)
        delivery = _settled(container, job_id)
    assert delivery.status == "delivered"
    assert delivery.attempts == 3 and delivery.last_status_code == 204
    assert delivery.last_error is None and delivery.delivered_at is not None
    requests = receiver.received()
    assert len(requests) == 3
    assert len({r.headers["x-clipmill-delivery"] for r in requests}) == 1  # receivers dedupe
    assert [r.body for r in requests] == [requests[0].body] * 3


def test_a_receiver_that_always_fails_ends_failed_after_max_attempts(
    make: Callable[..., Container],
) -> None:
    with running_receiver(Behaviour(status=503)) as receiver:
        container = make(webhook_max_attempts=4)
        container.start()
        job_id = _job_with_hook(container, receiver.url)
        delivery = _settled(container, job_id)
        time.sleep(0.3)
        assert len(receiver.received()) == 4
    assert delivery.status == "failed" and delivery.attempts == 4
    assert delivery.last_status_code == 503 and delivery.next_attempt_at is None


def test_redirects_are_not_followed(make: Callable[..., Container]) -> None:
    with (
        running_receiver() as elsewhere,
        running_receiver(Behaviour(redirect_to="")) as redirecting,
    ):
        redirecting.behaviour.redirect_to = elsewhere.url
        container = make()
        container.start()
        job_id = _job_with_hook(container, redirecting.url)
        delivery = _settled(container, job_id)
    assert delivery.status == "failed" and delivery.last_status_code == 302
    assert delivery.attempts == 3 and len(redirecting.received()) == 3
    assert elsewhere.received() == []


def test_a_receiver_that_hangs_past_the_timeout_is_retried(
    make: Callable[..., Container],
) -> None:
    with running_receiver(Behaviour(fail_first=1, hang_seconds=2.0)) as receiver:
        container = make(webhook_timeout_seconds=0.3)
        container.start()
        job_id = _job_with_hook(container, receiver.url)
        delivery = _settled(container, job_id)
    assert delivery.status == "delivered" and delivery.attempts == 2


def test_gone_switches_a_registered_endpoint_off(make: Callable[..., Container]) -> None:
    with running_receiver(Behaviour(status=410)) as receiver:
        container = make()
        endpoint = container.webhooks.create_endpoint(LOCAL_USER, EndpointIn(url=receiver.url))
        container.start()
        delivery = container.webhooks.send_test(LOCAL_USER, endpoint.id)
        wait_for(lambda: container.webhooks.delivery(LOCAL_USER, delivery.id).status == "failed")
    assert len(receiver.received()) == 1
    assert container.webhooks.delivery(LOCAL_USER, delivery.id).last_status_code == 410
    assert container.webhooks.get_endpoint(LOCAL_USER, endpoint.id).active is False


def test_deliveries_survive_a_restart_and_are_sent_after_it(
    make: Callable[..., Container],
) -> None:
    with running_receiver(Behaviour(status=500)) as receiver:
        first = make(webhook_backoff_seconds=0.5, webhook_max_attempts=8)
        first.start()
        job_id = _job_with_hook(first, receiver.url)
        wait_for(lambda: len(receiver.received()) >= 1)
        first.stop()
        wait_for(lambda: first.webhooks.dispatcher._threads == [])
        before = len(receiver.received())
        receiver.behaviour.status = 200

        second = make(webhook_backoff_seconds=0.5, webhook_max_attempts=8)
        assert second.webhooks.job_deliveries(LOCAL_USER.user_id, job_id).items[0].status == (
            "pending"
        )
        second.start()
        delivery = _settled(second, job_id)
    assert delivery.status == "delivered" and delivery.attempts == before + 1
    assert delivery.last_status_code == 200
    assert json.loads(receiver.received()[-1].body)["data"]["job"]["id"] == job_id
    secret = second.webhooks.account_secret(LOCAL_USER.user_id)
    assert documented_verify()(
        secret, receiver.received()[-1].headers, receiver.received()[-1].body
    )


def test_next_attempt_follows_the_container_clock(
    make: Callable[..., Container], receiver: Receiver
) -> None:
    clock = FakeClock()
    receiver.behaviour.fail_first = 1
    container = make(clock=clock, webhook_backoff_seconds=60)
    container.start()
    job_id = _job_with_hook(container, receiver.url)
    wait_for(lambda: len(receiver.received()) == 1)
    wait_for(lambda: _only_delivery(container, job_id).last_status_code == 500)
    waiting = _only_delivery(container, job_id)
    assert waiting.status == "pending" and waiting.next_attempt_at is not None
    assert 48 <= (waiting.next_attempt_at - clock.now()).total_seconds() <= 72
    time.sleep(0.2)
    assert len(receiver.received()) == 1  # not due yet on this clock
    clock.advance(73)
    container.webhooks.wake()
    delivery = _settled(container, job_id)
    assert delivery.status == "delivered" and delivery.attempts == 2


def test_backoff_grows_from_the_base_with_jitter() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, 10.0, rng) for n in range(1, 9)]
    for delay, step in zip(delays, (10, 30, 120, 600, 1800, 3600, 3600, 3600), strict=True):
        assert step * 0.8 <= delay <= step * 1.2


def test_the_guard_refuses_a_loopback_receiver_at_once(
    make: Callable[..., Container], receiver: Receiver
) -> None:
    container = make(allow_private_networks=False)
    with TestClient(create_app(container=container)) as client:
        answer = client.post(
            "/api/v1/download",
            json={"url": "https://93.184.215.14/v.mp4", "webhook_url": receiver.url},
        )
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "blocked_address"
        assert client.get("/api/v1/jobs").json()["total"] == 0
        refused = client.post("/api/v1/webhooks", json={"url": receiver.url})
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "blocked_address"

        # a delivery queued before the rules changed (or to a name that now resolves to
        # loopback) is refused when it connects, once, without retries
        queued = container.webhooks.outbox.add(
            "d-1", Target(owner_id="local", url=receiver.url), WebhookEvent.PING, {}
        )
        assert queued is not None
        container.webhooks.wake()
        wait_for(lambda: container.webhooks.delivery(LOCAL_USER, "d-1").status == "failed")
    delivery = container.webhooks.delivery(LOCAL_USER, "d-1")
    assert delivery.attempts == 1 and delivery.last_status_code is None
    assert delivery.last_error is not None and delivery.last_error.startswith("blocked_address")
    assert receiver.received() == []


def test_a_name_resolving_to_loopback_is_refused(
    make: Callable[..., Container], receiver: Receiver
) -> None:
    container = make(allow_private_networks=False)
    url = receiver.url.replace("127.0.0.1", "localhost")
    container.webhooks.outbox.add("d-2", Target(owner_id="local", url=url), WebhookEvent.PING, {})
    container.start()
    wait_for(lambda: container.webhooks.delivery(LOCAL_USER, "d-2").status == "failed")
    delivery = container.webhooks.delivery(LOCAL_USER, "d-2")
    assert delivery.attempts == 1 and (delivery.last_error or "").startswith("blocked_address")
    assert receiver.received() == []


def test_the_connection_itself_is_checked_when_the_name_check_is_fooled(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    """DNS rebinding: the name looked public when checked, the connect goes to loopback."""
    monkeypatch.setattr(NetGuard, "check_url", lambda self, url, resolve=True: url)
    sender = WebhookSender(NetGuard(allow_private=False), timeout=1.0)
    outcome = sender.post(receiver.url, b"{}", {"Content-Type": "application/json"})
    assert not outcome.delivered and outcome.retry is False
    assert (outcome.error or "").startswith("blocked_address")
    assert receiver.received() == []
