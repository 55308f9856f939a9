"""End-to-end: the app served by uvicorn on 127.0.0.1, driven by Debian's Chromium via Playwright.

`make test` installs Chromium (``apt-get install chromium``); Playwright's own browser download
(``playwright install``) is never used. Each test gets a fresh browser context; ``served(...)``
starts an app with the settings a test asks for (auth mode, fake pipelines) on a free port
(``served_module`` for one a whole module shares). ``axe.check(page, "what")`` runs axe-core
over the page in light and dark mode and fails on any violation.
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
AXE_SCRIPT = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
"""Installed by `make axe` (npm ci from tests/e2e/axe/package-lock.json); never committed."""


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


class Apps:
    """Starts apps on free ports under one data root (``start``) and stops them all (``stop``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.running: list[tuple[uvicorn.Server, threading.Thread, Container]] = []

    def start(self, pipelines: dict[Any, Any] | None = None, **settings: Any) -> Served:
        port = _free_port()
        settings.setdefault("auth", "none")
        settings.setdefault("trusted_hosts", ["127.0.0.1", "localhost"])
        seams = {k: settings.pop(k) for k in ("fetcher", "transcribers", "renderer", "planner")
                 if k in settings}  # fmt: skip
        container = make_container(
            self.root / f"data{len(self.running)}", pipelines, port=port, **seams, **settings
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
        self.running.append((server, thread, container))
        return Served(f"http://127.0.0.1:{port}", container)

    def stop(self) -> None:
        for server, thread, container in self.running:
            server.should_exit = True
            thread.join(10)
            container.stop()
        self.running.clear()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``served(pipelines=..., **settings)`` -> a running app; stopped after the test."""
    apps = Apps(tmp_path)
    yield apps.start
    apps.stop()


@pytest.fixture(scope="module")
def served_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Served]]:
    """Like ``served``, for apps a whole module shares (started once, stopped after it)."""
    apps = Apps(tmp_path_factory.mktemp("apps"))
    yield apps.start
    apps.stop()


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
def expected_failures() -> list[str]:
    """Paths (substrings of a URL) a test means to fail with a 4xx/5xx, e.g. the metadata of
    a link that answers 404. Any other failed request the page makes fails the test: the
    browser logs each one in the console, and a page's own probes must not."""
    return []


def _console_error(msg: Any, expected: list[str]) -> str | None:
    if msg.type != "error":
        return None
    if "CSP" in msg.text:
        return str(msg.text)
    if "Failed to load resource" in msg.text:
        where = str((msg.location or {}).get("url") or "")
        if not any(path in where for path in expected):
            return f"{msg.text}: {where}"
    return None


@pytest.fixture
def page(browser: Any, expected_failures: list[str]) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_console(msg: Any) -> None:
        error = _console_error(msg, expected_failures)
        if error:
            errors.append(error)

    tab.on("console", on_console)
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


class Axe:
    """axe-core run inside a page, with the app's CSP left on.

    ``add_script_tag`` would insert an inline ``<script>``, which the CSP refuses (and the
    ``page`` fixture rightly fails on); ``page.evaluate`` of the source runs through the
    DevTools protocol, outside the page's CSP, so every page is checked exactly as served.
    """

    def __init__(self, source: str) -> None:
        self.source = source

    def violations(self, tab: Any) -> list[dict[str, Any]]:
        """What axe finds in ``tab`` as it is now: id, impact, help and the failing nodes."""
        if not tab.evaluate("() => typeof window.axe === 'object'"):
            tab.evaluate(self.source)
        found = tab.evaluate(
            """async () => {
                const result = await axe.run(document, { resultTypes: ["violations"] });
                return result.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html,
                                                 why: n.failureSummary })),
                }));
            }"""
        )
        return list(found)

    def check(self, tab: Any, state: str, schemes: tuple[str, ...] = ("light", "dark")) -> None:
        """Fail with every violation axe finds in ``tab`` in each colour scheme (any impact)."""
        report: list[str] = []
        for scheme in schemes:
            tab.emulate_media(color_scheme=scheme)
            for violation in self.violations(tab):
                report.append(
                    f"[{scheme}] {violation['id']} ({violation['impact']}): {violation['help']}"
                )
                report.extend(
                    f"    {node['target']}: {node['html'][:160]}\n      {node['why']}"
                    for node in violation["nodes"][:8]
                )
        tab.emulate_media(color_scheme="light")
        assert not report, f"axe-core on {state}:\n" + "\n".join(report)


@pytest.fixture(scope="session")
def axe() -> Axe:
    """The pinned axe-core (`make axe`); the tests that use it skip, saying why, without it."""
    if not AXE_SCRIPT.is_file():
        pytest.skip(f"no axe-core at {AXE_SCRIPT}: run `make axe` (npm ci in tests/e2e/axe)")
    return Axe(AXE_SCRIPT.read_text(encoding="utf-8"))
