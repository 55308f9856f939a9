"""Deny by default: every operation of the OpenAPI spec, and the WebSocket, needs a credential,
except the short public list (`clipmill.api.auth.PUBLIC_PATHS`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clipmill.api.app import create_app
from clipmill.api.auth import is_public
from tests.accounts.conftest import AuthApp, refused_socket
from tests.support.containers import make_settings


def _operations() -> list[tuple[str, str]]:
    # building the app touches no disk (the container is made at startup)
    app = create_app(make_settings(Path("/nonexistent/clipmill"), auth="users"))
    spec = app.openapi()
    return sorted((method.upper(), path) for path, ops in spec["paths"].items() for method in ops)


OPERATIONS = _operations()
PROTECTED = [(m, p) for m, p in OPERATIONS if not is_public(p)]
PUBLIC = [(m, p) for m, p in OPERATIONS if is_public(p)]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "some-id", path)


def test_the_spec_is_mostly_protected() -> None:
    assert len(PROTECTED) > 30
    assert {p for _, p in PUBLIC} <= {
        "/healthz",
        "/api/v1/health",
        "/metrics",
        "/api/v1/metrics",
        "/files/{token}",
        "/files/zip/{token}",
        "/api/v1/auth/register",
        "/api/auth/register",
        "/api/v1/auth/login",
        "/api/auth/login",
        "/api/v1/auth/refresh",
        "/api/auth/refresh",
    }


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
def test_protected_operation_without_credentials_is_401(
    shared_app: AuthApp, method: str, path: str
) -> None:
    response = shared_app.client.request(method, _concrete(path), json={})
    assert response.status_code == 401, response.text
    assert response.json() == {
        "error": {"code": "unauthorized", "message": "Sign in or send an API key."}
    }
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/health", "/api/docs", "/api/openapi.json"])
def test_public_paths_answer_without_credentials(shared_app: AuthApp, path: str) -> None:
    assert shared_app.client.get(path).status_code != 401


def test_signed_file_links_need_no_login(shared_app: AuthApp) -> None:
    response = shared_app.client.get("/files/not-a-real-token")
    assert response.status_code == 403  # the link's own check, not the login's


def test_websocket_without_credentials_is_closed_before_accept(shared_app: AuthApp) -> None:
    assert refused_socket(shared_app.client, "/ws/anything") == 4401


def test_unknown_paths_are_401_not_404(shared_app: AuthApp) -> None:
    # an anonymous caller learns nothing about which routes exist
    assert shared_app.client.get("/api/v1/secret-admin-thing").status_code == 401


@pytest.mark.parametrize(
    ("path", "public"),
    [
        ("/", True),
        ("/static/app.js", True),
        ("/files/abc", True),
        ("/files/", False),
        ("/api/docs/static/swagger-ui.css", True),
        ("/api/docs/../v1/jobs", False),
        ("/healthz/", False),
        ("/api/v1/auth/login", True),
        ("/api/v1/auth/logout", False),
        ("/api/v1/auth/keys", False),
        ("/api/v1/metrics", True),
        ("/api/v1/jobs", False),
    ],
)
def test_is_public(path: str, public: bool) -> None:
    assert is_public(path) is public


def test_app_without_a_started_container_fails_closed(tmp_path: Path) -> None:
    client = TestClient(create_app(make_settings(tmp_path, auth="users")))  # no lifespan
    assert client.get("/api/v1/jobs").status_code == 503


def test_the_served_spec_names_the_credentials(shared_app: AuthApp) -> None:
    spec = shared_app.client.get("/api/openapi.json").json()
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert spec["paths"]["/api/v1/jobs"]["get"]["security"] == [{"bearer": []}, {"apiKey": []}]
    assert "401" in spec["paths"]["/api/v1/jobs"]["get"]["responses"]
    assert spec["paths"]["/api/v1/auth/login"]["post"]["security"] == []
