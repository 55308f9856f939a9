"""``GET /api/v1/jobs/{id}``: a job of any kind, with the fields its kind adds."""

from __future__ import annotations

from typing import Any

from clipmill.accounts.principal import Principal
from clipmill.api.parents import parent_detail
from clipmill.api.presenters import job_out
from clipmill.api.shorts_view import shorts_detail
from clipmill.bootstrap import Container
from clipmill.jobs.enums import JobKind
from clipmill.jobs.schemas import JobRecord


def job_detail(container: Container, owner: Principal, job: JobRecord, base: str) -> dict[str, Any]:
    """A job as its owner sees it; parents and shorts jobs add their own parts."""
    body = job_out(container, job, base).model_dump(mode="json")
    if job.kind.is_parent:
        body.update(parent_detail(container, owner, job, base))
    elif job.kind in (JobKind.SHORTS, JobKind.TRANSCRIBE):
        body.update(shorts_detail(container, owner, job, base))
    return body
