"""Password hashes: argon2id (argon2-cffi), rehashed on login when the parameters change."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@dataclass(frozen=True)
class PasswordCheck:
    ok: bool
    new_hash: str | None = None
    """Set when the stored hash used older parameters: store this one instead."""


class Passwords:
    """Hash and check passwords; checking an unknown user costs the same as a known one."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile

    @cached_property
    def _dummy(self) -> str:
        # made on first use, not at startup: every process (CLI, worker) builds this service
        return self._hasher.hash("clipmill: no such user")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def check(self, stored: str | None, password: str) -> PasswordCheck:
        """Whether ``password`` matches ``stored``; with no stored hash, a dummy is checked so
        the answer takes as long as for a real account (login timing does not reveal names)."""
        try:
            self._hasher.verify(stored or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return PasswordCheck(False)
        if stored is None:
            return PasswordCheck(False)
        if self._hasher.check_needs_rehash(stored):
            return PasswordCheck(True, self._hasher.hash(password))
        return PasswordCheck(True)
