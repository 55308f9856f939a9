"""One loopback download through clipmill's service vs the `yt-dlp` CLI on the same URL.

Both fetch the same generated file (and the same HLS playlist) from a local HTTP server on
127.0.0.1, several rounds each, interleaved so machine noise hits both alike. clipmill's time
runs from `POST /api/v1/download` to `completed` (job row, child process, storage move included);
yt-dlp's is the wall time of the CLI process. Prints a table with the ratio clipmill / yt-dlp.

    .venv/bin/python bench/download_vs_ytdlp.py [--rounds 5] [--size-mb 50]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient
from tests.support.containers import make_container
from tests.support.media_factory import make_media
from tests.support.media_server import MediaServer

from clipmill.api.app import create_app


def make_large(dst: Path, size_mb: int) -> None:
    """A real H.264/AAC mp4 of roughly `size_mb` MB: noise frames do not compress."""
    seconds = 10
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"nullsrc=size=640x360:rate=25:d={seconds},geq=random(1)*255:128:128",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            f"{size_mb * 8 // seconds}M",
            "-c:a",
            "aac",
            "-shortest",
            str(dst),
        ],
        check=True,
    )


def time_ytdlp(url: str, out: Path) -> float:
    ytdlp = Path(sys.executable).with_name("yt-dlp")
    start = time.perf_counter()
    subprocess.run(
        [str(ytdlp), "-q", "--no-progress", "-o", str(out / "%(id)s.%(ext)s"), url], check=True
    )
    return time.perf_counter() - start


def time_clipmill(client: TestClient, url: str) -> float:
    start = time.perf_counter()
    job_id = client.post("/api/v1/download", json={"url": url}).json()["id"]
    while True:
        body = client.get(f"/api/v1/download/{job_id}").json()
        if body["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    if body["status"] != "completed":
        raise SystemExit(f"clipmill download failed: {body['error']}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size-mb", type=int, default=50)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clipmill-bench-"))
    try:
        media = make_media(work / "media")
        make_large(media.root / "large.mp4", args.size_mb)
        size = (media.root / "large.mp4").stat().st_size
        with MediaServer(media.root) as server:
            cases = {
                f"direct mp4 ({size / 1e6:.0f} MB)": server.url("large.mp4"),
                "HLS master, best variant": server.url(media.rel(media.hls_master)),
            }
            rows = []
            for spare in (True, False):  # the shipped default first, then without the spare
                container = make_container(
                    work / f"data-{spare}",
                    None,
                    max_concurrent_jobs=1,
                    max_filesize=10 * size,
                    warm_spare=spare,
                )
                label = "spare on (default)" if spare else "spare off"
                with TestClient(create_app(container=container)) as client:
                    for name, url in cases.items():
                        ours, theirs = [], []
                        time_clipmill(client, url)  # warm-up: imports, first child start
                        for n in range(args.rounds):
                            out = work / f"ytdlp-{n}"
                            out.mkdir()
                            theirs.append(time_ytdlp(url, out))
                            ours.append(time_clipmill(client, url))
                            shutil.rmtree(out)
                        median_ours, median_theirs = (
                            statistics.median(ours),
                            statistics.median(theirs),
                        )
                        rows.append((name, label, median_ours, median_theirs))
                container.stop()
        print(
            f"\n{'case':<28} {'clipmill':<20} {'clipmill s':>10} {'yt-dlp CLI s':>13} {'ratio':>6}"
        )
        for name, label, ours_s, theirs_s in rows:
            ratio = ours_s / theirs_s
            print(f"{name:<28} {label:<20} {ours_s:>10.3f} {theirs_s:>13.3f} {ratio:>6.2f}")
        print(f"\nmedian of {args.rounds} rounds each, interleaved; ratio = clipmill / yt-dlp")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
