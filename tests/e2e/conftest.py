"""End-to-end: the app served by uvicorn on 127.0.0.1, driven by Debian's Chromium via Playwright.

`make test` installs Chromium (``apt-get install chromium``); Playwright's own browser download
(``playwright install``) is never used. Each test gets a fresh browser context; ``served(...)``
starts an app with the settings a test asks for (auth mode, fake pipelines) on a free port.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from clipmill.api.app import create_app
from clipmill.bootstrap import Container
from tests.support.containers import make_container

CHROMIUM = os.environ.get("CLIPMILL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--autoplay-policy=no-user-gesture-required",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class Served:
    """An app on a real port, and the container behind it."""

    url: str
    container: Container

    def at(self, path: str) -> str:
        return self.url + path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``served(pipelines=..., **settings)`` -> a running app; stopped after the test."""
    running: list[tuple[uvicorn.Server, threading.Thread, Container]] = []

    def start(pipelines: dict[Any, Any] | None = None, **settings: Any) -> Served:
        port = _free_port()
        settings.setdefault("auth", "none")
        settings.setdefault("trusted_hosts", ["127.0.0.1", "localhost"])
        seams = {k: settings.pop(k) for k in ("fetcher", "transcribers", "renderer", "planner")
                 if k in settings}  # fmt: skip
        container = make_container(
            tmp_path / f"data{len(running)}", pipelines, port=port, **seams, **settings
        )
        app = create_app(container=container)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="auto")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the app did not start")
            time.sleep(0.02)
        running.append((server, thread, container))
        return Served(f"http://127.0.0.1:{port}", container)

    yield start
    for server, thread, container in running:
        server.should_exit = True
        thread.join(10)
        container.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip(f"no Chromium at {CHROMIUM} (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" and "CSP" in msg.text else None,
    )
    yield tab
    context.close()
    assert not errors, f"the page raised: {errors}"


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(tab: Any, name: str) -> None:
    """Save a screenshot for the README (docs/screenshots/<name>.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
