"""GET /api/v1/stats: the caller's figures and quotas; an admin also gets the service's."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from clipmill.api.deps import ContainerDep, PrincipalDep
from clipmill.jobs.stats import Figures

router = APIRouter(prefix="/api/v1", tags=["stats"])


class QuotaOut(BaseModel):
    jobs_waiting: int
    jobs_running: int
    bytes_stored: int
    max_jobs_waiting: int | None = Field(description="None: no quota.")
    max_jobs_running: int | None = Field(description="None: no quota.")
    max_bytes_stored: int | None = Field(description="None: no quota.")


class ServiceOut(Figures):
    users: int
    jobs_running_now: int
    jobs_in_queue: int


class StatsOut(BaseModel):
    user: Figures = Field(description="Your jobs and files.")
    quota: QuotaOut = Field(description="What you hold against your quotas.")
    service: ServiceOut | None = Field(None, description="Everyone's (admins only).")


@router.get("/stats", response_model=StatsOut, summary="Your figures, and the service's (admin)")
def stats(container: ContainerDep, owner: PrincipalDep) -> StatsOut:
    settings = container.settings
    usage = container.quotas.usage(owner.user_id)
    service = None
    if owner.is_admin:
        everyone = container.stats.figures()
        service = ServiceOut(
            **everyone.model_dump(),
            users=container.stats.users(),
            jobs_running_now=len(container.queue.running()),
            jobs_in_queue=container.queue.depth(),
        )
    return StatsOut(
        user=container.stats.figures(owner.user_id),
        quota=QuotaOut(
            **usage,
            max_jobs_waiting=settings.quota_queued_jobs or None,
            max_jobs_running=settings.quota_concurrent_jobs or None,
            max_bytes_stored=settings.quota_storage_bytes or None,
        ),
        service=service,
    )
