"""JobService: jobs as their owner sees them. Create, read, list, cancel, retry.

Every method takes the acting `Principal` and sees only that owner's jobs: the one owner filter
is `JobRepository.owned`, so a stranger's job is a 404, never a 403. State changes are the
`JobLifecycle`'s; this service authorizes them and checks what only a user may do (a user
retries only a failed or cancelled job; moving a running job back to the queue is recovery's).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from clipmill.accounts.principal import Principal
from clipmill.errors import InvalidTransition
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.jobs.lifecycle import RETRYABLE, JobLifecycle, counts_of
from clipmill.jobs.schemas import (
    ChildCounts,
    EventRecord,
    FileRecord,
    JobPage,
    JobRecord,
    LogRecord,
    NewFile,
)
from clipmill.jobs.statemachine import check_transition
from clipmill.jobs.store import JobStore

WEBHOOK_OPTION = "webhook_url"
"""The key of ``job.options`` that holds the job's own webhook address."""

CreateCheck = Callable[[Principal, JobKind, Mapping[str, Any]], None]


class JobService:
    def __init__(self, store: JobStore, lifecycle: JobLifecycle, *, jobs_dir: Path) -> None:
        self._store = store
        self._lifecycle = lifecycle
        self._jobs_dir = jobs_dir
        self._checks: list[CreateCheck] = []

    def add_check(self, check: CreateCheck) -> None:
        """Run ``check(owner, kind, options)`` before every new job; it raises to refuse."""
        self._checks.append(check)

    def create(
        self,
        owner: Principal,
        kind: JobKind,
        options: dict[str, Any],
        *,
        source_url: str | None = None,
        title: str | None = None,
        priority: int = 0,
        job_id: str | None = None,
        files: Sequence[NewFile] = (),
        enqueue: bool = True,
        webhook_url: str | None = None,
    ) -> JobRecord:
        """Store a new job of ``owner``'s (with ``files`` it starts with) and queue it, unless
        ``enqueue`` is off (it then waits ``pending``).

        Every check registered with `add_check` runs first (quotas, the owner's cookie file, the
        webhook address): any of them may refuse the job before it exists.
        """
        if webhook_url is not None:
            options = {**options, WEBHOOK_OPTION: webhook_url}
        for check in self._checks:
            check(owner, kind, options)
        return self._lifecycle.create(
            owner.user_id,
            kind,
            options,
            source_url=source_url,
            title=title,
            priority=priority,
            job_id=job_id,
            files=files,
            enqueue=enqueue,
        )

    def get(self, owner: Principal, job_id: str) -> JobRecord:
        with self._store.tx() as (_s, repo):
            return JobRecord.model_validate(repo.get_owned(owner, job_id))

    def list_jobs(
        self,
        owner: Principal,
        *,
        statuses: Iterable[JobStatus] = (),
        kinds: Iterable[JobKind] = (),
        parent_id: str | None = None,
        top_level: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> JobPage:
        with self._store.tx() as (_s, repo):
            if parent_id is not None:
                repo.get_owned(owner, parent_id)
            rows, total = repo.list_owned(
                owner,
                statuses=statuses,
                kinds=kinds,
                parent_id=parent_id,
                top_level=top_level,
                limit=limit,
                offset=offset,
            )
            items = [JobRecord.model_validate(r) for r in rows]
        return JobPage(items=items, total=total, limit=limit, offset=offset)

    def files(self, owner: Principal, job_id: str) -> list[FileRecord]:
        with self._store.tx() as (_s, repo):
            repo.get_owned(owner, job_id)
            return [FileRecord.model_validate(f) for f in repo.files(job_id)]

    def files_of(self, owner: Principal, job_ids: list[str]) -> dict[str, list[FileRecord]]:
        """Files of many of ``owner``'s jobs at once (a page of items, say)."""
        out: dict[str, list[FileRecord]] = {j: [] for j in job_ids}
        if not job_ids:
            return out
        with self._store.tx() as (_s, repo):
            for row in repo.owned_files(owner, job_ids):
                out[row.job_id].append(FileRecord.model_validate(row))
        return out

    def events(self, owner: Principal, job_id: str) -> list[EventRecord]:
        with self._store.tx() as (_s, repo):
            repo.get_owned(owner, job_id)
            return [EventRecord.model_validate(e) for e in repo.events(job_id)]

    def logs(self, owner: Principal, job_id: str, limit: int = 1000) -> list[LogRecord]:
        with self._store.tx() as (_s, repo):
            repo.get_owned(owner, job_id)
            return [LogRecord.model_validate(line) for line in repo.logs(job_id, limit)]

    def child_counts(self, owner: Principal, job_id: str) -> ChildCounts:
        with self._store.tx() as (_s, repo):
            repo.get_owned(owner, job_id)
            return counts_of(repo, job_id)

    def child_counts_of(self, owner: Principal, job_ids: list[str]) -> dict[str, ChildCounts]:
        """The item counts of many of ``owner``'s parents at once (a page of the job list)."""
        if not job_ids:
            return {}
        with self._store.tx() as (_s, repo):
            found = repo.child_status_counts_of(owner, job_ids)
        return {
            job_id: ChildCounts(total=sum(by_status.values()), **by_status)
            for job_id, by_status in found.items()
        }

    def cancel(self, owner: Principal, job_id: str, reason: str | None = None) -> JobRecord:
        """Cancel a job that has not finished, and every unfinished child it has."""
        job = self.get(owner, job_id)
        check_transition(job.status, JobStatus.CANCELLED)
        self._lifecycle.cancel_tree(job_id, reason or "Cancelled by the user.")
        return self.get(owner, job_id)

    def retry(self, owner: Principal, job_id: str, *, force: bool = False) -> JobRecord:
        """Queue a failed or cancelled job again; a parent re-runs only its unfinished children.

        A completed parent with failed items stays completed (completed is final) while those
        items run again. ``force`` throws away the stored artifacts so every stage runs again.
        """
        with self._store.tx() as (_session, repo):
            job = repo.get_owned(owner, job_id)
            status = JobStatus(job.status)
            is_parent = JobKind(job.kind).is_parent
            retry_children = [c.id for c in repo.children(job_id, RETRYABLE)] if is_parent else []
        parent_items_only = (
            JobKind(job.kind).is_parent and status is JobStatus.COMPLETED and bool(retry_children)
        )
        if not parent_items_only and status not in RETRYABLE:
            raise_not_retryable(status)
        if force and not parent_items_only:
            # the job is failed or cancelled: no attempt of it runs, so its work dir is free
            shutil.rmtree(self._jobs_dir / job_id, ignore_errors=True)
        for child_id in retry_children:
            self._lifecycle.requeue(child_id, "Retrying.", reset=force)
        if not parent_items_only:
            self._lifecycle.requeue(job_id, "Retrying.", reset=force)
        return self.get(owner, job_id)


def raise_not_retryable(status: JobStatus) -> None:
    raise InvalidTransition(
        f"Only a failed or cancelled job can be retried; this one is {status.value}.",
        current=status.value,
        target=JobStatus.QUEUED.value,
    )
