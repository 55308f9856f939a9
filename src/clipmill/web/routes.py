"""The pages. Each is a shell: data comes from the JSON API through the page's ES module, with
the browser's own credentials (the session cookie set at sign-in), so a page never holds more
than its visitor may see."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from clipmill import __version__
from clipmill.api.deps import ContainerDep

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

router = APIRouter(include_in_schema=False)

#: paths of the UI that anyone may load (the shells hold no data); see `clipmill.api.auth`
PAGES = (
    "/",
    "/history",
    "/shorts",
    "/shorts/*",
    "/account",
    "/share",
    "/manifest.webmanifest",
    "/sw.js",
    "/static/*",
)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)


def _session_cookie() -> str:
    from clipmill.api.auth import SESSION_COOKIE  # api.auth imports this module's PAGES

    return SESSION_COOKIE


def _page(request: Request, container: Any, template: str, **context: Any) -> HTMLResponse:
    settings = container.settings
    return templates.TemplateResponse(
        request,
        template,
        {
            "version": __version__,
            "auth_mode": settings.auth.value,
            "registration_open": settings.registration_open,
            "page": template.removesuffix(".html"),
            # a hint only (the cookie is HttpOnly and may have expired): lets a signed-out
            # page skip requests that could only answer 401
            "has_session": bool(request.cookies.get(_session_cookie())),
            **context,
        },
    )


@router.get("/")
def download_page(request: Request, container: ContainerDep) -> HTMLResponse:
    return _page(request, container, "download.html")


@router.get("/history")
def history_page(request: Request, container: ContainerDep) -> HTMLResponse:
    return _page(request, container, "history.html")


@router.get("/shorts")
def shorts_page(request: Request, container: ContainerDep) -> HTMLResponse:
    return _page(request, container, "shorts.html")


@router.get("/shorts/{job_id}")
def shorts_job_page(request: Request, container: ContainerDep, job_id: str) -> HTMLResponse:
    return _page(request, container, "shorts_job.html", job_id=job_id)


@router.get("/shorts/{job_id}/clips/{clip_id}")
def clip_editor_page(
    request: Request, container: ContainerDep, job_id: str, clip_id: str
) -> HTMLResponse:
    return _page(request, container, "clip_editor.html", job_id=job_id, clip_id=clip_id)


@router.get("/account")
def account_page(request: Request, container: ContainerDep) -> HTMLResponse:
    return _page(request, container, "account.html")


@router.get("/share")
def share_target(
    url: str | None = None, text: str | None = None, title: str | None = None
) -> RedirectResponse:
    """The PWA share target: "share to clipmill" opens the paste bar with the link.

    Apps share a link as ``url`` or inside ``text`` (Android puts it in ``text``)."""
    shared = url or _first_link(text or "") or ""
    query = urlencode({"url": shared}) if shared else ""
    return RedirectResponse(f"/?{query}" if query else "/", status_code=303)


def _first_link(text: str) -> str | None:
    for word in text.split():
        if word.startswith(("http://", "https://")):
            return word
    return None


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    return FileResponse(STATIC / "manifest.webmanifest", media_type="application/manifest+json")


@router.get("/sw.js")
def service_worker() -> Response:
    """At the root, so the worker's scope is the whole UI."""
    return FileResponse(
        STATIC / "js" / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )
