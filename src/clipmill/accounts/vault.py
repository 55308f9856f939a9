"""Encryption at rest for what users hand us to keep (cookie files, webhook secrets).

Fernet (AES-128-CBC + HMAC-SHA256, from the `cryptography` library) under a key that lives in
settings or in ``<data_dir>/vault.key`` (mode 0600), never in the database: a copy of the
database alone reveals nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from clipmill.config import Settings
from clipmill.errors import VaultError

KEY_FILE = "vault.key"


class SecretBox:
    def __init__(self, key: str | bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        return cls(settings.vault_key or load_or_create_key(settings.data_dir))

    def seal(self, plain: bytes) -> bytes:
        return self._fernet.encrypt(plain)

    def open(self, sealed: bytes) -> bytes:
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken as exc:
            raise VaultError(
                "A stored secret could not be decrypted: was CLIPMILL_VAULT_KEY changed?"
            ) from exc


def load_or_create_key(data_dir: Path) -> bytes:
    """The data dir's vault key, created (readable by the owner only) on first use."""
    path = data_dir / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
