"""JobService: the only writer of jobs. Creates, moves, cancels, retries and reports them.

Owner-facing methods take a `Principal` and see only that owner's jobs (a stranger's job is a
404). Worker-facing methods take a job id: the runner already holds a job it claimed.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from clipmill.accounts.principal import Principal
from clipmill.events.bus import EventBus, JobEventMessage
from clipmill.jobs.enums import EventType, JobKind, JobStage, JobStatus
from clipmill.jobs.models import Job, JobEvent, JobLog, StoredFile, utcnow
from clipmill.jobs.repository import JobRepository
from clipmill.jobs.schemas import (
    ChildCounts,
    EventRecord,
    FileRecord,
    JobPage,
    JobRecord,
    LogRecord,
)
from clipmill.jobs.statemachine import check_transition

PUBLISH_INTERVAL = 0.25  # at most 4 progress events a second per job
PERSIST_INTERVAL = 1.0  # progress is written to the row at most once a second
MAX_LOG_LINE = 2000


class Dispatcher(Protocol):
    """What the service needs of a queue: hand over a committed job, signal a cancel."""

    def enqueue(self, job_id: str, priority: int = 0) -> None: ...
    def cancel(self, job_id: str) -> None: ...


class JobService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        bus: EventBus,
        *,
        jobs_dir: Path,
        dispatcher: Dispatcher | None = None,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._jobs_dir = jobs_dir
        self.dispatcher = dispatcher  # set by bootstrap once the queue exists
        self._ticks: dict[str, tuple[float, float]] = {}  # job -> (last publish, last persist)
        self._ticks_lock = threading.Lock()
        self._terminal_hooks: list[Callable[[JobRecord], None]] = []
        # `result` is merged read-modify-write by the runner (update) and by finishing children
        # (child_finished) at the same time; in one process this lock orders them, and the row
        # lock (FOR UPDATE, on PostgreSQL) orders them across processes
        self._result_lock = threading.RLock()

    @contextmanager
    def _tx(self) -> Any:
        with self._sessions() as session, session.begin():
            yield session, JobRepository(session)

    def on_terminal(self, hook: Callable[[JobRecord], None]) -> None:
        """Call `hook` after any job reaches completed, failed or cancelled (webhooks, parents)."""
        self._terminal_hooks.append(hook)

    # -- owner-facing ---------------------------------------------------------------------------
    def create(
        self,
        owner: Principal,
        kind: JobKind,
        options: dict[str, Any],
        *,
        source_url: str | None = None,
        title: str | None = None,
        priority: int = 0,
        parent_id: str | None = None,
        item_index: int | None = None,
        enqueue: bool = True,
    ) -> JobRecord:
        """Store a new job, then (after commit) hand it to the queue."""
        with self._tx() as (session, _repo):
            job = Job(
                kind=kind.value,
                status=JobStatus.PENDING.value,
                stage=JobStage.INITIALIZING.value,
                options=options,
                owner_id=owner.user_id,
                source_url=source_url,
                title=title,
                priority=priority,
                parent_id=parent_id,
                item_index=item_index,
            )
            session.add(job)
            session.flush()
            self._record(session, job, EventType.CREATED, "Job created.")
            if enqueue:
                job.status = JobStatus.QUEUED.value
                self._record(session, job, EventType.STATUS, "Queued.")
            record = JobRecord.model_validate(job)
        self._publish_record(record, EventType.STATUS, record.message)
        if enqueue:
            self._dispatch(record)
        return record

    def get(self, owner: Principal, job_id: str) -> JobRecord:
        with self._tx() as (_s, repo):
            return JobRecord.model_validate(repo.get_owned(owner.user_id, job_id))

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
        with self._tx() as (_s, repo):
            if parent_id is not None:
                repo.get_owned(owner.user_id, parent_id)
            rows, total = repo.list_owned(
                owner.user_id,
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
        with self._tx() as (_s, repo):
            repo.get_owned(owner.user_id, job_id)
            return [FileRecord.model_validate(f) for f in repo.files(job_id)]

    def files_of(self, job_ids: list[str]) -> dict[str, list[FileRecord]]:
        """Files of many jobs at once (the caller already holds the jobs, so it owns them)."""
        from sqlalchemy import select

        out: dict[str, list[FileRecord]] = {j: [] for j in job_ids}
        if not job_ids:
            return out
        with self._tx() as (session, _repo):
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
        with self._tx() as (session, _repo):
            row = session.get(StoredFile, file_id)
            return FileRecord.model_validate(row) if row is not None else None

    def events(self, owner: Principal, job_id: str) -> list[EventRecord]:
        with self._tx() as (_s, repo):
            repo.get_owned(owner.user_id, job_id)
            return [EventRecord.model_validate(e) for e in repo.events(job_id)]

    def logs(self, owner: Principal, job_id: str, limit: int = 1000) -> list[LogRecord]:
        with self._tx() as (_s, repo):
            repo.get_owned(owner.user_id, job_id)
            return [LogRecord.model_validate(line) for line in repo.logs(job_id, limit)]

    def child_counts(self, owner: Principal, job_id: str) -> ChildCounts:
        with self._tx() as (_s, repo):
            repo.get_owned(owner.user_id, job_id)
            return self._counts(repo, job_id)

    def cancel(self, owner: Principal, job_id: str, reason: str | None = None) -> JobRecord:
        """Cancel a job that has not finished, and every unfinished child it has."""
        with self._tx() as (_s, repo):
            job = repo.get_owned(owner.user_id, job_id)
            check_transition(JobStatus(job.status), JobStatus.CANCELLED)
        self._cancel_tree(job_id, reason or "Cancelled by the user.")
        return self.get(owner, job_id)

    def retry(self, owner: Principal, job_id: str, *, force: bool = False) -> JobRecord:
        """Queue a failed or cancelled job again; a parent re-runs only its unfinished children.

        `force` throws away the stored artifacts so every stage runs again.
        """
        with self._tx() as (_session, repo):
            job = repo.get_owned(owner.user_id, job_id)
            status = JobStatus(job.status)
            retry_children = [
                c.id for c in repo.children(job_id, (JobStatus.FAILED, JobStatus.CANCELLED))
            ]
            # A completed parent stays completed (completed is final); only its failed or
            # cancelled items run again, and its counts follow them.
            parent_items_only = (
                JobKind(job.kind).is_parent and status is JobStatus.COMPLETED and retry_children
            )
            if not parent_items_only:
                check_transition(status, JobStatus.QUEUED)
        if force:
            shutil.rmtree(self._jobs_dir / job_id, ignore_errors=True)
        for child_id in retry_children:
            self._requeue(child_id, "Retrying.", force=force)
        if not parent_items_only:
            self._requeue(job_id, "Retrying.", force=force)
        return self.get(owner, job_id)

    # -- worker-facing --------------------------------------------------------------------------
    def load(self, job_id: str) -> JobRecord:
        with self._tx() as (_s, repo):
            return JobRecord.model_validate(repo.get(job_id))

    def claim(self, job_id: str) -> JobRecord | None:
        """queued -> processing, atomically; None when the job is no longer runnable."""
        with self._tx() as (session, repo):
            if not repo.move(job_id, JobStatus.PROCESSING, started_at=utcnow(), finished_at=None):
                return None
            job = repo.get(job_id)
            session.refresh(job)
            job.attempts += 1
            job.error_code = job.error_message = None
            self._record(session, job, EventType.STATUS, "Processing.")
            record = JobRecord.model_validate(job)
        self._publish_record(record, EventType.STATUS, "Processing.")
        return record

    def set_stage(
        self,
        job_id: str,
        stage: JobStage,
        message: str | None = None,
        progress: float | None = None,
    ) -> None:
        with self._tx() as (session, repo):
            job = repo.get(job_id)
            if JobStatus(job.status).is_terminal:
                return
            job.stage = stage.value
            if progress is not None:
                job.progress = progress
            job.message = message
            self._record(session, job, EventType.STAGE, message)
            record = JobRecord.model_validate(job)
        self._publish_record(record, EventType.STAGE, message)

    def report_progress(
        self,
        job_id: str,
        progress: float,
        *,
        info: dict[str, Any] | None = None,
        message: str | None = None,
        force: bool = False,
    ) -> None:
        """Publish a progress tick (throttled to 4/s) and persist it (at most once a second)."""
        now = time.monotonic()
        with self._ticks_lock:
            last_pub, last_save = self._ticks.get(job_id, (0.0, 0.0))
            publish = force or now - last_pub >= PUBLISH_INTERVAL
            persist = force or now - last_save >= PERSIST_INTERVAL
            if publish or persist:
                self._ticks[job_id] = (now if publish else last_pub, now if persist else last_save)
        if not (publish or persist):
            return
        progress = max(0.0, min(100.0, progress))
        if persist:
            with self._tx() as (_s, repo):
                job = repo.get(job_id)
                if JobStatus(job.status).is_terminal:
                    return
                job.progress, job.progress_info = progress, info
                if message is not None:
                    job.message = message
                record = JobRecord.model_validate(job)
        else:
            record = self.load(job_id)
        if publish and not record.status.is_terminal:
            self._publish(record, EventType.PROGRESS, message, progress=progress, data=info or {})

    def log(self, job_id: str, line: str, level: str = "info") -> None:
        with self._tx() as (session, _repo):
            session.add(JobLog(job_id=job_id, level=level, line=line[:MAX_LOG_LINE]))

    def update(
        self, job_id: str, *, title: str | None = None, result: dict[str, Any] | None = None
    ) -> None:
        """Set the title or merge keys into the result while the job runs."""
        with self._result_lock, self._tx() as (_s, repo):
            job = repo.get(job_id, lock=True)
            if title is not None:
                job.title = title
            if result is not None:
                job.result = {**(job.result or {}), **result}

    def add_file(
        self, job_id: str, *, role: str, key: str, name: str, size: int, content_type: str
    ) -> FileRecord:
        with self._tx() as (session, repo):
            job = repo.get(job_id)
            row = StoredFile(
                job_id=job_id,
                owner_id=job.owner_id,
                role=role,
                key=key,
                name=name,
                size=size,
                content_type=content_type,
            )
            session.add(row)
            session.flush()
            return FileRecord.model_validate(row)

    def complete(
        self, job_id: str, result: dict[str, Any] | None = None, message: str = "Done."
    ) -> bool:
        values: dict[str, Any] = {
            "stage": JobStage.DONE.value,
            "progress": 100.0,
            "finished_at": utcnow(),
            "message": message,
        }
        return self._finish(job_id, JobStatus.COMPLETED, values, result)

    def fail(self, job_id: str, code: str, message: str) -> bool:
        values: dict[str, Any] = {
            "error_code": code,
            "error_message": message,
            "finished_at": utcnow(),
            "message": message,
        }
        return self._finish(job_id, JobStatus.FAILED, values, None)

    def requeue_lost(self) -> list[JobRecord]:
        """After a restart: processing jobs go back to queued; return every job to enqueue."""
        with self._tx() as (session, repo):
            jobs = repo.resumable()
            out = []
            for job in jobs:
                if job.status == JobStatus.PROCESSING.value and repo.move(job.id, JobStatus.QUEUED):
                    session.refresh(job)
                    self._record(session, job, EventType.STATUS, "Recovered after a restart.")
                out.append(JobRecord.model_validate(job))
        return out

    def child_finished(self, parent_id: str) -> ChildCounts:
        """Re-count a parent's children; finish the parent when the last one ends."""
        with self._result_lock, self._tx() as (_session, repo):
            parent = repo.get(parent_id, lock=True)
            counts = self._counts(repo, parent_id)
            if counts.total:
                parent.progress = round(repo.child_progress_sum(parent_id) / counts.total, 2)
            parent.result = {**(parent.result or {}), "counts": counts.model_dump()}
            status = JobStatus(parent.status)
            expanded = (parent.result or {}).get("expanded", False)
            done = expanded and counts.total and counts.finished == counts.total
        if done and status == JobStatus.PROCESSING:
            if counts.completed:
                self.complete(
                    parent_id, message=f"{counts.completed} of {counts.total} items done."
                )
            else:
                self.fail(parent_id, "all_items_failed", "No item could be downloaded.")
        return counts

    # -- internals ------------------------------------------------------------------------------
    def _finish(
        self, job_id: str, target: JobStatus, values: dict[str, Any], result: dict[str, Any] | None
    ) -> bool:
        with self._result_lock, self._tx() as (session, repo):
            if not repo.move(job_id, target, **values):
                return False
            job = repo.get(job_id)
            session.refresh(job)
            if result is not None:
                job.result = {**(job.result or {}), **result}
            self._record(session, job, EventType.STATUS, values.get("message"))
            record = JobRecord.model_validate(job)
        self._after_terminal(record)
        return True

    def _cancel_tree(self, job_id: str, reason: str) -> None:
        with self._tx() as (session, repo):
            ids = [job_id]
            ids += [c.id for c in repo.children(job_id) if not JobStatus(c.status).is_terminal]
            records = []
            for jid in ids:
                if repo.move(jid, JobStatus.CANCELLED, finished_at=utcnow(), message=reason):
                    job = repo.get(jid)
                    session.refresh(job)
                    self._record(session, job, EventType.STATUS, reason)
                    records.append(JobRecord.model_validate(job))
        for record in records:
            if self.dispatcher is not None:
                self.dispatcher.cancel(record.id)
        # parent last, so its counts already see every child cancelled
        for record in sorted(records, key=lambda r: r.id == job_id):
            self._after_terminal(record)

    def _requeue(self, job_id: str, message: str, *, force: bool) -> None:
        with self._tx() as (session, repo):
            values: dict[str, Any] = {
                "error_code": None,
                "error_message": None,
                "finished_at": None,
                "message": message,
            }
            if force:
                values.update(progress=0.0, stage=JobStage.INITIALIZING.value, result=None)
            if not repo.move(job_id, JobStatus.QUEUED, **values):
                return
            job = repo.get(job_id)
            session.refresh(job)
            self._record(session, job, EventType.STATUS, message)
            record = JobRecord.model_validate(job)
        self._publish_record(record, EventType.STATUS, message)
        self._dispatch(record)

    def _dispatch(self, record: JobRecord) -> None:
        if self.dispatcher is not None:
            self.dispatcher.enqueue(record.id, record.priority)

    def _after_terminal(self, record: JobRecord) -> None:
        with self._ticks_lock:
            self._ticks.pop(record.id, None)
        self._publish_record(record, EventType.STATUS, record.message)
        if record.parent_id is not None:
            self.child_finished(record.parent_id)
        for hook in self._terminal_hooks:
            hook(record)

    @staticmethod
    def _counts(repo: JobRepository, parent_id: str) -> ChildCounts:
        by_status = repo.child_status_counts(parent_id)
        return ChildCounts(total=sum(by_status.values()), **by_status)

    @staticmethod
    def _record(session: Session, job: Job, type_: EventType, message: str | None) -> None:
        session.add(
            JobEvent(
                job_id=job.id,
                type=type_.value,
                status=job.status,
                stage=job.stage,
                progress=job.progress or 0.0,
                message=message,
            )
        )

    def _publish_record(self, record: JobRecord, type_: EventType, message: str | None) -> None:
        data: dict[str, Any] = {}
        if record.error_code:
            data["error"] = {"code": record.error_code, "message": record.error_message}
        self._publish(record, type_, message, progress=record.progress, data=data)

    def _publish(
        self,
        record: JobRecord,
        type_: EventType,
        message: str | None,
        *,
        progress: float,
        data: dict[str, Any],
    ) -> None:
        self._bus.publish(
            JobEventMessage(
                job_id=record.id,
                owner_id=record.owner_id,
                type=type_.value,
                status=record.status.value,
                stage=record.stage.value,
                progress=progress,
                message=message,
                timestamp=utcnow(),
                parent_id=record.parent_id,
                data=data,
            )
        )
