"""JobLifecycle: the system side of jobs. Creating, claiming, finishing, recovering, parents.

Workers call these methods with a job id they were handed, never as a user. A run is fenced by
its *attempt*: `claim` increments ``attempts`` and the runner passes that number back with every
write, which only succeeds while that attempt is still the one processing the job. An attempt
that lost the job (it was cancelled and retried, or recovered elsewhere) gets `Superseded` and
must stop without touching anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clipmill.errors import Superseded
from clipmill.jobs.enums import EventType, JobKind, JobStage, JobStatus
from clipmill.jobs.leases import owner_gone
from clipmill.jobs.models import Job, StoredFile, new_id, utcnow
from clipmill.jobs.repository import JobRepository
from clipmill.jobs.schemas import ChildCounts, FileRecord, JobPage, JobRecord, NewFile
from clipmill.jobs.store import JobStore
from clipmill.storage.base import Storage

#: statuses a user may retry from; processing -> queued is recovery's move, not a user's
RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})
PARENT_KINDS = [k.value for k in JobKind if k.is_parent]


class HeldBack(Exception):
    """`claim` refused: the job's owner already runs as many jobs as their quota allows."""

    def __init__(self, priority: int) -> None:
        super().__init__("held back by the owner's running quota")
        self.priority = priority


class Dispatcher(Protocol):
    """What the lifecycle needs of a queue: hand over a committed job."""

    def enqueue(self, job_id: str, priority: int = 0) -> None: ...


class JobLifecycle:
    """Every state change of a job, for workers and for the owner-facing `JobService`."""

    def __init__(self, store: JobStore, *, dispatcher: Dispatcher | None = None) -> None:
        self.store = store
        self.dispatcher = dispatcher  # set by bootstrap once the queue exists

    # -- reads ----------------------------------------------------------------------------------
    def load(self, job_id: str) -> JobRecord:
        with self.store.tx() as (_s, repo):
            return JobRecord.model_validate(repo.get(job_id))

    def status(self, job_id: str) -> tuple[JobStatus, int] | None:
        """(status, attempts) of a job, or None when it no longer exists."""
        with self.store.tx() as (_s, repo):
            return repo.status_of(job_id)

    def owns(self, job_id: str, attempt: int) -> bool:
        """True while ``attempt`` is the attempt processing the job (not cancelled, not
        superseded by a newer attempt)."""
        with self.store.tx() as (_s, repo):
            return repo.owns(job_id, attempt)

    def files_of(self, job_ids: list[str]) -> dict[str, list[FileRecord]]:
        """Files of many jobs at once (callers already hold the jobs)."""
        out: dict[str, list[FileRecord]] = {j: [] for j in job_ids}
        if not job_ids:
            return out
        with self.store.tx() as (session, _repo):
            rows = session.scalars(
                select(StoredFile)
                .where(StoredFile.job_id.in_(job_ids))
                .order_by(StoredFile.created_at)
            ).all()
            for row in rows:
                out[row.job_id].append(FileRecord.model_validate(row))
        return out

    def file_by_id(self, file_id: str) -> FileRecord | None:
        """A file by id, unscoped: only signed links (which name the file) call this."""
        with self.store.tx() as (session, _repo):
            row = session.get(StoredFile, file_id)
            return FileRecord.model_validate(row) if row is not None else None

    def child_counts(self, parent_id: str) -> ChildCounts:
        with self.store.tx() as (_s, repo):
            return counts_of(repo, parent_id)

    def children_page(
        self,
        parent_id: str,
        *,
        statuses: Iterable[JobStatus] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> JobPage:
        """A page of a parent's children in item order."""
        with self.store.tx() as (_s, repo):
            rows, total = repo.list_children(
                parent_id, statuses=statuses, limit=limit, offset=offset
            )
            items = [JobRecord.model_validate(r) for r in rows]
        return JobPage(items=items, total=total, limit=limit, offset=offset)

    def highest_child_index(self, parent_id: str) -> int:
        """The highest ``item_index`` among a parent's children (0 when it has none)."""
        with self.store.tx() as (_s, repo):
            return repo.highest_child_index(parent_id)

    # -- creating -------------------------------------------------------------------------------
    def create(
        self,
        owner_id: str,
        kind: JobKind,
        options: dict[str, Any],
        *,
        source_url: str | None = None,
        title: str | None = None,
        priority: int = 0,
        parent_id: str | None = None,
        item_index: int | None = None,
        enqueue: bool = True,
        job_id: str | None = None,
        files: Sequence[NewFile] = (),
    ) -> JobRecord:
        """Store a new job (and ``files`` it starts with), then after commit queue it.

        ``enqueue=False`` leaves it ``pending`` until `submit`.
        """
        with self.store.tx() as (session, _repo):
            job = Job(
                id=job_id or new_id(),
                kind=kind.value,
                status=JobStatus.PENDING.value,
                stage=JobStage.INITIALIZING.value,
                options=options,
                owner_id=owner_id,
                source_url=source_url,
                title=title,
                priority=priority,
                parent_id=parent_id,
                item_index=item_index,
            )
            session.add(job)
            session.flush()
            for file in files:
                _store_file(session, job, file)
            self.store.record(session, job, EventType.CREATED, "Job created.")
            if enqueue:
                job.status = JobStatus.QUEUED.value
                self.store.record(session, job, EventType.STATUS, "Queued.")
            record = JobRecord.model_validate(job)
        self.store.publish_record(record, EventType.STATUS, record.message)
        if enqueue:
            self._dispatch(record)
        return record

    def create_child(
        self,
        parent: JobRecord,
        kind: JobKind,
        options: dict[str, Any],
        *,
        item_index: int | None,
        source_url: str | None = None,
        title: str | None = None,
    ) -> JobRecord:
        """A parent's item: same owner, one priority step below the parent, so a single job
        asked for later at the same priority runs before the rest of a long playlist."""
        return self.create(
            parent.owner_id,
            kind,
            options,
            source_url=source_url,
            title=title,
            priority=parent.priority - 1,
            parent_id=parent.id,
            item_index=item_index,
        )

    def submit(self, job_id: str) -> JobRecord:
        """pending -> queued, and into the queue."""
        return self.requeue(job_id, "Queued.", sources={JobStatus.PENDING})

    # -- a run ----------------------------------------------------------------------------------
    def claim(
        self,
        job_id: str,
        *,
        owner_cap: int = 0,
        lease_owner: str | None = None,
        lease_until: datetime | None = None,
    ) -> JobRecord | None:
        """queued -> processing, atomically; None when the job is no longer runnable.

        The returned record's ``attempts`` is this run's fencing token; ``lease_owner`` and
        ``lease_until`` stamp the worker that runs it (`clipmill.jobs.leases`). With
        ``owner_cap``, a job (not a parent) whose owner already runs that many jobs stays queued
        and `HeldBack` is raised: the count is taken after this job's row is moved, inside the
        same transaction, so two workers cannot both slip under the cap.
        """
        with self.store.tx() as (session, repo):
            moved = repo.move(
                job_id,
                JobStatus.PROCESSING,
                started_at=utcnow(),
                finished_at=None,
                lease_owner=lease_owner,
                lease_expires_at=lease_until,
            )
            if not moved:
                return None
            job = repo.get(job_id)
            session.refresh(job)
            if owner_cap and not JobKind(job.kind).is_parent:
                running = session.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.owner_id == job.owner_id, Job.id != job.id)
                    .where(Job.status == JobStatus.PROCESSING.value)
                    .where(Job.kind.not_in(PARENT_KINDS))  # a parent runs while its items wait
                )
                if (running or 0) >= owner_cap:
                    raise HeldBack(job.priority)  # rolls the move back
            job.attempts += 1
            job.error_code = job.error_message = None
            self.store.record(session, job, EventType.STATUS, "Processing.")
            record = JobRecord.model_validate(job)
        self.store.publish_record(record, EventType.STATUS, "Processing.")
        return record

    def update(
        self,
        job_id: str,
        attempt: int | None,
        *,
        title: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        """Set the title or merge keys into the result while the job runs."""
        with self.store.result_lock, self.store.tx() as (_s, repo):
            job = repo.get(job_id, lock=True)
            if attempt is not None:
                _check_owner(job, attempt)
            if title is not None:
                job.title = title
            if result is not None:
                job.result = {**(job.result or {}), **result}

    def add_file(
        self,
        job_id: str,
        attempt: int | None,
        *,
        role: str,
        key: str,
        name: str,
        size: int,
        content_type: str,
    ) -> FileRecord:
        with self.store.tx() as (session, repo):
            job = repo.get(job_id)
            if attempt is not None:
                _check_owner(job, attempt)
            row = _store_file(
                session,
                job,
                NewFile(role=role, key=key, name=name, size=size, content_type=content_type),
            )
            return FileRecord.model_validate(row)

    def complete(
        self,
        job_id: str,
        attempt: int | None,
        result: dict[str, Any] | None = None,
        message: str = "Done.",
    ) -> bool:
        values: dict[str, Any] = {
            "stage": JobStage.DONE.value,
            "progress": 100.0,
            "finished_at": utcnow(),
            "message": message,
        }
        return self._finish(job_id, JobStatus.COMPLETED, values, result, attempt)

    def fail(self, job_id: str, attempt: int | None, code: str, message: str) -> bool:
        values: dict[str, Any] = {
            "error_code": code,
            "error_message": message,
            "finished_at": utcnow(),
            "message": message,
        }
        return self._finish(job_id, JobStatus.FAILED, values, None, attempt)

    # -- recovery and retries -------------------------------------------------------------------
    def requeue_lost(self, *, queued: bool = True, max_lost: int = 0) -> list[JobRecord]:
        """Queue again the processing jobs whose worker is lost; return every job to enqueue.

        Lost means: no lease, an expired lease, or a lease whose owner is provably gone (see
        `clipmill.jobs.leases`); a live worker's jobs, here or on another host, stay put.
        With ``queued``, jobs that already wait are returned too (a fresh in-process pool must
        hold them). With ``max_lost``, a job that has now lost that many attempts with their
        worker fails ``too_many_attempts`` instead (a job that kills its worker every time).
        """
        now = utcnow()
        out: list[JobRecord] = []
        ended: list[JobRecord] = []
        recovered: list[JobRecord] = []
        with self.store.tx() as (session, repo):
            for job in repo.resumable(queued=queued):
                if job.status == JobStatus.QUEUED.value:
                    out.append(JobRecord.model_validate(job))
                    continue
                if not _lost(job, now):
                    continue
                crashed = job.lease_owner is not None  # None: its worker let go cleanly
                lost = job.lost_attempts + (1 if crashed else 0)
                target = JobStatus.QUEUED
                message = "Recovered after a restart."
                values: dict[str, Any] = {"message": message}
                if max_lost and lost >= max_lost:  # the dead-letter state
                    target = JobStatus.FAILED
                    message = f"The job stopped its worker {lost} times; it will not run again."
                    values = {
                        "error_code": "too_many_attempts",
                        "error_message": message,
                        "finished_at": now,
                        "message": message,
                    }
                if not repo.move(
                    job.id,
                    target,
                    sources={JobStatus.PROCESSING},
                    attempt=job.attempts,
                    lost_attempts=lost,
                    lease_owner=None,
                    lease_expires_at=None,
                    **values,
                ):
                    continue  # it ended or moved meanwhile
                session.refresh(job)
                self.store.record(session, job, EventType.STATUS, message)
                record = JobRecord.model_validate(job)
                if target is JobStatus.QUEUED:
                    out.append(record)
                    recovered.append(record)
                else:
                    ended.append(record)
        for record in recovered:
            self.store.publish_record(record, EventType.STATUS, record.message)
        for record in ended:
            self._after_terminal(record)
        return out

    def release(self, job_id: str, attempt: int) -> None:
        """Let go of a job this worker stops without ending it (shutdown): it stays processing
        and any recovery queues it at once, without counting a lost attempt."""
        with self.store.tx() as (_s, repo):
            repo.session.execute(
                update(Job)
                .where(
                    Job.id == job_id,
                    Job.attempts == attempt,
                    Job.status == JobStatus.PROCESSING.value,
                )
                .values(lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )

    def stale_queued(self, older_than: float) -> list[JobRecord]:
        """Jobs queued for longer than ``older_than`` seconds, touched so the next call skips
        them for as long again: a queue that may have lost their message sends them again."""
        cutoff = utcnow() - timedelta(seconds=older_than)
        with self.store.tx() as (session, _repo):
            rows = session.scalars(
                select(Job)
                .where(Job.status == JobStatus.QUEUED.value, Job.updated_at < cutoff)
                .order_by(Job.priority.desc(), Job.created_at)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.updated_at = utcnow()
            return [JobRecord.model_validate(r) for r in rows]

    def requeue(
        self,
        job_id: str,
        message: str,
        *,
        sources: Iterable[JobStatus] = RETRYABLE,
        reset: bool = False,
    ) -> JobRecord:
        """Queue a job again from one of ``sources``; ``reset`` also forgets its progress and
        result (a forced retry). Returns the job as it is afterwards."""
        with self.store.tx() as (session, repo):
            values: dict[str, Any] = {
                "error_code": None,
                "error_message": None,
                "finished_at": None,
                "message": message,
                "lost_attempts": 0,  # a retry starts a fresh count of attempts lost
            }
            if reset:
                values.update(progress=0.0, stage=JobStage.INITIALIZING.value, result=None)
            moved = repo.move(job_id, JobStatus.QUEUED, sources=sources, **values)
            job = repo.get(job_id)
            session.refresh(job)
            if moved:
                self.store.record(session, job, EventType.STATUS, message)
            record = JobRecord.model_validate(job)
        if moved:
            self.store.publish_record(record, EventType.STATUS, message)
            self._dispatch(record)
        return record

    # -- cancel ---------------------------------------------------------------------------------
    def cancel_tree(self, job_id: str, reason: str) -> None:
        """Cancel a job that has not finished and every unfinished child it has."""
        with self.store.tx() as (session, repo):
            ids = [job_id]
            ids += [c.id for c in repo.children(job_id) if not JobStatus(c.status).is_terminal]
            records = []
            for jid in ids:
                cancelled = repo.move(
                    jid,
                    JobStatus.CANCELLED,
                    finished_at=utcnow(),
                    message=reason,
                    lease_owner=None,  # a lease is held only while processing
                    lease_expires_at=None,
                )
                if cancelled:
                    job = repo.get(jid)
                    session.refresh(job)
                    self.store.record(session, job, EventType.STATUS, reason)
                    records.append(JobRecord.model_validate(job))
        # parent last, so its counts already see every child cancelled
        for record in sorted(records, key=lambda r: r.id == job_id):
            self._after_terminal(record)

    def cancel_unfinished_children(self, parent_id: str, reason: str) -> None:
        """Cancel a parent's items that have not finished (the parent itself is left alone)."""
        with self.store.tx() as (_s, repo):
            ids = [c.id for c in repo.children(parent_id) if not JobStatus(c.status).is_terminal]
        for child_id in ids:
            self.cancel_tree(child_id, reason)

    # -- parents --------------------------------------------------------------------------------
    def child_finished(self, parent_id: str) -> ChildCounts:
        """Re-count a parent's children; finish the parent when the last one ends.

        Only playlist, channel and batch jobs are parents in this sense; the re-render jobs of a
        shorts job are its children for ownership and listing, and change nothing here.
        """
        with self.store.result_lock, self.store.tx() as (_session, repo):
            parent = repo.get(parent_id, lock=True)
            if not JobKind(parent.kind).is_parent:
                return ChildCounts()
            counts = counts_of(repo, parent_id)
            if counts.total:
                parent.progress = round(repo.child_progress_sum(parent_id) / counts.total, 2)
            parent.result = {**(parent.result or {}), "counts": counts.model_dump()}
            status = JobStatus(parent.status)
            expanded = (parent.result or {}).get("expanded", False)
            done = expanded and counts.total and counts.finished == counts.total
        if done and status == JobStatus.PROCESSING:
            if counts.completed:
                self.complete(
                    parent_id, None, message=f"{counts.completed} of {counts.total} items done."
                )
            else:
                self.fail(parent_id, None, "all_items_failed", "No item could be downloaded.")
        return counts

    # -- finished jobs that change (edited clips) -----------------------------------------------
    def amend_result(
        self, job_id: str, change: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> bool:
        """Rewrite a job's result with ``change(result)`` (None: leave it), whatever its status;
        serialised with every other result merge. Returns whether it changed."""
        with self.store.result_lock, self.store.tx() as (_s, repo):
            job = repo.get(job_id, lock=True)
            changed = change(dict(job.result or {}))
            if changed is None:
                return False
            job.result = changed
            return True

    def expire_files(self, job_id: str, file_ids: Iterable[str], storage: Storage) -> None:
        """Delete files of a job from storage now; their rows stay, marked expired."""
        wanted = set(file_ids)
        with self.store.tx() as (_session, repo):
            for row in repo.files(job_id):
                if row.id in wanted and row.expired_at is None:
                    storage.delete(row.key)
                    row.expired_at = utcnow()

    def resize_file(self, job_id: str, file_id: str, size: int) -> None:
        """A stored file's bytes were replaced under the same key (a corrected transcript):
        its record's size follows, since a sized ZIP declares it before reading the bytes."""
        with self.store.tx() as (_session, repo):
            for row in repo.files(job_id):
                if row.id == file_id:
                    row.size = size

    def note(self, job_id: str, message: str, data: dict[str, Any] | None = None) -> None:
        """Store and publish an event of a job without changing its state (a clip was edited)."""
        with self.store.tx() as (session, repo):
            job = repo.get(job_id)
            self.store.record(session, job, EventType.CLIP, message)
            record = JobRecord.model_validate(job)
        self.store.publish(record, EventType.CLIP, message, progress=record.progress,
                           data=data or {})  # fmt: skip

    # -- internals ------------------------------------------------------------------------------
    def _finish(
        self,
        job_id: str,
        target: JobStatus,
        values: dict[str, Any],
        result: dict[str, Any] | None,
        attempt: int | None,
    ) -> bool:
        with self.store.result_lock, self.store.tx() as (session, repo):
            values = {**values, "lease_owner": None, "lease_expires_at": None}
            if not repo.move(job_id, target, attempt=attempt, **values):
                return False
            job = repo.get(job_id)
            session.refresh(job)
            if result is not None:
                job.result = {**(job.result or {}), **result}
            if target is JobStatus.COMPLETED and job.progress_info:
                job.progress_info = _settled(job.progress_info)
            self.store.record(session, job, EventType.STATUS, values.get("message"))
            record = JobRecord.model_validate(job)
        self._after_terminal(record)
        return True

    def _dispatch(self, record: JobRecord) -> None:
        if self.dispatcher is not None:
            self.dispatcher.enqueue(record.id, record.priority)

    def _after_terminal(self, record: JobRecord) -> None:
        self.store.publish_record(record, EventType.STATUS, record.message)
        if record.parent_id is not None:
            self.child_finished(record.parent_id)


def counts_of(repo: JobRepository, parent_id: str) -> ChildCounts:
    by_status = repo.child_status_counts(parent_id)
    return ChildCounts(total=sum(by_status.values()), **by_status)


def _store_file(session: Session, job: Job, file: NewFile) -> StoredFile:
    row = StoredFile(job_id=job.id, owner_id=job.owner_id, **file.model_dump())
    session.add(row)
    session.flush()
    return row


def _lost(job: Job, now: datetime) -> bool:
    """Whether a processing job's worker is gone (see `clipmill.jobs.leases`)."""
    if job.lease_owner is None or job.lease_expires_at is None:
        return True
    return job.lease_expires_at <= now or owner_gone(job.lease_owner)


def _check_owner(job: Job, attempt: int) -> None:
    if job.attempts != attempt or job.status != JobStatus.PROCESSING.value:
        raise Superseded(
            "This attempt no longer owns the job.", attempt=attempt, current=job.attempts
        )


def _settled(info: dict[str, Any]) -> dict[str, Any]:
    """A finished job's transfer figures: no speed or ETA, and every byte received."""
    settled = {k: v for k, v in info.items() if k not in ("speed", "eta")}
    total = settled.get("total_bytes")
    if isinstance(total, int | float) and total > 0:
        settled["downloaded_bytes"] = total
    return settled
