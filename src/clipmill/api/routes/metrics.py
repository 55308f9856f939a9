"""GET /metrics in the Prometheus text format."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from clipmill.api.deps import ContainerDep

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(container: ContainerDep) -> Response:
    return Response(container.metrics.render(), media_type=CONTENT_TYPE_LATEST)
