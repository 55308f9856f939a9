"""Scaled mode for real: a private Redis and PostgreSQL (session), an API container in this
process and `clipmill worker` subprocesses (per test), supervised like systemd would."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clipmill.bootstrap import Container, bootstrap
from clipmill.jobs.models import Job
from tests.scaled.services import Postgres, Redis, Worker, initdb_binary
from tests.support.api import api_client
from tests.support.containers import make_settings

LEASE_SECONDS = 2.0

_missing = [
    name
    for name, found in (("redis-server", shutil.which("redis-server")), ("initdb", initdb_binary()))
    if not found
]
if _missing:  # `make system-deps` installs both
    pytest.skip(
        f"scaled tests need {' and '.join(_missing)} (make system-deps installs them)",
        allow_module_level=True,
    )


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    server = Redis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    server = Postgres()
    server.start()
    yield server
    server.stop()


class Cluster:
    """One deployment: API containers in this process, N worker processes kept running."""

    def __init__(self, root: Path, redis: Redis, database_url: str) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.redis = redis
        self.database_url = database_url
        self.containers: list[Container] = []
        self.clients: list[TestClient] = []
        self.workers: list[Worker] = []
        self.worker_module: str | None = None
        self._slots = 0
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self.settings: dict[str, Any] = {
            "queue": "celery",
            "redis_url": redis.url,
            "lease_seconds": LEASE_SECONDS,
            "requeue_stale_seconds": 5.0,
            "max_attempts": 3,
        }

    # -- the API tier ---------------------------------------------------------------------------
    def api(self) -> TestClient:
        """Another API instance (its own container and event bus), started."""
        container = bootstrap(
            make_settings(self.data_dir, database_url=self.database_url, **self.settings)
        )
        client = api_client(container)
        client.__enter__()
        self.containers.append(container)
        self.clients.append(client)
        return client

    # -- workers --------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        settings = {
            "data_dir": str(self.data_dir),
            "database_url": self.database_url,
            "allow_private_networks": "true",
            "warm_spare": "false",
            "secret_key": "test-secret",
            "worker_concurrency": "1",
            "sweep_interval_seconds": "3600",
            **{k: str(v) for k, v in self.settings.items()},
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPMILL_")}
        env.update({f"CLIPMILL_{k.upper()}": v for k, v in settings.items()})
        return env

    def start_workers(self, count: int) -> None:
        self._slots = count
        for _ in range(count):
            self._spawn()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)
        self._supervisor.start()

    def _spawn(self) -> Worker:
        log = self.root / f"worker-{len(self.workers) + 1}.log"
        worker = Worker(self.env(), log, self.worker_module)
        self.workers.append(worker)
        return worker

    def _supervise(self) -> None:
        """Start a new worker for each one that died (a supervisor's restart policy)."""
        while not self._stop.wait(0.2):
            alive = [w for w in self.workers if w.alive()]
            for _ in range(self._slots - len(alive)):
                self._spawn()

    def worker_of(self, job_id: str) -> Worker | None:
        """The live worker process holding ``job_id``'s lease."""
        owner = self.job_row(job_id).lease_owner
        if owner is None:
            return None
        pid = int(owner.rsplit("/", 3)[1])
        return next((w for w in self.workers if w.pid == pid and w.alive()), None)

    def job_row(self, job_id: str) -> Job:
        with self.containers[0].sessions() as session:
            job = session.scalar(select(Job).where(Job.id == job_id))
            assert job is not None
            return job

    def logs(self) -> str:
        return "\n".join(
            f"--- {w.log.name}\n{w.log.read_text(errors='replace')[-3000:]}" for w in self.workers
        )

    def close(self) -> None:
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(5)
        for worker in self.workers:  # all at once: each warm shutdown takes a moment
            if worker.alive():
                worker.proc.terminate()
        for worker in self.workers:
            worker.stop()
        for client in self.clients:
            client.__exit__(None, None, None)
        for container in self.containers:
            container.stop()


@pytest.fixture
def cluster(tmp_path: Path, redis_server: Redis, postgres_server: Postgres) -> Iterator[Cluster]:
    from redis import Redis as RedisClient

    with RedisClient.from_url(redis_server.url) as flush:
        flush.flushall()  # nothing of an earlier test's queue
    deployment = Cluster(tmp_path, redis_server, postgres_server.new_database())
    try:
        yield deployment
    finally:
        deployment.close()


@pytest.fixture
def client(cluster: Cluster) -> TestClient:
    """The API of a deployment with two workers (lets tests/downloads tests run scaled)."""
    api = cluster.api()
    cluster.start_workers(2)
    return api


def wait_until(predicate: Any, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met in {timeout:.0f} s")
        time.sleep(0.05)
