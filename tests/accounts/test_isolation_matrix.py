"""Every id a user owns, tried by another user on every route that takes one, from the spec.

Alice owns a job, an API key, a cookie file and a webhook endpoint. For each operation of the
OpenAPI spec with an id in its path, Bob sends Alice's id: the answer is 404 ``not_found``
(never 403, which would confirm the id exists), and nothing of Alice's changes. Every listing
Bob can read is searched for Alice's ids. A new route with a new kind of id fails
`test_every_id_parameter_is_in_the_matrix` until it is added here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from clipmill.api.app import create_app
from clipmill.api.auth import is_public
from clipmill.jobs.enums import JobKind
from tests.accounts.conftest import AuthApp
from tests.support.containers import make_settings, wait_for

COOKIES = "# Netscape HTTP Cookie File\n.example.com\tTRUE\t/\tTRUE\t0\tsid\tsecret-value-123\n"

#: which of Alice's things each path parameter names
PARAMS = {
    "job_id": "job",
    "download_id": "job",
    "clip_id": "clip",
    "key_id": "key",
    "cookie_id": "cookie",
    "webhook_id": "webhook",
    "index": "word",
}
#: operator routes: a non-admin is refused them whatever the id (403 admin_only)
ADMIN_ONLY = ("/api/v1/users",)

#: a minimal valid body per request schema, so validation cannot answer before ownership does
BODIES: dict[str, Any] = {
    "ClipEdit": {"title": "mine now"},
    "ClipAdd": {"start_time": 0, "end_time": 5},
    "EndpointPatch": {"description": "mine now"},
    "WordFix": {"text": "mine now"},
}


def _spec() -> dict[str, Any]:
    return create_app(make_settings(Path("/nonexistent/clipmill"), auth="users")).openapi()


def _routes() -> list[tuple[str, str, Any]]:
    routes = []
    for path, operations in _spec()["paths"].items():
        if "{" not in path or is_public(path) or path.startswith(ADMIN_ONLY):
            continue
        for method, operation in operations.items():
            body = None
            request = operation.get("requestBody")
            if request is not None and request.get("required"):
                schema = next(iter(request["content"].values()))["schema"]
                name = schema.get("$ref", "").rsplit("/", 1)[-1]
                body = BODIES.get(name, KeyError(name))
            routes.append((method.upper(), path, body))
    return sorted(routes, key=lambda r: (r[1], r[0]))


ROUTES = _routes()


@pytest.fixture(scope="module")
def alice_and_bob(shared_app: AuthApp) -> dict[str, Any]:
    app = shared_app
    alice, bob = app.user("alice"), app.user("bob")
    client = app.client
    me = client.get("/api/v1/auth/me", headers=alice).json()
    owner = app.container.accounts.principal_for(me["id"])
    job = app.container.jobs.create(owner, JobKind.DOWNLOAD, {"url": "http://x"})
    wait_for(lambda: job.id in app.gate.started)
    key = client.post("/api/v1/auth/keys", json={"name": "laptop"}, headers=alice)
    cookie = client.post(
        "/api/v1/auth/cookies?name=site",
        content=COOKIES,
        headers={**alice, "content-type": "text/plain"},
    )
    hook = client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=alice)
    for made in (key, cookie, hook):
        assert made.status_code == 201, made.text
    ids = {
        "job": job.id,
        "clip": "c1",
        "word": "0",
        "key": key.json()["record"]["id"],
        "cookie": cookie.json()["id"],
        "webhook": hook.json()["id"],
    }
    return {"alice": alice, "bob": bob, "ids": ids}


def _url(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: ids[PARAMS[m.group(1)]], path)


def test_every_id_parameter_is_in_the_matrix() -> None:
    names = {n for _m, path, _b in ROUTES for n in re.findall(r"\{([^}]+)\}", path)}
    assert names <= set(PARAMS), f"add {names - set(PARAMS)} to PARAMS with an owned thing"
    kinds = {PARAMS[n] for n in names}
    assert {"job", "key", "cookie", "webhook"} <= kinds
    assert len(ROUTES) >= 25


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_another_users_id_is_not_found(
    shared_app: AuthApp, alice_and_bob: dict[str, Any], method: str, path: str, body: Any
) -> None:
    if isinstance(body, KeyError):
        pytest.fail(f"add a minimal valid body for {body} to BODIES")
    url = _url(path, alice_and_bob["ids"])
    response = shared_app.client.request(method, url, headers=alice_and_bob["bob"], json=body)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"


def test_alices_things_are_untouched_and_still_hers(
    shared_app: AuthApp, alice_and_bob: dict[str, Any]
) -> None:
    client, alice, ids = shared_app.client, alice_and_bob["alice"], alice_and_bob["ids"]
    for name in ("key", "cookie", "webhook"):  # Bob's DELETEs above removed nothing
        assert ids[name] in client.get(_list_of(name), headers=alice).text
    assert client.get(f"/api/v1/webhooks/{ids['webhook']}", headers=alice).status_code == 200
    assert client.get(f"/api/v1/jobs/{ids['job']}", headers=alice).status_code == 200


def _list_of(name: str) -> str:
    return {
        "key": "/api/v1/auth/keys",
        "cookie": "/api/v1/auth/cookies",
        "webhook": "/api/v1/webhooks",
    }[name]


def test_no_listing_shows_another_users_ids(
    shared_app: AuthApp, alice_and_bob: dict[str, Any]
) -> None:
    listings = [
        path
        for path, operations in _spec()["paths"].items()
        if "get" in operations and "{" not in path and not is_public(path)
        and not path.startswith(ADMIN_ONLY)
    ]  # fmt: skip
    assert {"/api/v1/jobs", "/api/v1/auth/keys", "/api/v1/auth/cookies"} <= set(listings)
    secret_ids = [v for k, v in alice_and_bob["ids"].items() if k not in ("clip", "word")]
    for path in listings:
        response = shared_app.client.get(path, headers=alice_and_bob["bob"])
        assert response.status_code < 500, (path, response.text)
        for value in secret_ids:
            assert value not in response.text, (path, value)
    # and the same listings, read by Alice, do show them (the search above can fail)
    text = "".join(
        shared_app.client.get(_list_of(n), headers=alice_and_bob["alice"]).text
        for n in ("key", "cookie", "webhook")
    )
    assert all(alice_and_bob["ids"][n] in text for n in ("key", "cookie", "webhook"))


def test_an_operator_route_is_refused_to_an_ordinary_user(
    shared_app: AuthApp, alice_and_bob: dict[str, Any]
) -> None:
    me = shared_app.client.get("/api/v1/auth/me", headers=alice_and_bob["alice"]).json()
    response = shared_app.client.post(
        f"/api/v1/users/{me['id']}/disable", headers=alice_and_bob["bob"]
    )
    assert response.status_code == 403
    assert shared_app.client.get("/api/v1/auth/me", headers=alice_and_bob["alice"]).is_success
