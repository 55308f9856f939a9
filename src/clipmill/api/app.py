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
from clipmill.api.auth import install_auth
from clipmill.api.edge import install_edge
from clipmill.api.errors import install_error_handlers
from clipmill.api.guards import OptionsFromRoutes, RequestLimits
from clipmill.api.openapi import install_openapi
from clipmill.api.ratelimits import install_rate_limits
from clipmill.api.routes import (
    auth,
    clipx,
    cookies,
    downloads,
    files,
    health,
    jobs,
    live,
    metrics,
    webhooks,
)
from clipmill.api.routes import playlists as playlist_routes
from clipmill.api.routes import shorts as shorts_routes
from clipmill.bootstrap import Container, bootstrap
from clipmill.config import Settings


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    """Build the API. Pass `container` to share one (tests); otherwise one is built at startup."""
    settings = container.settings if container is not None else (settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = container is None
        c = container or bootstrap(settings)
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
    for module in (health, metrics, auth, cookies, webhooks, jobs, downloads, files, clipx, live):
        app.include_router(module.router)
    install_openapi(app)
    # middlewares run outermost-last-added: limits, then the edge (hosts, headers, CORS, Origin),
    # then authentication, then rate limits by caller
    install_rate_limits(app, settings)
    install_auth(app)
    install_edge(app, settings)
    app.add_middleware(
        OptionsFromRoutes,
        spec=app.openapi,
        extra={
            "/api/docs": {"GET"},
            "/api/docs/static/*": {"GET"},
            "/api/openapi.json": {"GET"},
            "/ws/{job_id}": {"GET"},
        },
    )
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        max_header_bytes=settings.max_header_bytes,
    )
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
