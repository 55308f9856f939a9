"""How long a cancel takes: clipmill's API cancel of a running download vs Ctrl-C of the yt-dlp CLI.

Both download the same generated file from a throttled local HTTP server on 127.0.0.1. clipmill's
time runs from `DELETE /api/v1/download/<id>` until the worker has let the job go (the child
process and its group are gone); yt-dlp's from SIGINT until the CLI process has exited. The
tests only check that a cancel ends the job; the timing lives here.

    .venv/bin/python bench/cancel_latency.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient
from tests.support.containers import make_container, wait_for
from tests.support.media_factory import make_media
from tests.support.media_server import MediaServer

from clipmill.api.app import create_app

RATE = 50_000  # bytes per second: the download is still running when the cancel comes


def clipmill_cancel(client: TestClient, url: str) -> float:
    container = client.app.state.container  # type: ignore[attr-defined]
    job_id = client.post("/api/v1/download", json={"url": url}).json()["id"]
    wait_for(
        lambda: (client.get(f"/api/v1/download/{job_id}").json()["progress"].get(
            "downloaded_bytes") or 0) > 20_000,
        60,
        0.05,
    )  # fmt: skip
    started = time.perf_counter()
    client.delete(f"/api/v1/download/{job_id}")
    wait_for(lambda: job_id not in container.queue.running(), 60, 0.005)
    return time.perf_counter() - started


def ytdlp_interrupt(url: str, folder: Path) -> float:
    proc = subprocess.Popen(
        [sys.executable, "-m", "yt_dlp", "--quiet", "--no-progress", "-o",
         str(folder / "%(id)s.%(ext)s"), url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    part = None
    deadline = time.monotonic() + 60
    while part is None and time.monotonic() < deadline:
        part = next((p for p in folder.glob("*.part") if p.stat().st_size > 20_000), None)
        time.sleep(0.02)
    started = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    proc.wait(60)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        media = make_media(root / "media")
        with MediaServer(media.root) as server:
            url = server.slow_url(media.mp4.name, RATE)
            container = make_container(root / "data")
            ours, theirs = [], []
            with TestClient(create_app(container=container)) as client:
                for n in range(args.rounds):
                    ours.append(clipmill_cancel(client, url))
                    folder = root / f"ytdlp{n}"
                    folder.mkdir()
                    theirs.append(ytdlp_interrupt(url, folder))
            container.stop()
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"{'':28}{'median s':>10}{'max s':>10}")
    print(f"{'clipmill API cancel':28}{a:>10.3f}{max(ours):>10.3f}")
    print(f"{'yt-dlp CLI Ctrl-C':28}{b:>10.3f}{max(theirs):>10.3f}")
    print(f"ratio clipmill / yt-dlp: {a / b:.2f}x over {args.rounds} rounds")


if __name__ == "__main__":
    main()
