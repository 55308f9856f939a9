"""Webhook endpoints, deliveries and their retries."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from clipmill.accounts.vault import SecretBox
from clipmill.clock import Clock
from clipmill.config import Settings
from clipmill.events.bus import EventBus


class WebhookService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        bus: EventBus,
        box: SecretBox,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.bus = bus
        self.box = box
        self.clock = clock

    def start(self) -> None:
        """Begin delivering (subscribe to job events, start the retry loop)."""

    def stop(self) -> None:
        """Stop delivering; what is not delivered yet stays in the log for the next start."""
