"""API keys (create, list, revoke, expiry, last use) and tickets for the live routes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clipmill.accounts.principal import Principal
from clipmill.jobs.enums import JobKind
from tests.accounts.conftest import AuthApp, bearer, refused_socket


def _principal(app: AuthApp, headers: dict[str, str]) -> Principal:
    me = app.client.get("/api/v1/auth/me", headers=headers).json()
    return app.container.accounts.principal_for(me["id"])


def test_key_is_shown_once_listed_without_secret_and_works_both_ways(users_app: AuthApp) -> None:
    headers = users_app.user("ann")
    c = users_app.client
    created = c.post("/api/v1/auth/keys", headers=headers, json={"name": "laptop"})
    assert created.status_code == 201, created.text
    key, record = created.json()["key"], created.json()["record"]
    assert key.startswith("cm_") and record["prefix"] == key[:10] and record["name"] == "laptop"
    listed = c.get("/api/v1/auth/keys", headers=headers)
    assert [k["id"] for k in listed.json()["keys"]] == [record["id"]]
    assert key not in listed.text
    for creds in ({"X-API-Key": key}, bearer(key)):
        assert c.get("/api/v1/auth/me", headers=creds).json()["name"] == "ann"


def test_revoked_key_is_refused_at_once(users_app: AuthApp) -> None:
    headers = users_app.user("ben")
    c = users_app.client
    created = c.post("/api/v1/auth/keys", headers=headers, json={"name": "k"}).json()
    key, key_id = created["key"], created["record"]["id"]
    revoked = c.delete(f"/api/v1/auth/keys/{key_id}", headers={"X-API-Key": key})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    refused = c.get("/api/v1/jobs", headers={"X-API-Key": key})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "api_key_revoked"


def test_another_users_key_is_not_found(users_app: AuthApp) -> None:
    ann, bob = users_app.user("ann"), users_app.user("bob")
    c = users_app.client
    key_id = c.post("/api/v1/auth/keys", headers=ann, json={"name": "k"}).json()["record"]["id"]
    assert c.delete(f"/api/v1/auth/keys/{key_id}", headers=bob).status_code == 404
    assert c.get("/api/v1/auth/keys", headers=bob).json()["keys"] == []
    assert c.get("/api/v1/auth/keys", headers=ann).json()["keys"][0]["revoked_at"] is None


def test_key_expires_with_the_clock(users_app: AuthApp) -> None:
    headers = users_app.user("cat")
    c = users_app.client
    key = c.post(
        "/api/v1/auth/keys", headers=headers, json={"name": "k", "expires_in_days": 1}
    ).json()["key"]
    assert c.get("/api/v1/jobs", headers={"X-API-Key": key}).status_code == 200
    users_app.clock.advance(86400 + 1)
    refused = c.get("/api/v1/jobs", headers={"X-API-Key": key})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "api_key_expired"


def test_last_used_is_written_at_most_once_a_minute(users_app: AuthApp) -> None:
    headers = users_app.user("dan")
    accounts = users_app.container.accounts
    record, key = accounts.create_key(_principal(users_app, headers), "k")
    c = users_app.client

    def last_used() -> object:
        return accounts.list_keys(_principal(users_app, headers))[0].last_used_at

    assert record.last_used_at is None
    c.get("/api/v1/jobs", headers={"X-API-Key": key})
    first = last_used()
    assert first is not None
    users_app.clock.advance(30)
    c.get("/api/v1/jobs", headers={"X-API-Key": key})
    assert last_used() == first
    users_app.clock.advance(31)
    c.get("/api/v1/jobs", headers={"X-API-Key": key})
    assert last_used() == first + timedelta(seconds=61)  # type: ignore[operator]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "cm_" + "A" * 43},
        {"Authorization": "Bearer cm_" + "A" * 43},
        {"X-API-Key": "not-a-key"},
        {"X-API-Key": "cm_"},
        {"X-API-Key": "cm_" + "x" * 5000},
    ],
    ids=["unknown", "unknown-bearer", "no-prefix", "prefix-only", "huge"],
)
def test_unknown_keys_are_refused(users_app: AuthApp, headers: dict[str, str]) -> None:
    refused = users_app.client.get("/api/v1/jobs", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"


def _job(app: AuthApp, headers: dict[str, str]) -> str:
    return app.container.jobs.create(
        _principal(app, headers), JobKind.DOWNLOAD, {"url": "http://x"}
    ).id


def _ticket(app: AuthApp, headers: dict[str, str]) -> str:
    response = app.client.post("/api/v1/auth/ticket", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 60
    ticket: str = response.json()["ticket"]
    return ticket


def test_websocket_with_a_ticket_once(users_app: AuthApp) -> None:
    headers = users_app.user("eve")
    job_id = _job(users_app, headers)
    ticket = _ticket(users_app, headers)
    with users_app.client.websocket_connect(f"/ws/{job_id}?ticket={ticket}") as ws:
        assert ws.receive_json()["type"] == "initial_status"
    assert refused_socket(users_app.client, f"/ws/{job_id}?ticket={ticket}") == 4401


def test_websocket_with_headers_and_without_anything(users_app: AuthApp) -> None:
    headers = users_app.user("fox")
    job_id = _job(users_app, headers)
    with users_app.client.websocket_connect(f"/ws/{job_id}", headers=headers) as ws:
        assert ws.receive_json()["type"] == "initial_status"
    assert refused_socket(users_app.client, f"/ws/{job_id}") == 4401


def test_websocket_of_another_user_is_not_found(users_app: AuthApp) -> None:
    owner, other = users_app.user("gil"), users_app.user("hob")
    job_id = _job(users_app, owner)
    with users_app.client.websocket_connect(
        f"/ws/{job_id}?ticket={_ticket(users_app, other)}"
    ) as ws:
        assert ws.receive_json()["error"]["code"] == "not_found"


def test_ticket_expires(users_app: AuthApp) -> None:
    headers = users_app.user("ivy")
    job_id = _job(users_app, headers)
    ticket = _ticket(users_app, headers)
    users_app.clock.advance(75)
    assert refused_socket(users_app.client, f"/ws/{job_id}?ticket={ticket}") == 4401


@pytest.mark.parametrize("credential", ["access", "refresh", "key"])
def test_long_lived_secrets_are_refused_in_a_query_string(
    users_app: AuthApp, credential: str
) -> None:
    users_app.container.accounts.create_user("jay", "correct horse battery")
    pair = users_app.login("jay")
    headers = bearer(pair["access_token"])
    job_id = _job(users_app, headers)
    secret = {
        "access": pair["access_token"],
        "refresh": pair["refresh_token"],
        "key": users_app.container.accounts.create_key(_principal(users_app, headers), "k")[1],
    }[credential]
    c = users_app.client
    assert refused_socket(c, f"/ws/{job_id}?ticket={secret}") == 4401
    for query in ("ticket", "access_token", "token", "api_key"):
        sse = c.get(f"/api/v1/jobs/{job_id}/events?{query}={secret}")
        assert sse.status_code == 401, query
        assert c.get(f"/api/v1/jobs/{job_id}?{query}={secret}").status_code == 401


def test_sse_with_a_ticket(users_app: AuthApp) -> None:
    headers = users_app.user("kit")
    job_id = _job(users_app, headers)
    users_app.container.jobs.cancel(_principal(users_app, headers), job_id, "stop")
    ticket = _ticket(users_app, headers)
    c = users_app.client
    with c.stream("GET", f"/api/v1/jobs/{job_id}/events?ticket={ticket}") as response:
        assert response.status_code == 200
        body = "".join(response.iter_text())
    assert "initial_status" in body
    again = c.get(f"/api/v1/jobs/{job_id}/events?ticket={ticket}")
    assert again.status_code == 401 and again.json()["error"]["code"] == "token_revoked"


def test_a_ticket_is_only_good_on_the_live_routes(users_app: AuthApp) -> None:
    headers = users_app.user("lee")
    ticket = _ticket(users_app, headers)
    c = users_app.client
    assert c.get(f"/api/v1/jobs?ticket={ticket}").status_code == 401
    as_bearer = c.get("/api/v1/jobs", headers=bearer(ticket))
    assert as_bearer.status_code == 401 and as_bearer.json()["error"]["code"] == "invalid_token"
