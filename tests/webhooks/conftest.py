"""Containers with fast webhook retries, fake download pipelines and a loopback receiver."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clipmill.accounts.principal import Principal
from clipmill.api.app import create_app
from clipmill.bootstrap import Container
from clipmill.errors import OriginError
from clipmill.jobs.enums import JobKind, JobStage
from clipmill.jobs.models import User
from clipmill.pipeline.context import JobContext
from tests.support.containers import Gate, make_container
from tests.webhooks.receiver import Receiver, running_receiver

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"

FAST = {
    "webhook_backoff_seconds": 0.05,
    "webhook_timeout_seconds": 1.0,
    "webhook_max_attempts": 3,
}


def producing(ctx: JobContext) -> None:
    ctx.stage(JobStage.DOWNLOADING, "Downloading.")
    for pct in (25.0, 50.0, 75.0):
        ctx.progress(pct, force=True)
    src = ctx.workdir / "out.bin"
    src.write_bytes(b"x" * 1234)
    ctx.save_file(src, role="media", name="talk.mp4", content_type="video/mp4")


def failing(ctx: JobContext) -> None:
    raise OriginError("The origin answered 404.", code="origin_error")


def documented_verify() -> Callable[..., bool]:
    """The ``verify`` function of docs/webhooks.md, exactly as published."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S)
    namespace: dict[str, Any] = {}
    exec(next(b for b in blocks if "def verify" in b), namespace)
    return namespace["verify"]  # type: ignore[no-any-return]


def add_user(container: Container, user_id: str) -> Principal:
    with container.sessions() as session, session.begin():
        if session.get(User, user_id) is None:
            session.add(User(id=user_id, name=user_id))
    return Principal(user_id=user_id, name=user_id)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., Container]]:
    """Build (not start) containers; every one built is stopped at the end."""
    built: list[Container] = []

    def build(pipeline: Any = producing, data_dir: Path | None = None, **overrides: Any):  # type: ignore[no-untyped-def]
        container = make_container(
            data_dir or tmp_path, {JobKind.DOWNLOAD: pipeline}, **{**FAST, **overrides}
        )
        built.append(container)
        return container

    yield build
    for container in built:
        if container.started:
            container.stop()


@pytest.fixture
def client(make: Callable[..., Container]) -> Iterator[TestClient]:
    container = make(producing)
    with TestClient(create_app(container=container)) as c:
        c.container = container  # type: ignore[attr-defined]
        yield c
