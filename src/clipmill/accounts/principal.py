"""The acting user of a request or a CLI run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """Who is asking. Every owner-facing service call takes one; queries are scoped by it."""

    user_id: str
    name: str


LOCAL_USER = Principal(user_id="local", name="local")
