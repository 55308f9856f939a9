"""Apps with accounts on (auth=users unless a test says otherwise), over fake pipelines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from clipmill.api.app import create_app
from clipmill.bootstrap import Container
from clipmill.clock import FakeClock
from clipmill.jobs.enums import JobKind
from tests.support.containers import Gate, make_container

PASSWORD = "correct horse battery"


@dataclass
class AuthApp:
    container: Container
    client: TestClient
    clock: FakeClock
    gate: Gate

    def login(self, name: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/auth/login", json={"username": name, "password": password}
        )
        assert response.status_code == 200, response.text
        self.client.cookies.clear()  # tests send tokens explicitly unless they test the cookie
        body: dict[str, Any] = response.json()
        return body

    def user(self, name: str, *, admin: bool = False) -> dict[str, str]:
        """A new account's Authorization header."""
        self.container.accounts.create_user(name, PASSWORD, is_admin=admin)
        return bearer(self.login(name)["access_token"])


def refused_socket(client: TestClient, url: str, **kwargs: Any) -> int:
    """The close code of a WebSocket the server refuses (fails if it accepts)."""
    try:
        with client.websocket_connect(url, **kwargs):
            pass
    except WebSocketDisconnect as exc:
        return exc.code
    raise AssertionError(f"{url} was accepted")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _factory(root: Path) -> Iterator[Callable[..., AuthApp]]:
    built: list[AuthApp] = []

    def make(**settings: Any) -> AuthApp:
        settings.setdefault("auth", "users")
        clock = FakeClock()
        gate = Gate()
        container = make_container(
            root / f"data{len(built)}",
            {JobKind.DOWNLOAD: gate, JobKind.SHORTS: gate},
            clock=clock,
            **settings,
        )
        client = TestClient(create_app(container=container))
        client.__enter__()
        app = AuthApp(container, client, clock, gate)
        built.append(app)
        return app

    yield make
    for app in built:
        app.gate.release.set()
        app.client.__exit__(None, None, None)
        app.container.stop()


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., AuthApp]]:
    yield from _factory(tmp_path)


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthApp]:
    """One app for a module whose tests each make their own users (faster than one each)."""
    factory = _factory(tmp_path_factory.mktemp("shared"))
    yield next(factory)()
    next(factory, None)


@pytest.fixture
def users_app(make_app: Callable[..., AuthApp]) -> AuthApp:
    return make_app()
