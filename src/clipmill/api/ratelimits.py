"""Rate limits per IP and per caller, through the `limits` library."""

from __future__ import annotations

from fastapi import FastAPI

from clipmill.config import Settings


def install_rate_limits(app: FastAPI, settings: Settings) -> None:
    """Add the rate-limit middleware (to be written)."""
