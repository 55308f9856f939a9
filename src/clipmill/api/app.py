"""The app factory: `create_app(settings)` builds the app; the lifespan starts and stops it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from clipmill import __version__
from clipmill.api.errors import install_error_handlers
from clipmill.api.presenters import register_detail
from clipmill.api.routes import clipx, downloads, files, health, jobs, live, metrics
from clipmill.api.routes import playlists as playlist_routes
from clipmill.api.routes import shorts as shorts_routes
from clipmill.bootstrap import Container, bootstrap
from clipmill.config import Settings
from clipmill.downloads.service import DownloadService
from clipmill.jobs.enums import JobKind
from clipmill.observability.metrics import Metrics
from clipmill.playlists.presenters import register_parent_details
from clipmill.playlists.service import ParentService
from clipmill.playlists.zipstream import ArchiveService
from clipmill.shorts.job_service import ShortsService


def wire_services(container: Container) -> None:
    """Domain services the routes use, built once per container."""
    container.extras.setdefault("downloads", DownloadService(container.jobs, container.settings))
    if "metrics" not in container.extras:
        container.extras["metrics"] = Metrics(container.bus, container.queue)
    if "shorts" not in container.extras:
        container.extras["shorts"] = ShortsService(
            container.jobs, container.settings, container.extras["downloads"]
        )
    register_detail(JobKind.SHORTS, shorts_routes.shorts_detail)
    register_detail(JobKind.TRANSCRIBE, shorts_routes.shorts_detail)
    if "parents" not in container.extras:
        container.extras["parents"] = ParentService(
            container.jobs, container.extras["downloads"], container.settings
        )
    if "archives" not in container.extras:
        container.extras["archives"] = ArchiveService(
            container.jobs, container.storage, container.signer
        )
    register_parent_details()


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    """Build the API. Pass `container` to share one (tests); otherwise one is built at startup."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = container is None
        c = container or bootstrap(settings)
        wire_services(c)
        app.state.container = c
        if not c.started:
            c.start()
        try:
            yield
        finally:
            if own:
                c.stop()

    app = FastAPI(
        title="clipmill",
        version=__version__,
        description="Downloads from any site yt-dlp supports, and long videos into shorts.",
        docs_url=None,  # served below from local assets: a self-hosted box may have no internet
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    _install_offline_docs(app)
    app.include_router(shorts_routes.router)  # before jobs: POST /api/v1/jobs{,/upload}
    app.include_router(playlist_routes.router)
    for module in (health, metrics, jobs, downloads, files, clipx, live):
        app.include_router(module.router)
    return app


def _install_offline_docs(app: FastAPI) -> None:
    """Swagger UI at /api/docs with its JS and CSS from the fastapi-offline wheel, not a CDN."""
    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/api/docs/static", StaticFiles(directory=assets), name="docs-static")

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="clipmill API",
            swagger_js_url="/api/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/api/docs/static/swagger-ui.css",
            swagger_favicon_url="data:,",
        )
