"""Memory of a 1,000-entry playlist job, against listing the playlist the eager ways.

A local server serves two kinds of 1,000-entry playlists: an RSS feed (yt-dlp's generic
extractor parses the whole document into a list itself) and a paged channel (10 entries a page,
read through a generator by the test-only ``FakeChannelIE``, the way yt-dlp reads YouTube and most
big sites). Every measurement runs in a fresh subprocess and reports the Python heap peak
(tracemalloc) over the measured work, and the process's peak RSS:

    clipmill      a real playlist job: the parent pipeline lists lazily and creates one child
                  download job per entry (the download pipeline is a no-op, so only the job
                  machinery is measured) until the parent completes
    eager-flat    yt-dlp ``extract_info(extract_flat="in_playlist")``: all N flat entries held at
                  once (what most tools do before queuing items)
    eager-full    yt-dlp ``extract_info()`` without flat extraction: every item resolved (one
                  request each) into a full info dict, all held at once

Usage::

    .venv/bin/python bench/playlist_memory.py [--entries 1000] [--sizes 10,250,500,1000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

MiB = 1024 * 1024
SOURCES = ("feed", "channel")
VARIANTS = ("clipmill", "eager-flat", "eager-full")


def _serve(source: str, count: int, root: Path) -> tuple[Any, str]:
    from tests.support.feeds import FakeVideo, FeedSite, make_tiny_mp4
    from tests.support.media_server import MediaServer

    root.mkdir(parents=True, exist_ok=True)
    make_tiny_mp4(root / "tiny.mp4")
    server = MediaServer(root).start()
    site = FeedSite(root, server.base_url)
    if source == "feed":
        return server, site.numbered_feed("bench", count, real_media=True)
    videos = [
        FakeVideo(f"v{n}", f"Video {n}", 60 + n, date(2024, 1, 1) + timedelta(days=n), n)
        for n in range(1, count + 1)
    ]
    return server, site.channel("bench", videos)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_clipmill(url: str, data_dir: Path) -> dict[str, Any]:
    """A playlist job from request to completed parent, with a no-op download pipeline."""
    from tests.support.feeds import TEST_EXTRACTORS

    from clipmill.accounts.principal import LOCAL_USER
    from clipmill.bootstrap import bootstrap
    from clipmill.config import Settings
    from clipmill.jobs.enums import JobKind
    from clipmill.pipeline.context import JobContext
    from clipmill.playlists.schemas import PlaylistDownloadRequest

    def no_download(ctx: JobContext) -> None:
        """Only the job machinery is measured, not yt-dlp downloading."""

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, allow_private_networks=True, secret_key="bench",
        max_concurrent_jobs=3, sweep_interval_seconds=3600,
    )  # fmt: skip
    c = bootstrap(settings, pipelines={JobKind.DOWNLOAD: no_download}, extractors=TEST_EXTRACTORS)
    service = c.parents
    c.start()
    tracemalloc.start()
    started = time.perf_counter()
    job = service.start_playlist(LOCAL_USER, PlaylistDownloadRequest(url=url))
    while not c.jobs.load(job.id).status.is_terminal:
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    status = c.jobs.load(job.id).status.value
    items = c.jobs.child_counts(LOCAL_USER, job.id).completed
    c.stop()
    return {"status": status, "items": items, "seconds": seconds, "heap_peak_mib": peak / MiB}


def run_eager(url: str, *, flat: bool) -> dict[str, Any]:
    """yt-dlp as most front-ends call it: the whole playlist extracted, then queued."""
    from tests.support.feeds import TEST_EXTRACTORS
    from yt_dlp import YoutubeDL

    params: dict[str, Any] = {"quiet": True, "no_warnings": True, "skip_download": True}
    if flat:
        params["extract_flat"] = "in_playlist"
    tracemalloc.start()
    started = time.perf_counter()
    with YoutubeDL(params, auto_init=False) as ydl:
        for extractor in TEST_EXTRACTORS:
            ydl.add_info_extractor(extractor())
        ydl.add_default_info_extractors()
        info = ydl.extract_info(url, download=False)
        entries = list(info.get("entries") or [])
        _, peak = tracemalloc.get_traced_memory()
    seconds = time.perf_counter() - started
    tracemalloc.stop()
    return {"status": "completed", "items": len(entries), "seconds": seconds,
            "heap_peak_mib": peak / MiB}  # fmt: skip


def child(variant: str, source: str, entries: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server, url = _serve(source, entries, Path(tmp) / "site")
        try:
            if variant == "clipmill":
                result = run_clipmill(url, Path(tmp) / "data")
            else:
                result = run_eager(url, flat=variant == "eager-flat")
        finally:
            server.stop()
    result.update(variant=variant, source=source, entries=entries, rss_peak_mib=_peak_rss_mib())
    print(json.dumps(result))


def measure(variant: str, source: str, entries: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", variant, "--source", source,
           "--entries", str(entries)]  # fmt: skip
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--sizes", default="10,250,500,1000", help="clipmill job sizes")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--source", default="feed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.source, args.entries)
        return

    n = args.entries
    print(f"\n{n}-entry playlists, every row in a fresh process\n")
    print("| source | variant | items | seconds | heap peak MiB | vs clipmill | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    for source in SOURCES:
        rows = [measure(variant, source, n) for variant in VARIANTS]
        base = rows[0]["heap_peak_mib"]
        for r in rows:
            print(
                f"| {source} | {r['variant']} | {r['items']} | {r['seconds']:.1f} | "
                f"{r['heap_peak_mib']:.1f} | {r['heap_peak_mib'] / base:.2f} | "
                f"{r['rss_peak_mib']:.0f} |"
            )
    sizes = [int(s) for s in args.sizes.split(",")]
    print("\nclipmill playlist job by size: heap peak MiB (peak RSS MiB)\n")
    print("| source | " + " | ".join(f"{s} items" for s in sizes) + " | MiB per 100 items |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for source in SOURCES:
        rows = [measure("clipmill", source, size) for size in sizes]
        slope = (rows[-1]["heap_peak_mib"] - rows[0]["heap_peak_mib"]) / (sizes[-1] - sizes[0])
        cells = " | ".join(f"{r['heap_peak_mib']:.1f} ({r['rss_peak_mib']:.0f})" for r in rows)
        print(f"| {source} | {cells} | {100 * slope:.2f} |")


if __name__ == "__main__":
    main()
