"""Webhook vocabularies and the values the webhook service hands out (and the API shows)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clipmill.jobs.enums import JobStatus


class WebhookEvent(StrEnum):
    """What a delivery reports."""

    JOB_COMPLETED = "job.completed"  #: a top-level job finished with its files
    JOB_FAILED = "job.failed"  #: a top-level job stopped with an error
    JOB_CANCELLED = "job.cancelled"  #: a top-level job was cancelled
    JOB_PROGRESS = "job.progress"  #: a job passed 25, 50 or 75 % (endpoints that ask only)
    PING = "ping"  #: a test event asked for by the endpoint's owner

    @classmethod
    def for_status(cls, status: JobStatus) -> WebhookEvent | None:
        """The event of a job reaching ``status``, or None if it is not terminal."""
        return _TERMINAL_EVENTS.get(status)


_TERMINAL_EVENTS = {
    JobStatus.COMPLETED: WebhookEvent.JOB_COMPLETED,
    JobStatus.FAILED: WebhookEvent.JOB_FAILED,
    JobStatus.CANCELLED: WebhookEvent.JOB_CANCELLED,
}

DEFAULT_EVENTS = (WebhookEvent.JOB_COMPLETED, WebhookEvent.JOB_FAILED, WebhookEvent.JOB_CANCELLED)
"""What an endpoint receives unless it names its events."""

PROGRESS_MILESTONES = (25, 50, 75)


class DeliveryStatus(StrEnum):
    """Where a delivery is in its life."""

    PENDING = "pending"  #: waiting for its first or next attempt
    DELIVERED = "delivered"  #: the receiver answered 2xx
    FAILED = "failed"  #: out of attempts, refused by the guard, or the receiver is gone


def _subscribable(events: list[WebhookEvent] | None) -> list[WebhookEvent] | None:
    if events is None:
        return None
    if WebhookEvent.PING in events:
        raise ValueError("'ping' is sent on request only (POST /api/v1/webhooks/{id}/test)")
    if not events:
        raise ValueError("name at least one event, or leave events out for the default")
    return sorted(set(events), key=list(WebhookEvent).index)


_URL_RULES: dict[str, Any] = {
    "min_length": 1,
    "max_length": 2048,
    "description": "http(s) address that receives the events; no credentials in it.",
    "examples": ["https://hooks.example.com/clipmill"],
}


class EndpointIn(BaseModel):
    """A receiver to register."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., **_URL_RULES)
    events: list[WebhookEvent] | None = Field(
        None,
        max_length=8,
        description="Events to send (default: job.completed, job.failed, job.cancelled); "
        "add job.progress for 25/50/75 % milestones.",
    )
    description: str | None = Field(None, max_length=200)

    _events = field_validator("events")(_subscribable)


class EndpointPatch(BaseModel):
    """Fields of an endpoint to change; the others stay."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, **_URL_RULES)
    events: list[WebhookEvent] | None = Field(None, max_length=8)
    active: bool | None = None
    description: str | None = Field(None, max_length=200)

    _events = field_validator("events")(_subscribable)


class EndpointOut(BaseModel):
    """A registered endpoint as its owner sees it (never its secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    events: list[WebhookEvent]
    active: bool
    description: str | None = None
    created_at: datetime


class EndpointSecretOut(EndpointOut):
    """An endpoint with its signing secret: answered once, at creation or rotation."""

    secret: str = Field(description="Signs every delivery; shown only now, keep it safe.")


class EndpointListOut(BaseModel):
    items: list[EndpointOut]


class DeliveryOut(BaseModel):
    """One event to one receiver and how its attempts went."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="Also sent as X-Clipmill-Delivery; receivers dedupe by it.")
    endpoint_id: str | None = None
    job_id: str | None = None
    event: str
    url: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    payload: dict[str, Any]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    total: int
    limit: int
    offset: int


class SigningSecretOut(BaseModel):
    """The secret that signs deliveries to the ``webhook_url`` of your jobs."""

    secret: str
    header: str = "X-Clipmill-Signature"
    scheme: str = Field(
        "v1=hex(HMAC-SHA256(secret, timestamp + '.' + body))",
        description="See docs/webhooks.md for a verification snippet.",
    )
