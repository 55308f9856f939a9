"""Cookie files: validated on upload, sealed at rest, opened only into a job's private temp file."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from clipmill.accounts.vault import SecretBox
from clipmill.config import Settings


class CookieVault:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings, box: SecretBox) -> None:
        self.sessions = sessions
        self.settings = settings
        self.box = box
