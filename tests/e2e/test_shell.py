"""The shell every page shares: served, no inline script, nothing from another origin, PWA."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.e2e.conftest import Served

PAGES = ["/", "/history", "/shorts", "/account"]


def test_every_page_loads_with_only_same_origin_requests(
    served: Callable[..., Served], page: Any
) -> None:
    app = served()
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url)
            if not request.url.startswith((app.url, "data:", "blob:"))
            else None
        ),
    )
    for path in PAGES:
        response = page.goto(app.at(path))
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert page.locator("main h1, main [data-ready]").count() >= 0
    assert not foreign, foreign


def test_pages_hold_no_inline_script_and_assets_are_small(served: Callable[..., Served]) -> None:
    app = served()
    with httpx.Client(base_url=app.url) as client:
        for path in PAGES:
            html = client.get(path).text
            assert "<script>" not in html and " onclick=" not in html and "javascript:" not in html
            assert " style=" not in html, path  # the CSP allows no inline styles either
        for path in ("/static/css/app.css", "/static/js/api.js", "/static/js/ui.js", "/sw.js"):
            response = client.get(path)
            assert response.status_code == 200 and len(response.content) < 100_000, path


def test_installable_with_a_share_target(served: Callable[..., Served]) -> None:
    app = served()
    with httpx.Client(base_url=app.url) as client:
        manifest = client.get("/manifest.webmanifest").json()
        assert manifest["share_target"]["action"] == "/share"
        assert {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}
        for icon in manifest["icons"]:
            assert client.get(icon["src"]).status_code == 200
        shared = client.get("/share", params={"text": "look at this https://example.com/watch?v=1"})
        assert shared.status_code == 303
        assert shared.headers["location"] == "/?url=https%3A%2F%2Fexample.com%2Fwatch%3Fv%3D1"
