"""The app factory: `create_app(settings)` builds the app; the lifespan starts and stops it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
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
    preferences,
    retention,
    stats,
    thumbnails,
    webhooks,
)
from clipmill.api.routes import playlists as playlist_routes
from clipmill.api.routes import shorts as shorts_routes
from clipmill.bootstrap import Container, bootstrap
from clipmill.config import Settings
from clipmill.web import routes as web


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
    routers = (health, metrics, stats, auth, cookies, webhooks, thumbnails)
    for module in (*routers, preferences, jobs, retention, downloads, files, clipx, live):
        app.include_router(module.router)
    app.include_router(web.router)  # the UI's pages, outside the OpenAPI description
    app.mount("/static", web.static_files(), name="static")
    install_openapi(app)
    # middlewares run outermost-last-added: limits, then the edge (hosts, headers, CORS, Origin),
    # then authentication, then rate limits by caller
    install_rate_limits(app, settings)
    install_auth(app)
    app.add_middleware(
        OptionsFromRoutes,
        spec=app.openapi,
        extra={
            "/api/docs": {"GET"},
            "/api/docs/init.js": {"GET"},
            "/api/docs/static/*": {"GET"},
            "/api/openapi.json": {"GET"},
            "/ws/{job_id}": {"GET"},
        },
    )
    install_edge(app, settings)
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        max_header_bytes=settings.max_header_bytes,
    )
    return app


def _install_offline_docs(app: FastAPI) -> None:
    """Swagger UI at /api/docs with its JS and CSS from the fastapi-offline wheel, not a CDN.

    The page has no inline script (the CSP forbids it): Swagger UI starts from /api/docs/init.js.
    """
    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/api/docs/static", StaticFiles(directory=assets), name="docs-static")

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE)

    @app.get("/api/docs/init.js", include_in_schema=False)
    def docs_init() -> Response:
        return Response(DOCS_INIT, media_type="text/javascript")


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>clipmill API</title>
<link rel="stylesheet" href="/api/docs/static/swagger-ui.css">
<link rel="icon" href="data:,">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/static/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
"""

DOCS_INIT = """window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""
