"""Another user's job is a 404 on every route that names a job, generated from the spec."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from clipmill.api.app import create_app
from clipmill.jobs.enums import JobKind
from tests.accounts.conftest import AuthApp
from tests.support.containers import make_settings, wait_for

#: a minimal valid body per request schema, so validation cannot answer before ownership does
BODIES: dict[str, Any] = {
    "ClipEdit": {"title": "mine now"},
    "ClipAdd": {"start_time": 0, "end_time": 5},
    "WordFix": {"text": "mine"},
}


def _job_routes() -> list[tuple[str, str, Any]]:
    spec = create_app(make_settings(Path("/nonexistent/clipmill"), auth="users")).openapi()
    routes = []
    for path, operations in spec["paths"].items():
        if "{job_id}" not in path and "{download_id}" not in path:
            continue
        for method, operation in operations.items():
            body = None
            request = operation.get("requestBody")
            if request is not None and request.get("required"):
                ref = request["content"]["application/json"]["schema"].get("$ref", "")
                body = BODIES.get(ref.rsplit("/", 1)[-1], KeyError(ref))
            routes.append((method.upper(), path, body))
    return sorted(routes, key=lambda r: (r[1], r[0]))


ROUTES = _job_routes()


@pytest.fixture(scope="module")
def scene(shared_app: AuthApp) -> dict[str, Any]:
    alice, bob = shared_app.user("alice"), shared_app.user("bob")
    root = shared_app.user("root", admin=True)
    me = shared_app.client.get("/api/v1/auth/me", headers=alice).json()
    owner = shared_app.container.accounts.principal_for(me["id"])
    job = shared_app.container.jobs.create(owner, JobKind.DOWNLOAD, {"url": "http://x"})
    wait_for(lambda: job.id in shared_app.gate.started)
    return {"alice": alice, "bob": bob, "root": root, "job": job.id}


def test_the_matrix_covers_the_job_routes() -> None:
    assert len(ROUTES) >= 15
    assert ("GET", "/api/v1/jobs/{job_id}", None) in ROUTES


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_another_users_job_is_not_found(
    shared_app: AuthApp, scene: dict[str, Any], method: str, path: str, body: Any
) -> None:
    if isinstance(body, KeyError):
        pytest.fail(f"add a minimal valid body for {body} to BODIES")
    url = path.replace("{job_id}", scene["job"]).replace("{download_id}", scene["job"])
    url = url.replace("{index}", "0")  # an integer path parameter
    url = re.sub(r"\{[^}]+\}", "c1", url)
    response = shared_app.client.request(method, url, headers=scene["bob"], json=body)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"


def test_clipx_cancel_of_another_users_download_is_not_found(
    shared_app: AuthApp, scene: dict[str, Any]
) -> None:
    response = shared_app.client.post(
        "/api/download/cancel", headers=scene["bob"], json={"downloadId": scene["job"]}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/jobs/{}", "/api/v1/download/{}", "/api/v1/jobs/{}/logs"])
def test_the_owner_and_an_admin_see_the_job(
    shared_app: AuthApp, scene: dict[str, Any], path: str
) -> None:
    for who in ("alice", "root"):
        response = shared_app.client.get(path.format(scene["job"]), headers=scene[who])
        assert response.status_code == 200, (who, response.text)


def test_lists_are_scoped_by_owner(shared_app: AuthApp, scene: dict[str, Any]) -> None:
    def ids(who: str) -> set[str]:
        response = shared_app.client.get("/api/v1/jobs", headers=scene[who])
        assert response.status_code == 200, response.text
        return {job["id"] for job in response.json()["items"]}

    bob_principal = shared_app.container.accounts.principal_for(
        shared_app.client.get("/api/v1/auth/me", headers=scene["bob"]).json()["id"]
    )
    bobs = shared_app.container.jobs.create(bob_principal, JobKind.DOWNLOAD, {"url": "http://y"})
    assert scene["job"] in ids("alice") and bobs.id not in ids("alice")
    assert scene["job"] not in ids("bob") and bobs.id in ids("bob")
    assert {scene["job"], bobs.id} <= ids("root")
    assert shared_app.client.get("/api/v1/jobs", headers=scene["bob"]).json()["total"] == 1
