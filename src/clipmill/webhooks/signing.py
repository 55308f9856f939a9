"""Webhook secrets and signatures.

Every delivery is signed ``v1=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>``, the key
being the whole secret string (``whsec_...``) as UTF-8. A registered endpoint has its own random
secret (stored sealed); a job's own ``webhook_url`` is signed with its owner's account signing
secret, derived from the server secret so that nothing needs storing and it survives restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
TOLERANCE_SECONDS = 300
"""How old a timestamp receivers should accept (the documented check uses it)."""


def new_endpoint_secret() -> str:
    """A fresh random secret for a registered endpoint (shown to its owner once)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def account_secret(server_secret: str, owner_id: str) -> str:
    """The signing secret of ``owner_id``'s per-job webhooks: HMAC(server secret, owner)."""
    digest = hmac.new(
        server_secret.encode(), f"webhook:{owner_id}".encode(), hashlib.sha256
    ).hexdigest()
    return SECRET_PREFIX + digest


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Clipmill-Signature`` value of ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"
