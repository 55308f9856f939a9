"""GET /metrics (and /api/v1/metrics) in the Prometheus text format: a metrics token or an admin.

The path is public to the authentication middleware (a scraper has a token, not an account); the
check is here: ``Authorization: Bearer <CLIPMILL_METRICS_TOKEN>``, or an admin's credentials.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from clipmill.accounts.principal import LOCAL_USER, Principal
from clipmill.api.deps import ContainerDep
from clipmill.bootstrap import Container
from clipmill.config import AuthMode
from clipmill.errors import Forbidden, Unauthorized

router = APIRouter(tags=["health"])

_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "The metrics."},
}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response, responses=_DOC)
def metrics(request: Request, container: ContainerDep) -> Response:
    check_metrics_access(request, container)
    return Response(container.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/api/v1/metrics",
    summary="Prometheus metrics (the same as /metrics)",
    response_class=Response,
    responses=_DOC,
)
def metrics_v1(request: Request, container: ContainerDep) -> Response:
    return metrics(request, container)


def check_metrics_access(request: Request, container: Container) -> None:
    settings = container.settings
    token = settings.metrics_token
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token):
        return
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None and settings.auth is AuthMode.NONE:
        principal = LOCAL_USER
    if principal is None:
        raise Unauthorized(
            "Metrics need the metrics token (Authorization: Bearer ...) or an admin's credentials.",
            code="unauthorized",
        )
    if not principal.is_admin:
        raise Forbidden("Only an admin or the metrics token may read metrics.", code="admin_only")
