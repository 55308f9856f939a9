"""Parents as the API shows them: counts, items with their files, and the ZIP link.

``parent_detail`` is what `clipmill.api.details.job_detail` adds for the three parent kinds, so
``GET /api/v1/jobs/{id}`` shows the same as the playlist/channel/batch routes.
"""

from __future__ import annotations

from typing import Any

from clipmill.accounts.principal import Principal
from clipmill.api.presenters import error_out, file_out, jobs_out
from clipmill.bootstrap import Container
from clipmill.jobs.enums import JobKind
from clipmill.jobs.schemas import ChildCounts, FileRecord, JobRecord
from clipmill.jobs.views import FileOut, JobOut
from clipmill.playlists.schemas import FilterReport, ItemOut, ItemsPageOut, ParentOptions
from clipmill.playlists.service import AFTER_EXTRACTION_NOTE, ItemPage
from clipmill.playlists.zipstream import ZIP_CONTENT_TYPE

DETAIL_ITEMS = 200  # items shown inline in a parent's detail; the rest through items_url


def item_out(container: Container, job: JobRecord, files: list[FileRecord], base: str) -> ItemOut:
    return ItemOut(
        id=job.id,
        index=job.item_index,
        title=job.title,
        url=job.source_url,
        status=job.status,
        stage=job.stage,
        progress=round(job.progress, 2),
        error=error_out(job),
        files=[file_out(container, f, base) for f in files],
    )


def items_page_out(container: Container, page: ItemPage, base: str) -> ItemsPageOut:
    return ItemsPageOut(
        job_id=page.parent.id,
        counts=page.counts,
        items=[item_out(container, j, page.files[j.id], base) for j in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        has_more=page.offset + len(page.items) < page.total,
    )


def zip_link(container: Container, job: JobRecord, base: str) -> str:
    return f"{base}/files/zip/{container.archives.token(job.id)}"


class JobListItemOut(JobOut):
    """A job as the job list shows it. A parent carries what its card needs (counts, the ZIP
    link and archive) so a reloaded page shows the same card as the live one, without a
    request per parent; its items come from ``items_url`` when the card opens them."""

    counts: ChildCounts | None = None
    items_total: int | None = None
    items_url: str | None = None
    zip_url: str | None = None


def parent_summary(
    container: Container, job: JobRecord, counts: ChildCounts, base: str
) -> dict[str, Any]:
    """The parent fields both the list and the detail view show: counts, links, the archive."""
    body: dict[str, Any] = {
        "counts": counts.model_dump(),
        "items_total": counts.total,
        "items_url": f"{base}/api/v1/jobs/{job.id}/items",
    }
    if counts.completed:
        body["zip_url"] = zip_link(container, job, base)
        if ParentOptions.model_validate(job.options).zip:
            body["files"] = [
                f.model_dump(mode="json") for f in _files_with_zip(container, job, base)
            ]
    return body


def job_list_out(
    container: Container, owner: Principal, jobs: list[JobRecord], base: str
) -> list[JobListItemOut]:
    """A page of the job list: every job as ``job_out``, parents with their summary."""
    counts = container.jobs.child_counts_of(owner, [j.id for j in jobs if j.kind.is_parent])
    out = []
    for job, shown in zip(jobs, jobs_out(container, jobs, base), strict=True):
        fields = shown.model_dump()
        if job.id in counts:
            fields.update(parent_summary(container, job, counts[job.id], base))
        out.append(JobListItemOut.model_validate(fields))
    return out


def parent_detail(
    container: Container, owner: Principal, job: JobRecord, base: str
) -> dict[str, Any]:
    """The parent-only fields of a job's detail view (merged over ``job_out``)."""
    page = container.parents.items(owner, job.id, limit=DETAIL_ITEMS)
    options = ParentOptions.model_validate(job.options)
    body = parent_summary(container, job, page.counts, base)
    body["items"] = [
        i.model_dump(mode="json") for i in items_page_out(container, page, base).items
    ]
    body["items_total"] = page.total
    if job.kind is JobKind.CHANNEL:
        body["filters"] = channel_filters(options, job).model_dump(mode="json")
    if job.kind is JobKind.BATCH:
        body.update(
            accepted=len(options.urls),
            duplicates_removed=options.duplicates_removed,
            rejected=[r.model_dump(mode="json") for r in options.rejected],
        )
    return body


def _files_with_zip(container: Container, job: JobRecord, base: str) -> list[FileOut]:
    own = [file_out(container, f, base) for f in container.lifecycle.files_of([job.id])[job.id]]
    service = container.archives
    plan = service.plan_of(job)
    size = service.size(plan)
    if size is None:
        return own
    archive = FileOut(
        id=f"zip-{job.id}",
        name=plan.name,
        size=size,
        role="archive",
        content_type=ZIP_CONTENT_TYPE,
        url=zip_link(container, job, base),
    )
    return [*own, archive]


def channel_filters(options: ParentOptions, job: JobRecord) -> FilterReport:
    """What the channel job was asked to filter, and (once listed) what needed extraction."""
    found = ((job.result or {}).get("filters") or {}).get("after_extraction") or []
    return FilterReport(
        requested=options.filters.model_dump(mode="json", exclude_none=True),
        sort=options.sort,
        limit=options.limit,
        after_extraction=list(found),
        note=AFTER_EXTRACTION_NOTE if found else None,
    )
