"""Accounts: users, passwords, login tokens, API keys; who a request's credentials name."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from clipmill.clock import Clock
from clipmill.config import Settings


class AccountService:
    def __init__(
        self, sessions: sessionmaker[Session], settings: Settings, *, clock: Clock | None = None
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
