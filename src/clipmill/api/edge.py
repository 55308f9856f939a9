"""The web edge: security headers, CORS, compression, trusted hosts, Origin checks, rate limits."""

from __future__ import annotations

from fastapi import FastAPI

from clipmill.config import Settings


def install_edge(app: FastAPI, settings: Settings) -> None:
    """Add the edge middlewares (to be written)."""
