"""Liveness and readiness."""

from __future__ import annotations

import shutil
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from clipmill import __version__
from clipmill.api.deps import ContainerDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/api/v1/health", summary="Readiness: database, workers, disk and tools")
def health(container: ContainerDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    ok = True
    try:
        with container.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "backend": container.engine.dialect.name}
    except Exception as exc:  # readiness reports, never raises
        ok = False
        checks["database"] = {"ok": False, "error": str(exc)}
    disk = shutil.disk_usage(container.settings.data_dir)
    checks["disk"] = {"ok": disk.free > 100 * 1024**2, "free_bytes": disk.free}
    ok = ok and checks["disk"]["ok"]
    checks["workers"] = {
        "ok": container.started,
        "running": len(container.queue.running()),
        "queued": container.queue.depth(),
        "concurrency": container.settings.max_concurrent_jobs,
    }
    try:
        from clipmill.media.ffmpeg import find_ffmpeg

        tools = find_ffmpeg()
        checks["ffmpeg"] = {"ok": True, "source": tools.source, "version": tools.version}
    except Exception as exc:
        ok = False
        checks["ffmpeg"] = {"ok": False, "error": str(exc)}
    body = {"status": "ok" if ok else "degraded", "version": __version__, "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503)
