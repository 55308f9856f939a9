"""The delivery log, which is also the retry queue: a delivery is a row before it is a request.

Rows are written first and sent after, so what is not delivered yet survives a restart. A worker
takes a due row by bumping its ``attempts`` and pushing ``next_attempt_at`` out by a lease in one
conditional UPDATE; two processes on one database therefore never send the same attempt twice,
and a row whose sender died comes due again when its lease runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from clipmill.accounts.models import WebhookDelivery, WebhookEndpoint
from clipmill.clock import Clock
from clipmill.errors import NotFound
from clipmill.webhooks.payload import event_body
from clipmill.webhooks.schemas import DeliveryOut, DeliveryPage, DeliveryStatus, WebhookEvent
from clipmill.webhooks.sender import Outcome


@dataclass(frozen=True)
class Receiver:
    """Where one event goes: a registered endpoint, or a job's own ``webhook_url``."""

    owner_id: str
    url: str
    endpoint_id: str | None = None


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds for one attempt (``attempt`` is its fencing token)."""

    id: str
    attempt: int
    owner_id: str
    endpoint_id: str | None
    url: str
    event: str
    payload: dict[str, Any]


class Outbox:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    # -- writing --------------------------------------------------------------------------------
    def add(
        self,
        delivery_id: str,
        receiver: Receiver,
        event: WebhookEvent,
        data: dict[str, Any],
        *,
        job_id: str | None = None,
    ) -> DeliveryOut | None:
        """Store a pending delivery; None if one with this id exists (the event was queued
        already, by this process or another)."""
        now = self.clock.now()
        row = WebhookDelivery(
            id=delivery_id,
            owner_id=receiver.owner_id,
            endpoint_id=receiver.endpoint_id,
            job_id=job_id,
            url=receiver.url,
            event=event.value,
            payload=event_body(delivery_id, event, now, data),
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        try:
            with self.sessions() as session, session.begin():
                if session.get(WebhookDelivery, delivery_id) is not None:
                    return None
                session.add(row)
                session.flush()
                return DeliveryOut.model_validate(row)
        except IntegrityError:  # inserted meanwhile by another process
            return None

    def claim_due(self, lease: float) -> Claimed | None:
        """Take the most overdue pending delivery for one attempt, or None if none is due."""
        now = self.clock.now()
        with self.sessions() as session, session.begin():
            candidates = session.execute(
                select(WebhookDelivery.id, WebhookDelivery.attempts)
                .where(
                    WebhookDelivery.status == DeliveryStatus.PENDING.value,
                    WebhookDelivery.next_attempt_at <= now,
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(8)
            ).all()
            for delivery_id, attempts in candidates:
                taken = session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id == delivery_id,
                        WebhookDelivery.status == DeliveryStatus.PENDING.value,
                        WebhookDelivery.attempts == attempts,
                    )
                    .values(attempts=attempts + 1, next_attempt_at=now + timedelta(seconds=lease))
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    row = session.get_one(WebhookDelivery, delivery_id)
                    session.refresh(row)
                    return Claimed(
                        id=row.id,
                        attempt=row.attempts,
                        owner_id=row.owner_id,
                        endpoint_id=row.endpoint_id,
                        url=row.url,
                        event=row.event,
                        payload=dict(row.payload),
                    )
        return None

    def seconds_until_due(self) -> float | None:
        """How long until the next pending delivery is due (0 if overdue); None if none waits."""
        with self.sessions() as session:
            due = session.scalar(
                select(func.min(WebhookDelivery.next_attempt_at)).where(
                    WebhookDelivery.status == DeliveryStatus.PENDING.value
                )
            )
        if due is None:
            return None
        return max(0.0, (_aware(due) - self.clock.now()).total_seconds())

    def settle(
        self,
        claimed: Claimed,
        outcome: Outcome,
        *,
        retry_in: float | None,
        url: str,
        disable_endpoint: bool = False,
    ) -> None:
        """Record an attempt: delivered, failed for good, or due again in ``retry_in`` s."""
        now = self.clock.now()
        values: dict[str, Any] = {
            "url": url,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
        }
        if outcome.delivered:
            values.update(status=DeliveryStatus.DELIVERED.value, delivered_at=now,
                          next_attempt_at=None)  # fmt: skip
        elif retry_in is None:
            values.update(status=DeliveryStatus.FAILED.value, next_attempt_at=None)
        else:
            values.update(next_attempt_at=now + timedelta(seconds=retry_in))
        with self.sessions() as session, session.begin():
            session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == claimed.id,
                    WebhookDelivery.attempts == claimed.attempt,
                    WebhookDelivery.status == DeliveryStatus.PENDING.value,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if disable_endpoint and claimed.endpoint_id is not None:
                session.execute(
                    update(WebhookEndpoint)
                    .where(WebhookEndpoint.id == claimed.endpoint_id)
                    .values(active=False)
                    .execution_options(synchronize_session=False)
                )

    # -- reading --------------------------------------------------------------------------------
    def get(self, owner_id: str, delivery_id: str) -> DeliveryOut:
        with self.sessions() as session:
            row = session.get(WebhookDelivery, delivery_id)
            if row is None or row.owner_id != owner_id:
                raise NotFound(f"No webhook delivery {delivery_id}.", resource="delivery")
            return DeliveryOut.model_validate(row)

    def page(
        self,
        owner_id: str,
        *,
        endpoint_id: str | None = None,
        job_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> DeliveryPage:
        """A page of deliveries, newest first: an endpoint's, or those of a job's own URL."""
        query = select(WebhookDelivery).where(WebhookDelivery.owner_id == owner_id)
        if endpoint_id is not None:
            query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
        if job_id is not None:
            query = query.where(
                WebhookDelivery.job_id == job_id, WebhookDelivery.endpoint_id.is_(None)
            )
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
                .limit(limit)
                .offset(offset)
            ).all()
            items = [DeliveryOut.model_validate(r) for r in rows]
        return DeliveryPage(items=items, total=total, limit=limit, offset=offset)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
