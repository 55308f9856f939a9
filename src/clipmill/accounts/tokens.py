"""Signed tokens (JWT, PyJWT): login (access), refresh and live-route tickets.

One algorithm, HS256, under a key derived from the service secret for this purpose alone (a file
link signature can never pass for a token, nor the reverse). Every claim is required; the
header may carry nothing but ``alg`` and ``typ`` (no ``kid``, ``jku``, ``x5u``, ``crit``...:
clipmill never sets them, so a token that has them was not made here). Times are checked
against the injected clock, not PyJWT's, so tests move time instead of sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from clipmill.accounts.schemas import TokenKind
from clipmill.clock import Clock
from clipmill.errors import Unauthorized

ALGORITHM = "HS256"
AUDIENCE = ISSUER = "clipmill"
REQUIRED = ["sub", "exp", "iat", "nbf", "jti", "aud", "iss", "typ"]
LEEWAY_SECONDS = 10
MAX_TOKEN_CHARS = 4096
_HEADER_FIELDS = {"alg", "typ"}


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class Claims:
    """A token's checked claims."""

    sub: str
    jti: str
    kind: TokenKind
    expires_at: datetime


def derive_key(secret: str, purpose: bytes = b"clipmill-jwt") -> bytes:
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def invalid(message: str = "The token is not valid; sign in again.") -> Unauthorized:
    return Unauthorized(message, code="invalid_token")


class TokenCodec:
    def __init__(self, secret: str, clock: Clock) -> None:
        self._key = derive_key(secret)
        self._clock = clock

    def issue(self, user_id: str, kind: TokenKind, ttl_seconds: int) -> IssuedToken:
        now = int(self._clock.time())
        jti = secrets.token_urlsafe(18)
        claims = {
            "sub": user_id,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": jti,
            "aud": AUDIENCE,
            "iss": ISSUER,
            "typ": kind.value,
        }
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM)
        return IssuedToken(token, jti, datetime.fromtimestamp(now + ttl_seconds, UTC))

    def decode(self, token: str, kind: TokenKind) -> Claims:
        """Check ``token`` for use as ``kind``; raise Unauthorized (`invalid_token`,
        `token_expired`) otherwise. Revocation is the caller's business (it needs the store)."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise invalid()
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != ALGORITHM or not set(header) <= _HEADER_FIELDS:
                raise invalid()
            payload: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={
                    "require": REQUIRED,
                    # times are checked below against our clock
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "strict_aud": True,
                },
            )
        except jwt.PyJWTError as exc:
            raise invalid() from exc
        exp, nbf, iat = payload["exp"], payload["nbf"], payload["iat"]
        sub, jti, typ = payload["sub"], payload["jti"], payload["typ"]
        if not all(_is_number(value) for value in (exp, nbf, iat)):
            raise invalid()
        if not all(isinstance(value, str) and value for value in (sub, jti, typ)):
            raise invalid()
        if len(jti) > 64:
            raise invalid()
        now = self._clock.time()
        if iat > now + LEEWAY_SECONDS or nbf > now + LEEWAY_SECONDS:
            raise invalid("The token is not valid yet.")
        if typ != kind.value:
            raise invalid(_wrong_kind(typ, kind))
        if exp <= now - LEEWAY_SECONDS:
            raise Unauthorized("The token has expired; sign in again.", code="token_expired")
        return Claims(sub, jti, kind, datetime.fromtimestamp(exp, UTC))


def _is_number(value: object) -> bool:
    return type(value) in (int, float)


def _wrong_kind(typ: object, wanted: TokenKind) -> str:
    if wanted is TokenKind.REFRESH:
        return "Send a refresh token here, not an access token."
    if typ == TokenKind.REFRESH.value:
        return "A refresh token only works at /api/v1/auth/refresh."
    return "The token is not valid here."
