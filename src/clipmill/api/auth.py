"""Authentication at the edge: one middleware finds the caller of every request.

Deny by default: with ``auth`` ``apikey`` or ``users`` every path that is not on `PUBLIC_PATHS`
needs a credential, whatever its route does, so a route someone forgets to guard stays closed.
The caller found is put in ``scope["state"]`` (``principal``: a `Principal`; ``auth``: the
`Authenticated` with the token id logout needs), which is where ``request.state`` reads.

Credentials, in the order they are looked for:

- ``?ticket=`` on the live routes only (``/ws/...``, ``/api/v1/jobs/{id}/events``): a
  single-use ticket from ``POST /api/v1/auth/ticket``. Browsers cannot set headers on a
  WebSocket or an EventSource; a long-lived secret (JWT, API key) in a URL is never accepted.
- ``X-API-Key: cm_...``, or ``Authorization: Bearer <value>`` (``cm_...`` is a key, else a JWT).
- the ``clipmill_session`` cookie (an access token, HttpOnly, set at login).
"""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from clipmill.accounts.keys import MAX_KEY_CHARS, looks_like_key
from clipmill.accounts.principal import LOCAL_USER
from clipmill.accounts.schemas import Authenticated, CredentialKind
from clipmill.api.errors import error_response
from clipmill.config import AuthMode
from clipmill.errors import Unauthorized
from clipmill.web.routes import PAGES

SESSION_COOKIE = "clipmill_session"

#: paths anyone may call: health, signed file links (the link is the credential), the API
#: docs, metrics (they check their own token), the way in (register, login, refresh), the web UI
PUBLIC_PATHS: tuple[str, ...] = (
    *PAGES,
    "/healthz",
    "/api/v1/health",
    "/files/*",
    "/api/docs",
    "/api/docs/init.js",
    "/api/docs/static/*",
    "/api/openapi.json",
    "/metrics",
    "/api/v1/metrics",
    *(
        f"{prefix}/{name}"
        for prefix in ("/api/auth", "/api/v1/auth")
        for name in ("register", "login", "refresh")
    ),
)
#: where ``?ticket=`` is read (nowhere else)
TICKET_PATHS = re.compile(r"^(/ws/[^/]+|/api/v1/jobs/[^/]+/events)$")


def is_public(path: str) -> bool:
    """Whether ``path`` is served without a credential (see `PUBLIC_PATHS`)."""
    for pattern in PUBLIC_PATHS:
        if pattern.endswith("/*"):
            if path.startswith(pattern[:-1]) and len(path) > len(pattern) - 1:
                return True
        elif path == pattern:
            return True
    return False


class AuthMiddleware:
    """Pure ASGI, for http and websocket scopes; DB work runs in the threadpool."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        container = getattr(scope["app"].state, "container", None) if "app" in scope else None
        path: str = scope.get("path", "")
        if container is None:  # not started: fail closed
            await _refuse(scope, receive, send, 503, "unavailable", "The service is starting.")
            return
        if container.settings.auth is AuthMode.NONE:
            state["principal"] = LOCAL_USER
            await self.app(scope, receive, send)
            return
        public = is_public(path)
        try:
            found = _credential(scope, path)
            auth: Authenticated | None = None
            if found is not None:
                kind, value = found
                auth = await run_in_threadpool(container.accounts.authenticate, kind, value)
        except Unauthorized as exc:
            if not public:  # a stale cookie must not lock anyone out of the login page
                await _refuse(scope, receive, send, 401, exc.code, exc.message)
                return
            auth = None
        if auth is None and not public:
            await _refuse(scope, receive, send, 401, "unauthorized", "Sign in or send an API key.")
            return
        if auth is not None:
            state["principal"] = auth.principal
            state["auth"] = auth
        await self.app(scope, receive, send)


def _credential(scope: Scope, path: str) -> tuple[CredentialKind, str] | None:
    """The one credential a request carries, or None; two different ones are refused."""
    if TICKET_PATHS.match(path):
        tickets = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("ticket")
        if tickets:
            if len(tickets) > 1:
                raise _malformed("Send one ticket.")
            return CredentialKind.TICKET, tickets[0]
    headers: dict[str, list[str]] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        if name in ("authorization", "x-api-key", "cookie"):
            headers.setdefault(name, []).append(raw_value.decode("latin-1"))
    sent: list[tuple[CredentialKind, str]] = []
    for value in headers.get("authorization", []):
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise _malformed("Send 'Authorization: Bearer <token or API key>'.")
        kind = CredentialKind.API_KEY if looks_like_key(token) else CredentialKind.BEARER
        sent.append((kind, token))
    for value in headers.get("x-api-key", []):
        key = value.strip()
        if not looks_like_key(key) or len(key) > MAX_KEY_CHARS:
            raise Unauthorized("The API key is not valid.", code="invalid_api_key")
        sent.append((CredentialKind.API_KEY, key))
    if len(sent) > 1:
        raise _malformed("Send one credential, not several.")
    if sent:
        return sent[0]
    cookie = _session_cookie(headers.get("cookie", []))
    return (CredentialKind.COOKIE, cookie) if cookie else None


def _session_cookie(values: list[str]) -> str | None:
    for value in values:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(value)
        except Exception:  # a malformed Cookie header is no credential
            continue
        if SESSION_COOKIE in jar and jar[SESSION_COOKIE].value:
            return jar[SESSION_COOKIE].value
    return None


def _malformed(message: str) -> Unauthorized:
    return Unauthorized(message, code="invalid_token")


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str
) -> None:
    if scope["type"] == "websocket":
        # closing before accept refuses the handshake; 4401 tells a client why
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 4401 if status == 401 else 1013})
        return
    headers: dict[str, Any] = {}
    if status == 401:
        error = "invalid_token" if code != "unauthorized" else None
        headers["WWW-Authenticate"] = f'Bearer error="{error}"' if error else "Bearer"
    await error_response(status, code, message, headers=headers)(scope, receive, send)


def install_auth(app: FastAPI) -> None:
    """Add the authentication middleware (see the module docstring)."""
    app.add_middleware(AuthMiddleware)
