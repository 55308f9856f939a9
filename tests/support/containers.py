"""Build a clipmill container on a temp data dir, with fake pipelines where a test wants them."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from clipmill.bootstrap import Container, bootstrap
from clipmill.clock import Clock
from clipmill.config import Settings
from clipmill.jobs.enums import JobKind
from clipmill.jobs.schemas import JobRecord
from clipmill.media.fetcher import MediaFetcher
from clipmill.media.playlists import ExtractorClass
from clipmill.pipeline.context import JobContext
from clipmill.pipeline.runner import Pipeline
from clipmill.shorts.seams import ClipPlanner, ClipRenderer, TranscriberFactory


def database_url_for(data_dir: Path) -> str | None:
    """With CLIPMILL_TEST_DATABASE_URL (a PostgreSQL server URL) set, one fresh database per data
    dir on that server, so a "restarted" container sees the same rows; otherwise SQLite."""
    server = os.environ.get("CLIPMILL_TEST_DATABASE_URL")
    if not server:
        return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = "t_" + hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:16]
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url_for(data_dir),
        "allow_private_networks": True,
        "secret_key": "test-secret",
        "sweep_interval_seconds": 3600,
        "max_concurrent_jobs": 2,
        # `make test` runs the API tests again with CLIPMILL_TEST_AUTH=users (tests/support/api.py)
        "auth": os.environ.get("CLIPMILL_TEST_AUTH", "none"),
        "warm_spare": False,  # tests count child processes; tests/test_spares.py covers spares
        # TestClient's Host; tests of the edge pass their own list
        "trusted_hosts": ["testserver", "localhost", "127.0.0.1", "::1"],
        # budgets far above what a test spends; tests of the limits set their own
        "rate_limit_requests": "100000/minute",
        "rate_limit_login": "100000/minute",
        "rate_limit_jobs": "100000/minute",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def make_container(
    data_dir: Path,
    pipelines: dict[JobKind, Pipeline] | None = None,
    *,
    fetcher: MediaFetcher | None = None,
    transcribers: TranscriberFactory | None = None,
    planner: ClipPlanner | None = None,
    renderer: ClipRenderer | None = None,
    extractors: Sequence[ExtractorClass] = (),
    clock: Clock | None = None,
    **overrides: Any,
) -> Container:
    """A container on ``data_dir``; keyword arguments name seams, the rest are settings.

    Tests written for the local user run again under CLIPMILL_TEST_AUTH=users, where the
    server no longer makes that user: it is made here, as `tests.support.api` does."""
    container = bootstrap(
        make_settings(data_dir, **overrides),
        pipelines=pipelines,
        fetcher=fetcher,
        transcribers=transcribers,
        planner=planner,
        renderer=renderer,
        extractors=extractors,
        clock=clock,
    )
    if "auth" not in overrides and os.environ.get("CLIPMILL_TEST_AUTH", "none") != "none":
        from clipmill.bootstrap import ensure_local_user

        ensure_local_user(container.sessions)
    return container


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def wait_terminal(container: Container, job_id: str, timeout: float = 60.0) -> JobRecord:
    wait_for(lambda: container.lifecycle.load(job_id).status.is_terminal, timeout)
    return container.lifecycle.load(job_id)


class Gate:
    """A pipeline that blocks until released (or cancelled): lets tests hold jobs 'running'."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started: list[str] = []
        self.lock = threading.Lock()
        self.max_parallel = 0
        self._running = 0

    def __call__(self, ctx: JobContext) -> None:
        with self.lock:
            self.started.append(ctx.job_id)
            self._running += 1
            self.max_parallel = max(self.max_parallel, self._running)
        try:
            while not self.release.wait(0.01):
                ctx.check_cancelled()
            ctx.result = {"ok": True}
        finally:
            with self.lock:
                self._running -= 1
