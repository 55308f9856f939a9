"""Registered endpoints: a user's receivers of job events, each with its own sealed secret."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from clipmill.accounts.models import WebhookDelivery, WebhookEndpoint
from clipmill.accounts.vault import SecretBox
from clipmill.clock import Clock
from clipmill.errors import Conflict, NotFound
from clipmill.webhooks.outbox import Receiver
from clipmill.webhooks.schemas import (
    DEFAULT_EVENTS,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    WebhookEvent,
)
from clipmill.webhooks.signing import new_endpoint_secret

MAX_ENDPOINTS = 25
"""Endpoints one user may register."""


class EndpointStore:
    """CRUD of endpoints, always scoped to an owner: another user's id is a 404."""

    def __init__(self, sessions: sessionmaker[Session], box: SecretBox, clock: Clock) -> None:
        self.sessions = sessions
        self.box = box
        self.clock = clock

    def create(self, owner_id: str, request: EndpointIn) -> EndpointSecretOut:
        secret = new_endpoint_secret()
        with self.sessions() as session, session.begin():
            count = session.scalar(select(func.count()).where(WebhookEndpoint.owner_id == owner_id))
            if (count or 0) >= MAX_ENDPOINTS:
                raise Conflict(
                    f"You have {MAX_ENDPOINTS} webhooks already; delete one first.",
                    code="webhook_limit",
                )
            row = WebhookEndpoint(
                owner_id=owner_id,
                url=request.url,
                secret_ciphertext=self.box.seal(secret.encode()),
                events=[e.value for e in request.events or DEFAULT_EVENTS],
                active=True,
                description=request.description,
                created_at=self.clock.now(),
            )
            session.add(row)
            session.flush()
            return EndpointSecretOut(**_out(row).model_dump(), secret=secret)

    def list_for(self, owner_id: str) -> list[EndpointOut]:
        with self.sessions() as session:
            rows = session.scalars(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.owner_id == owner_id)
                .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
            ).all()
            return [_out(r) for r in rows]

    def get(self, owner_id: str, endpoint_id: str) -> EndpointOut:
        with self.sessions() as session:
            return _out(_owned(session, owner_id, endpoint_id))

    def update(self, owner_id: str, endpoint_id: str, patch: EndpointPatch) -> EndpointOut:
        with self.sessions() as session, session.begin():
            row = _owned(session, owner_id, endpoint_id)
            if patch.url is not None:
                row.url = patch.url
            if patch.events is not None:
                row.events = [e.value for e in patch.events]
            if patch.active is not None:
                row.active = patch.active
            if "description" in patch.model_fields_set:
                row.description = patch.description
            session.flush()
            return _out(row)

    def rotate(self, owner_id: str, endpoint_id: str) -> EndpointSecretOut:
        secret = new_endpoint_secret()
        with self.sessions() as session, session.begin():
            row = _owned(session, owner_id, endpoint_id)
            row.secret_ciphertext = self.box.seal(secret.encode())
            session.flush()
            return EndpointSecretOut(**_out(row).model_dump(), secret=secret)

    def delete(self, owner_id: str, endpoint_id: str) -> None:
        """Forget an endpoint and its delivery log (pending deliveries are not sent)."""
        with self.sessions() as session, session.begin():
            row = _owned(session, owner_id, endpoint_id)
            session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == row.id))
            session.delete(row)

    # -- for deliveries -------------------------------------------------------------------------
    def subscribed(self, owner_id: str, event: WebhookEvent) -> list[Receiver]:
        """The owner's active endpoints that asked for ``event``."""
        with self.sessions() as session:
            rows = session.scalars(
                select(WebhookEndpoint).where(
                    WebhookEndpoint.owner_id == owner_id, WebhookEndpoint.active.is_(True)
                )
            ).all()
            return [
                Receiver(owner_id=owner_id, url=r.url, endpoint_id=r.id)
                for r in rows
                if event.value in (r.events or [])
            ]

    def target(self, endpoint_id: str) -> tuple[str, str, bool] | None:
        """(url, secret, active) of an endpoint, or None once it is deleted."""
        with self.sessions() as session:
            row = session.get(WebhookEndpoint, endpoint_id)
            if row is None:
                return None
            return row.url, self.box.open(row.secret_ciphertext).decode(), row.active


def _owned(session: Session, owner_id: str, endpoint_id: str) -> WebhookEndpoint:
    row = session.get(WebhookEndpoint, endpoint_id)
    if row is None or row.owner_id != owner_id:
        raise NotFound(f"No webhook {endpoint_id}.", resource="webhook")
    return row


def _out(row: WebhookEndpoint) -> EndpointOut:
    return EndpointOut.model_validate(row)
