"""The cookie tests' container (no workers started unless a test starts them) and API client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clipmill.api.app import create_app
from clipmill.bootstrap import Container
from tests.support.containers import make_container


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    c = make_container(tmp_path / "data", None)
    yield c
    c.stop()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=container)) as c:
        yield c
