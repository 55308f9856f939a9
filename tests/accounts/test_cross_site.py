"""A signed-in browser's session cookie cannot be ridden by another site (CSRF, CSWSH)."""

from __future__ import annotations

from clipmill.jobs.enums import JobKind
from tests.accounts.conftest import PASSWORD, AuthApp, refused_socket

JOB = {"url": "http://127.0.0.1:9/video"}


def _signed_in(app: AuthApp) -> None:
    app.container.accounts.create_user("carol", PASSWORD)
    response = app.client.post(
        "/api/v1/auth/login", json={"username": "carol", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "clipmill_session" in app.client.cookies  # the browser now holds the session


def test_a_cross_site_post_with_the_session_cookie_creates_nothing(users_app: AuthApp) -> None:
    _signed_in(users_app)
    client = users_app.client
    for headers in (
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
    ):
        response = client.post("/api/v1/download", json=JOB, headers=headers)
        assert response.status_code == 403, headers
        assert response.json()["error"]["code"] == "cross_site_request"
        logout = client.post("/api/v1/auth/logout", headers=headers)
        assert logout.status_code == 403  # nor sign the user out
    assert client.get("/api/v1/jobs").json()["total"] == 0
    # the same cookie from the service's own page works
    mine = client.post("/api/v1/download", json=JOB, headers={"origin": "http://testserver"})
    assert mine.status_code in (200, 201, 202), mine.text
    assert client.get("/api/v1/jobs").json()["total"] == 1


def test_a_cross_site_websocket_cannot_ride_the_session(users_app: AuthApp) -> None:
    _signed_in(users_app)
    me = users_app.client.get("/api/v1/auth/me").json()
    owner = users_app.container.accounts.principal_for(me["id"])
    job = users_app.container.jobs.create(owner, JobKind.DOWNLOAD, JOB)
    code = refused_socket(
        users_app.client, f"/ws/{job.id}", headers={"origin": "http://evil.example"}
    )
    assert code == 4403
