"""The acting user of a request or a CLI run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """Who is asking. Every owner-facing service call takes one; queries are scoped by it.

    ``is_admin`` lifts the owner filter (an admin sees every user's jobs); ``key_id`` names the
    API key the request came with, if any (rate limits count per key).
    """

    user_id: str
    name: str
    is_admin: bool = False
    key_id: str | None = None

    @property
    def rate_key(self) -> str:
        """The budget this caller spends: its key's, else its account's."""
        return f"key:{self.key_id}" if self.key_id else f"user:{self.user_id}"


LOCAL_USER = Principal(user_id="local", name="local", is_admin=True)
"""Embedded mode (auth ``none``): the one user, who owns and sees everything."""
