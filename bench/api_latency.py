"""`GET /api/v1/jobs/{id}` under load while downloads run: embedded vs scaled, measured by wrk.

Embedded: one `clipmill serve` (SQLite, in-process workers) running ``--downloads`` throttled
downloads. Scaled: ``--apis`` `clipmill serve` processes (PostgreSQL, Celery on Redis; they run no
jobs) and one `clipmill worker` running the same downloads. wrk (Debian's ``wrk``) hits the job
route with ``--connections`` connections split over the API processes for ``--seconds``; the
table gives requests per second and the latency percentiles wrk reports. Everything (Redis,
PostgreSQL, the media server, the load generator) shares this machine's cores.

    apt-get install wrk redis-server postgresql
    .venv/bin/python bench/api_latency.py [--seconds 20] [--connections 32] [--apis 2]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import httpx  # noqa: E402
from tests.scaled.services import CLIPMILL, Postgres, Redis, Worker, _wait_port, free_port  # noqa: E402
from tests.support.media_factory import make_big  # noqa: E402
from tests.support.media_server import MediaServer  # noqa: E402

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def base_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPMILL_")}
    env.update(
        CLIPMILL_DATA_DIR=str(data_dir),
        CLIPMILL_SECRET_KEY="bench",
        CLIPMILL_ALLOW_PRIVATE_NETWORKS="true",
        CLIPMILL_RATE_LIMIT_REQUESTS="100000000/minute",
        CLIPMILL_RATE_LIMIT_JOBS="100000/minute",
        CLIPMILL_WARM_SPARE="false",
    )
    return env


def serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(CLIPMILL), "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _wait_port(port, proc, "clipmill serve")
    return proc


def start_downloads(api: str, urls: list[str]) -> str:
    ids = []
    with httpx.Client(base_url=api, timeout=30) as client:
        for url in urls:
            response = client.post("/api/v1/download", json={"url": url})
            response.raise_for_status()
            ids.append(response.json()["id"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = [client.get(f"/api/v1/jobs/{i}").json()["status"] for i in ids]
            if all(s == "processing" for s in states):
                return ids[0]
            time.sleep(0.2)
    raise RuntimeError(f"the downloads did not start: {states}")


def wrk(urls: list[str], connections: int, seconds: int) -> dict[str, float]:
    """Run one wrk per URL at once (connections split); sum rps, take the worst percentiles."""
    share = max(1, connections // len(urls))
    procs = [
        subprocess.Popen(
            ["wrk", "-t1", f"-c{share}", f"-d{seconds}s", "--latency", url],
            stdout=subprocess.PIPE,
            text=True,
        )
        for url in urls
    ]
    out = {"rps": 0.0, "p50": 0.0, "p90": 0.0, "p99": 0.0, "errors": 0.0}
    for proc in procs:
        text, _ = proc.communicate()
        out["rps"] += float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
        for pct in ("50", "90", "99"):
            value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
            out[f"p{pct}"] = max(out[f"p{pct}"], float(value) * UNITS[unit])
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        out["errors"] += float(errors.group(1)) if errors else 0.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--apis", type=int, default=2)
    parser.add_argument("--downloads", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "media").mkdir()
        make_big(root / "media" / "big.mp4")
        with MediaServer(root / "media") as media:
            # slow enough that every download outlasts the measurement
            urls = [media.slow_url("big.mp4", 50_000)] * args.downloads

            # embedded
            port = free_port()
            proc = serve(base_env(root / "embedded"), port, root / "embedded.log")
            try:
                api = f"http://127.0.0.1:{port}"
                job = start_downloads(api, urls)
                rows.append(
                    ("embedded, 1 process", wrk([f"{api}/api/v1/jobs/{job}"],
                                                args.connections, args.seconds))
                )  # fmt: skip
            finally:
                proc.terminate()
                proc.wait(20)

            # scaled
            redis, postgres = Redis(root / "redis"), Postgres()
            redis.start()
            postgres.start()
            procs: list[subprocess.Popen[bytes]] = []
            worker = None
            try:
                env = base_env(root / "scaled")
                env.update(
                    CLIPMILL_QUEUE="celery",
                    CLIPMILL_REDIS_URL=redis.url,
                    CLIPMILL_DATABASE_URL=postgres.new_database(),
                    CLIPMILL_WORKER_CONCURRENCY=str(args.downloads),
                )
                ports = [free_port() for _ in range(args.apis)]
                procs = [serve(env, p, root / f"api{p}.log") for p in ports]
                worker = Worker(env, root / "worker.log")
                job = start_downloads(f"http://127.0.0.1:{ports[0]}", urls)
                targets = [f"http://127.0.0.1:{p}/api/v1/jobs/{job}" for p in ports]
                rows.append(
                    (f"scaled, {args.apis} API processes", wrk(targets, args.connections,
                                                              args.seconds))
                )  # fmt: skip
            finally:
                if worker is not None:
                    worker.stop()
                for proc in procs:
                    proc.terminate()
                    proc.wait(20)
                redis.stop()
                postgres.stop()

    print(f"GET /api/v1/jobs/{{id}}, {args.connections} connections, {args.seconds} s, "
          f"{args.downloads} downloads running, {os.cpu_count()} cores")  # fmt: skip
    print(f"{'setup':<28} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, r in rows:
        print(
            f"{name:<28} {r['rps']:>8.0f} {r['p50']:>8.1f} {r['p90']:>8.1f} {r['p99']:>8.1f} "
            f"{r['errors']:>8.0f}"
        )


if __name__ == "__main__":
    main()
