"""API key material: ``cm_`` + 32 random bytes; only the SHA-256 of the whole key is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

KEY_PREFIX = "cm_"
DISPLAY_CHARS = 10
MAX_KEY_CHARS = 200


@dataclass(frozen=True)
class NewKey:
    secret: str
    key_hash: str
    prefix: str


def new_key() -> NewKey:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(secret=secret, key_hash=hash_key(secret), prefix=secret[:DISPLAY_CHARS])


def hash_key(secret: str) -> str:
    # a key is 256 random bits, so a fast hash is enough: nothing to brute-force
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_key(value: str) -> bool:
    """Whether a bearer value is an API key rather than a JWT (keys start with ``cm_``)."""
    return value.startswith(KEY_PREFIX)
