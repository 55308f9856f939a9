"""Scaled mode's queue: throughput of many small downloads through 1 vs 2 worker processes, and
queue latency (submit -> processing) in embedded vs celery mode.

Everything runs on this machine: a private Redis and PostgreSQL (as tests/scaled starts them),
the API in this process, `clipmill worker` subprocesses, a local media server with a small WebM.
Both modes use the same PostgreSQL, so the difference measured is the queue's.

* throughput: ``--jobs`` downloads submitted at once; wall time from the first submit to the
  last completion, for embedded (in-process pool of ``--slots``), celery with one worker and
  celery with two workers (``--slots`` each);
* latency: ``--latency-jobs`` downloads submitted one at a time on an idle system (each waits
  for the previous to finish); latency = the job's ``started_at - created_at`` in the database.

Usage::

    .venv/bin/python bench/scaled_queue.py [--jobs 100] [--latency-jobs 30] [--slots 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from fastapi.testclient import TestClient  # noqa: E402
from redis import Redis as RedisClient  # noqa: E402
from sqlalchemy import select  # noqa: E402
from tests.scaled.services import Postgres, Redis, Worker  # noqa: E402
from tests.support.api import api_client  # noqa: E402
from tests.support.containers import make_settings  # noqa: E402
from tests.support.media_factory import make_webm  # noqa: E402
from tests.support.media_server import MediaServer  # noqa: E402

from clipmill.bootstrap import bootstrap  # noqa: E402
from clipmill.jobs.models import Job  # noqa: E402

TERMINAL = ("completed", "failed", "cancelled")


class Deployment:
    """An API (embedded or scaled) and, when scaled, ``workers`` worker processes."""

    def __init__(
        self, root: Path, redis: Redis, database_url: str, *, scaled: bool, workers: int, slots: int
    ) -> None:
        self.root = root
        self.database_url = database_url
        values: dict[str, Any] = {"database_url": database_url, "max_concurrent_jobs": slots}
        if scaled:
            values.update(queue="celery", redis_url=redis.url)
        self.settings = make_settings(root / "data", **values)
        self.container = bootstrap(self.settings)
        self.client: TestClient = api_client(self.container)
        self.client.__enter__()
        self.workers: list[Worker] = []
        env = {
            "CLIPMILL_DATA_DIR": str(root / "data"),
            "CLIPMILL_DATABASE_URL": database_url,
            "CLIPMILL_QUEUE": "celery",
            "CLIPMILL_REDIS_URL": redis.url,
            "CLIPMILL_ALLOW_PRIVATE_NETWORKS": "true",
            "CLIPMILL_WARM_SPARE": "false",
            "CLIPMILL_SECRET_KEY": "test-secret",
            "CLIPMILL_WORKER_CONCURRENCY": str(slots),
        }
        env.update({k: v for k, v in os.environ.items() if not k.startswith("CLIPMILL_")})
        for n in range(workers if scaled else 0):
            self.workers.append(Worker(env, root / f"worker-{n}.log"))
        if self.workers:  # the workers are up once one job ran through them
            self.run_one()

    def submit(self, url: str) -> str:
        response = self.client.post("/api/v1/download", json={"url": url})
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def rows(self, ids: list[str]) -> list[Job]:
        with self.container.sessions() as session:
            return list(session.scalars(select(Job).where(Job.id.in_(ids))).all())

    def wait(self, ids: list[str], timeout: float = 900) -> list[Job]:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.rows(ids)
            if all(r.status in TERMINAL for r in rows):
                failed = [r for r in rows if r.status != "completed"]
                assert not failed, [(r.id, r.error_code, r.error_message) for r in failed]
                return rows
            if time.monotonic() > deadline:
                raise TimeoutError("jobs did not finish")
            time.sleep(0.02)

    def run_one(self) -> None:
        self.wait([self.submit(self.url)])

    url = ""

    def close(self) -> None:
        for worker in self.workers:
            worker.proc.terminate()
        for worker in self.workers:
            worker.stop()
        self.client.__exit__(None, None, None)
        self.container.stop()


def throughput(deployment: Deployment, jobs: int) -> float:
    start = time.monotonic()
    ids = [deployment.submit(deployment.url) for _ in range(jobs)]
    deployment.wait(ids)
    return time.monotonic() - start


def latencies(deployment: Deployment, jobs: int) -> list[float]:
    out = []
    for _ in range(jobs):
        (row,) = deployment.wait([deployment.submit(deployment.url)])
        assert row.started_at is not None
        out.append((row.started_at - row.created_at).total_seconds())
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--latency-jobs", type=int, default=30)
    parser.add_argument("--slots", type=int, default=2, help="jobs at once per worker/pool")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="clipmill-bench-queue-"))
    media = root / "media"
    media.mkdir()
    make_webm(media / "small.webm")
    redis, postgres = Redis(root / "redis"), Postgres()
    redis.start()
    postgres.start()
    rows: list[tuple[str, str, str, str]] = []
    try:
        with MediaServer(media) as server:
            Deployment.url = server.url("/small.webm")
            runs: list[tuple[str, bool, int]] = [
                ("embedded (in-process pool)", False, 0),
                ("celery, 1 worker", True, 1),
                ("celery, 2 workers", True, 2),
            ]
            for n, (label, scaled, workers) in enumerate(runs):
                with RedisClient.from_url(redis.url) as flush:
                    flush.flushall()
                d = Deployment(
                    root / f"run{n}",
                    redis,
                    postgres.new_database(),
                    scaled=scaled,
                    workers=workers,
                    slots=args.slots,
                )
                try:
                    seconds = throughput(d, args.jobs)
                    lat = latencies(d, args.latency_jobs) if workers <= 1 else []
                finally:
                    d.close()
                rate = f"{args.jobs / seconds:.2f}"
                lat_text = (
                    f"{pct(lat, 0.5) * 1000:.0f} / {pct(lat, 0.99) * 1000:.0f}" if lat else "-"
                )
                rows.append((label, f"{seconds:.1f}", rate, lat_text))
                print(f"{label}: {seconds:.1f} s, {rate} jobs/s, latency p50/p99 ms {lat_text}")
    finally:
        redis.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
    print()
    print(f"| mode | {args.jobs} jobs, s | jobs/s | queue latency p50 / p99, ms |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
