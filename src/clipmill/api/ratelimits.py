"""The request rate limits at the HTTP edge (budgets themselves: `clipmill.accounts.limits`).

Every limited response carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset``; a refusal is 429 ``rate_limited`` with ``Retry-After``. Health probes and
metrics scrapes are never limited.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clipmill.accounts.limits import RateLimiter
from clipmill.accounts.principal import Principal
from clipmill.api.errors import error_response
from clipmill.config import Settings

UNLIMITED_PATHS = ("/healthz", "/api/v1/health", "/metrics", "/api/v1/metrics")
"""Probes and scrapes: an orchestrator's health checks must never be throttled."""

LOGIN_PATHS = frozenset(
    f"{prefix}/auth/{action}"
    for prefix in ("/api", "/api/v1")
    for action in ("login", "register", "refresh")
)


def install_rate_limits(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(RequestRateLimits)


class RequestRateLimits:
    """Spends the request budget (per IP, per caller) and the login budget (per IP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNLIMITED_PATHS):
            await self.app(scope, receive, send)
            return
        limiter: RateLimiter = scope["app"].state.container.limiter
        ip = (scope.get("client") or ("unknown", 0))[0]
        verdicts = [limiter.hit(limiter.requests, "requests", f"ip:{ip}")]
        principal = (scope.get("state") or {}).get("principal")
        if isinstance(principal, Principal):
            verdicts.append(limiter.hit(limiter.requests, "requests", principal.rate_key))
        if scope["path"] in LOGIN_PATHS and scope["method"] == "POST":
            verdicts.append(limiter.hit(limiter.login, "login", f"ip:{ip}"))
        refused = [v for v in verdicts if not v.allowed]
        shown = (
            max(refused, key=lambda v: v.reset_after)
            if refused
            else min(verdicts, key=lambda v: v.remaining)
        )
        headers = shown.headers()
        if refused:
            response = error_response(
                429,
                "rate_limited",
                f"Too many requests. Try again in {headers['Retry-After']} s.",
                headers=headers,
            )
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in headers.items():
                    out.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
