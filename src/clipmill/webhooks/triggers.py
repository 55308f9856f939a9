"""From job events to deliveries: a bus listener that queues one delivery per receiver.

It runs in the thread that published the event (a job's end), right after the transition was
committed, so the deliveries are stored before anything else can be lost. Only top-level jobs
report: a playlist's items end inside their parent, which reports once for all of them.

Delivery ids are derived from the transition (receiver, job, event, attempt, finish time): the
same transition seen twice, in one process or two, is queued once, and receivers that dedupe by
``X-Clipmill-Delivery`` see each transition once; a retried job that ends again is new.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clipmill.events.bus import JobEventMessage
from clipmill.jobs.enums import EventType, JobStatus
from clipmill.jobs.models import Job, StoredFile
from clipmill.jobs.schemas import FileRecord, JobRecord
from clipmill.jobs.service import WEBHOOK_OPTION
from clipmill.webhooks.endpoints import EndpointStore
from clipmill.webhooks.outbox import Outbox, Receiver
from clipmill.webhooks.payload import job_view
from clipmill.webhooks.schemas import PROGRESS_MILESTONES, WebhookEvent

_NAMESPACE = uuid.UUID("5f0b6c4e-8a51-4d0c-9a57-3c1f0e9b7d21")


def delivery_id_for(receiver: Receiver, job_id: str, event: WebhookEvent, moment: str) -> str:
    """A stable id of one event to one receiver (``moment`` tells transitions apart)."""
    name = f"{receiver.endpoint_id or 'job'}|{receiver.url}|{job_id}|{event.value}|{moment}"
    return str(uuid.uuid5(_NAMESPACE, name))


class JobEventTrigger:
    """Listens on the event bus; ``queued`` is called after deliveries were stored."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        outbox: Outbox,
        endpoints: EndpointStore,
        queued: Callable[[], None],
    ) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.endpoints = endpoints
        self.queued = queued
        self._milestones: dict[str, int] = {}  # job id -> highest milestone already reported
        self._lock = threading.Lock()

    def __call__(self, message: JobEventMessage) -> None:
        if message.parent_id is not None:
            return
        status = JobStatus(message.status)
        if message.type == EventType.STATUS.value:
            event = WebhookEvent.for_status(status)
            with self._lock:
                self._milestones.pop(message.job_id, None)
            if event is not None:
                self._job_ended(message.job_id, event)
        elif message.type == EventType.PROGRESS.value and status is JobStatus.PROCESSING:
            self._progressed(message)

    def _job_ended(self, job_id: str, event: WebhookEvent) -> None:
        found = self._load(job_id)
        if found is None:
            return
        job, files = found
        moment = f"{job.attempts}|{job.finished_at.isoformat() if job.finished_at else ''}"
        receivers = self.endpoints.subscribed(job.owner_id, event)
        own_url = job.options.get(WEBHOOK_OPTION)
        if isinstance(own_url, str) and own_url:
            receivers.insert(0, Receiver(owner_id=job.owner_id, url=own_url))
        self._queue(job, files, event, receivers, moment)

    def _progressed(self, message: JobEventMessage) -> None:
        reached = max((m for m in PROGRESS_MILESTONES if message.progress >= m), default=0)
        with self._lock:
            if reached <= self._milestones.get(message.job_id, 0):
                return
            self._milestones[message.job_id] = reached
        receivers = self.endpoints.subscribed(message.owner_id, WebhookEvent.JOB_PROGRESS)
        if not receivers:
            return
        found = self._load(message.job_id)
        if found is None:
            return
        job, files = found
        self._queue(
            job,
            files,
            WebhookEvent.JOB_PROGRESS,
            receivers,
            f"{job.attempts}|{reached}",
            progress=float(reached),
        )

    def _queue(
        self,
        job: JobRecord,
        files: list[FileRecord],
        event: WebhookEvent,
        receivers: list[Receiver],
        moment: str,
        *,
        progress: float | None = None,
    ) -> None:
        if not receivers:
            return
        data = {"job": job_view(job, files, progress=progress)}
        for receiver in receivers:
            delivery_id = delivery_id_for(receiver, job.id, event, moment)
            self.outbox.add(delivery_id, receiver, event, data, job_id=job.id)
        self.queued()

    def _load(self, job_id: str) -> tuple[JobRecord, list[FileRecord]] | None:
        with self.sessions() as session:
            job = session.get(Job, job_id)
            if job is None:
                return None
            files = session.scalars(
                select(StoredFile)
                .where(StoredFile.job_id == job_id)
                .order_by(StoredFile.created_at)
            ).all()
            return JobRecord.model_validate(job), [FileRecord.model_validate(f) for f in files]
