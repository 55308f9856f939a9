"""Queries over jobs. Owner scoping lives here and only here: `owned()` is the one filter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from clipmill.accounts.principal import Principal
from clipmill.errors import NotFound
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.jobs.models import Job, JobEvent, JobLog, StoredFile
from clipmill.jobs.statemachine import sources_of


class JobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- owner-scoped --------------------------------------------------------------------------
    @staticmethod
    def owned(owner: Principal) -> Select[Job]:
        """Every owner-facing read starts here: another user's job simply does not exist.

        An admin's view has no owner filter."""
        query = select(Job)
        return query if owner.is_admin else query.where(Job.owner_id == owner.user_id)

    def get_owned(self, owner: Principal, job_id: str) -> Job:
        job = self.session.scalars(self.owned(owner).where(Job.id == job_id)).first()
        if job is None:
            raise NotFound(f"No job {job_id}.", resource="job")
        return job

    def list_owned(
        self,
        owner: Principal,
        *,
        statuses: Iterable[JobStatus] = (),
        kinds: Iterable[JobKind] = (),
        parent_id: str | None = None,
        top_level: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[Sequence[Job], int]:
        query = self.owned(owner)
        if parent_id is not None:
            query = query.where(Job.parent_id == parent_id)
        elif top_level:
            query = query.where(Job.parent_id.is_(None))
        return self._page(query, statuses, kinds, limit, offset, by_index=parent_id is not None)

    def list_children(
        self,
        parent_id: str,
        *,
        statuses: Iterable[JobStatus] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[Sequence[Job], int]:
        """A parent's children in item order (system use: the caller holds the parent)."""
        query = select(Job).where(Job.parent_id == parent_id)
        return self._page(query, statuses, (), limit, offset, by_index=True)

    def _page(
        self,
        query: Select[Job],
        statuses: Iterable[JobStatus],
        kinds: Iterable[JobKind],
        limit: int,
        offset: int,
        *,
        by_index: bool,
    ) -> tuple[Sequence[Job], int]:
        statuses, kinds = list(statuses), list(kinds)
        if statuses:
            query = query.where(Job.status.in_([s.value for s in statuses]))
        if kinds:
            query = query.where(Job.kind.in_([k.value for k in kinds]))
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        order = (Job.item_index, Job.created_at) if by_index else (Job.created_at.desc(),)
        rows = self.session.scalars(query.order_by(*order).limit(limit).offset(offset)).all()
        return rows, total

    def owned_files(self, owner: Principal, job_ids: Sequence[str]) -> Sequence[StoredFile]:
        query = select(StoredFile).where(StoredFile.job_id.in_(list(job_ids)))
        if not owner.is_admin:
            query = query.where(StoredFile.owner_id == owner.user_id)
        return self.session.scalars(query.order_by(StoredFile.created_at)).all()

    # -- system (workers) ----------------------------------------------------------------------
    def get(self, job_id: str, *, lock: bool = False) -> Job:
        """A job by id; `lock` holds its row until commit (FOR UPDATE where the DB has it)."""
        job = self.session.get(Job, job_id, with_for_update=lock or None)
        if job is None:
            raise NotFound(f"No job {job_id}.", resource="job")
        return job

    def move(
        self,
        job_id: str,
        target: JobStatus,
        *,
        sources: Iterable[JobStatus] | None = None,
        attempt: int | None = None,
        **values: object,
    ) -> bool:
        """Conditionally change status: only from ``sources`` (default: every status that may
        legally reach ``target``) and, with ``attempt``, only while that attempt owns the job.

        Returns False when another writer got there first (a cancel racing a completion, a
        newer attempt after a recovery).
        """
        allowed = sources_of(target) if sources is None else frozenset(sources) & sources_of(target)
        query = update(Job).where(Job.id == job_id, Job.status.in_([s.value for s in allowed]))
        if attempt is not None:
            query = query.where(Job.attempts == attempt)
        result = self.session.execute(
            query.values(status=target.value, **values).execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def owns(self, job_id: str, attempt: int) -> bool:
        """True while ``attempt`` is the attempt that is processing the job."""
        found = self.session.scalar(
            select(func.count())
            .select_from(Job)
            .where(
                Job.id == job_id,
                Job.attempts == attempt,
                Job.status == JobStatus.PROCESSING.value,
            )
        )
        return bool(found)

    def status_of(self, job_id: str) -> tuple[JobStatus, int] | None:
        """(status, attempts) of a job without loading the row; None when it is gone."""
        row = self.session.execute(select(Job.status, Job.attempts).where(Job.id == job_id)).first()
        return (JobStatus(row[0]), int(row[1])) if row is not None else None

    def highest_child_index(self, parent_id: str) -> int:
        return int(
            self.session.scalar(
                select(func.coalesce(func.max(Job.item_index), 0)).where(Job.parent_id == parent_id)
            )
            or 0
        )

    def children(self, parent_id: str, statuses: Iterable[JobStatus] = ()) -> Sequence[Job]:
        query = select(Job).where(Job.parent_id == parent_id)
        statuses = list(statuses)
        if statuses:
            query = query.where(Job.status.in_([s.value for s in statuses]))
        return self.session.scalars(query.order_by(Job.item_index)).all()

    def child_status_counts(self, parent_id: str) -> dict[str, int]:
        rows = self.session.execute(
            select(Job.status, func.count()).where(Job.parent_id == parent_id).group_by(Job.status)
        ).all()
        return {status: count for status, count in rows}

    def child_status_counts_of(
        self, owner: Principal, parent_ids: Sequence[str]
    ) -> dict[str, dict[str, int]]:
        """``child_status_counts`` of many of ``owner``'s parents in one query (a page of jobs)."""
        owned = self.owned(owner).where(Job.id.in_(parent_ids)).with_only_columns(Job.id)
        rows = self.session.execute(
            select(Job.parent_id, Job.status, func.count())
            .where(Job.parent_id.in_(owned))
            .group_by(Job.parent_id, Job.status)
        ).all()
        out: dict[str, dict[str, int]] = {p: {} for p in parent_ids}
        for parent_id, status, count in rows:
            out[str(parent_id)][status] = count
        return out

    def child_progress_sum(self, parent_id: str) -> float:
        return float(
            self.session.scalar(
                select(func.coalesce(func.sum(Job.progress), 0.0)).where(Job.parent_id == parent_id)
            )
            or 0.0
        )

    def resumable(self, *, queued: bool = True) -> Sequence[Job]:
        """Jobs a fresh worker pool must pick up: queued (unless not ``queued``), or processing
        when a worker was lost (the caller checks their leases)."""
        statuses = [JobStatus.PROCESSING.value] + ([JobStatus.QUEUED.value] if queued else [])
        return self.session.scalars(
            select(Job)
            .where(Job.status.in_(statuses))
            .order_by(Job.priority.desc(), Job.created_at)
        ).all()

    def files(self, job_id: str) -> Sequence[StoredFile]:
        return self.session.scalars(
            select(StoredFile).where(StoredFile.job_id == job_id).order_by(StoredFile.created_at)
        ).all()

    def events(self, job_id: str) -> Sequence[JobEvent]:
        return self.session.scalars(
            select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)
        ).all()

    def logs(self, job_id: str, limit: int) -> Sequence[JobLog]:
        rows = self.session.scalars(
            select(JobLog).where(JobLog.job_id == job_id).order_by(JobLog.id.desc()).limit(limit)
        ).all()
        return list(reversed(rows))
