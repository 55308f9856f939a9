"""The web edge: trusted hosts, security headers, CORS, compression and the Origin check.

Each piece is a small ASGI middleware (or Starlette's own) added by `install_edge`. They run
before authentication, so a forged ``Host`` or a cross-site form post is refused before any
credential or database is looked at.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clipmill.api.errors import error_response
from clipmill.config import Settings

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""No inline script anywhere. Swagger UI sets inline styles: /api/docs alone relaxes style-src."""

DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

BASE_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)
HSTS = b"max-age=63072000; includeSubDomains"


def install_edge(app: FastAPI, settings: Settings) -> None:
    """Add the edge middlewares; the last added runs first (outermost)."""
    allowed = allowed_origins(settings)
    app.add_middleware(OriginCheck, allowed=allowed)
    app.add_middleware(CompressJson)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "Idempotency-Key"],
            expose_headers=[
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
                "RateLimit-Policy",
            ],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders, hsts=_is_https(settings.base_url))
    app.add_middleware(TrustedHosts, hosts=trusted_hosts(settings))


# -- hosts -------------------------------------------------------------------------------------
def trusted_hosts(settings: Settings) -> list[str]:
    """The Host headers served: the operator's list, else the base URL's host, the bind address
    and the loopback names. ``*`` in the list accepts any (not advised)."""
    if settings.trusted_hosts:
        return [h.lower() for h in settings.trusted_hosts]
    hosts = list(LOOPBACK_HOSTS)
    if settings.base_url:
        hosts.append((urlsplit(settings.base_url).hostname or "").lower())
    if settings.host not in ("0.0.0.0", "::", ""):
        hosts.append(settings.host.lower())
    return [h for h in dict.fromkeys(hosts) if h]


def host_allowed(host_header: str, hosts: Iterable[str]) -> bool:
    host = _strip_port(host_header.strip().lower())
    for pattern in hosts:
        if pattern == "*" or host == pattern.strip("[]") or host == pattern:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
    return False


def _strip_port(host: str) -> str:
    if host.startswith("["):  # [::1]:8000
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


class TrustedHosts:
    """Refuse a request whose Host is not ours (signed links are built from it otherwise)."""

    def __init__(self, app: ASGIApp, hosts: list[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        if host_allowed(host, self.hosts):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4400})
            return
        response = error_response(
            400,
            "untrusted_host",
            "This Host is not served here. Set CLIPMILL_BASE_URL or CLIPMILL_TRUSTED_HOSTS to "
            "the name clients use.",
        )
        await response(scope, receive, send)


# -- headers -----------------------------------------------------------------------------------
def _is_https(url: str | None) -> bool:
    return bool(url) and urlsplit(url or "").scheme == "https"


class SecurityHeaders:
    """The same protective headers on every response, errors included."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        csp = (DOCS_CSP if path.startswith("/api/docs") else CSP).encode()
        https = self.hsts or scope.get("scheme") == "https"
        is_api = path.startswith("/api/") and not path.startswith("/api/docs")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in BASE_HEADERS:
                    headers.setdefault(name.decode(), value.decode())
                headers.setdefault("content-security-policy", csp.decode())
                if https:
                    headers.setdefault("strict-transport-security", HSTS.decode())
                if is_api:
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


# -- compression -------------------------------------------------------------------------------
class CompressJson:
    """GZip for API responses; file downloads (ranges, media) pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024, compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


# -- cross-site requests -----------------------------------------------------------------------
def allowed_origins(settings: Settings) -> frozenset[str]:
    """Origins whose browser pages may change state here besides the page's own origin."""
    origins = {o.rstrip("/").lower() for o in settings.cors_origins}
    if settings.base_url:
        parts = urlsplit(settings.base_url)
        origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return frozenset(origins)


def _origin_of(scope: Scope, headers: Headers) -> str:
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme"))
    return f"{scheme}://{headers.get('host', '')}".lower()


class OriginCheck:
    """A browser's cross-site request may not change anything.

    A state-changing request (or a WebSocket handshake) that a browser sends on its own,
    carrying ambient authority (a session cookie, or merely the network position of a local
    service with ``auth=none``), is refused when its ``Origin`` is neither this service's nor on
    the CORS allowlist, or when the browser marks it cross-site. Requests that carry an
    explicit ``Authorization`` or ``X-API-Key`` header are not ambient: a page cannot add those
    cross-site without a CORS preflight, which only allowlisted origins pass.
    """

    def __init__(self, app: ASGIApp, *, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or (
            kind == "http" and scope["method"] not in STATE_CHANGING
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self._allowed(scope, headers):
            await self.app(scope, receive, send)
            return
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 4403})
            return
        response = error_response(
            403,
            "cross_site_request",
            "A page on another site may not change anything here. Call the API with an API "
            "key, or add that site to CLIPMILL_CORS_ORIGINS.",
        )
        await response(scope, receive, send)

    def _allowed(self, scope: Scope, headers: Headers) -> bool:
        if "authorization" in headers or "x-api-key" in headers:
            return True
        origin = headers.get("origin")
        if origin is None:
            # browsers send Origin on every cross-site POST; Sec-Fetch-Site is the backstop
            return headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
        origin = origin.rstrip("/").lower()
        return origin == _origin_of(scope, headers) or origin in self.allowed
