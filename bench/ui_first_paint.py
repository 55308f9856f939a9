"""First paint of clipmill's pages with a cold cache, beside a floor: a static page of the same
size served by Python's http.server, in the same browser, in the same run.

Each round opens a new browser context (empty cache, no service worker) per page, loads it and
reads the browser's own `first-contentful-paint` and the load time, plus the bytes and the largest
asset the page fetched. The floor shows what this machine and Chromium need for any page at all;
the ratio is clipmill / floor. The issue's goal: first paint of the paste page under 1 s, no
asset over 100 kB, nothing from another origin.

    .venv/bin/python bench/ui_first_paint.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP
from tests.support.containers import make_container

from clipmill.api.app import create_app

PAGES = ["/", "/shorts", "/history", "/account"]
FLOOR_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>floor</title>
</head><body><main><h1>Download</h1><p>A static page: the floor.</p></main></body></html>"""


def serve_clipmill(root: Path) -> tuple[str, Any]:
    container = make_container(root, auth="none", trusted_hosts=["127.0.0.1"])
    config = uvicorn.Config(create_app(container=container), host="127.0.0.1", port=0)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return f"http://127.0.0.1:{port}", (server, thread, container)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_floor(root: Path) -> tuple[str, http.server.ThreadingHTTPServer]:
    (root / "index.html").write_text(FLOOR_HTML)
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}", httpd


def measure(browser: Any, url: str, origin: str) -> dict[str, float]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sizes: list[int] = []
    foreign: list[str] = []

    def on_response(response: Any) -> None:
        if not response.url.startswith(origin):
            foreign.append(response.url)
            return
        with contextlib.suppress(Exception):  # a redirect or an aborted request has no body
            sizes.append(len(response.body()))

    page.on("response", on_response)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    timing = page.evaluate(
        """() => {
          const paint = performance.getEntriesByName('first-contentful-paint')[0];
          const nav = performance.getEntriesByType('navigation')[0];
          return {fcp: paint ? paint.startTime : NaN, load: nav ? nav.loadEventEnd : NaN};
        }"""
    )
    context.close()
    return {
        "fcp_ms": float(timing["fcp"]),
        "load_ms": float(timing["load"]),
        "bytes": float(sum(sizes)),
        "largest": float(max(sizes, default=0)),
        "requests": float(len(sizes)),
        "foreign": float(len(foreign)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "floor").mkdir()
        app_url, (server, thread, container) = serve_clipmill(root / "data")
        floor_url, httpd = serve_floor(root / "floor")
        results: dict[str, list[dict[str, float]]] = {p: [] for p in [*PAGES, "floor"]}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            measure(browser, floor_url + "/", floor_url)  # warm the browser process itself
            for _ in range(args.rounds):  # interleaved, so noise hits both alike
                results["floor"].append(measure(browser, floor_url + "/", floor_url))
                for path in PAGES:
                    results[path].append(measure(browser, app_url + path, app_url))
            browser.close()
        httpd.shutdown()
        server.should_exit = True
        thread.join(5)
        container.stop()

    floor = statistics.median(r["fcp_ms"] for r in results["floor"])
    print(f"{'page':<10} {'FCP ms (median)':>16} {'worst':>7} {'x floor':>8} "
          f"{'load ms':>8} {'bytes':>8} {'largest':>8} {'reqs':>5} {'foreign':>8}")  # fmt: skip
    for path, runs in results.items():
        fcp = [r["fcp_ms"] for r in runs]
        print(
            f"{path:<10} {statistics.median(fcp):>16.0f} {max(fcp):>7.0f} "
            f"{statistics.median(fcp) / floor:>8.2f} "
            f"{statistics.median(r['load_ms'] for r in runs):>8.0f} "
            f"{runs[0]['bytes']:>8.0f} {runs[0]['largest']:>8.0f} {runs[0]['requests']:>5.0f} "
            f"{runs[0]['foreign']:>8.0f}"
        )


if __name__ == "__main__":
    main()
