"""Signed file links (itsdangerous). A link names a file id and nothing else.

A link works as long as its file is kept: the file route answers 410 once the retention
sweeper deleted the file, so a card loaded days ago still downloads while its file is there.
An operator who wants links shorter-lived than the files sets ``link_ttl_seconds``; the link
then also expires that long after it was made (403 ``link_expired``).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from clipmill.clock import Clock, SystemClock
from clipmill.errors import Forbidden


class LinkSigner:
    """Signs and checks link tokens; with a ``ttl``, ``clock`` decides when they expire."""

    def __init__(self, secret: str, *, ttl: int | None, clock: Clock | None = None) -> None:
        self._serializer = URLSafeTimedSerializer(
            secret, salt="clipmill.file-link", signer=_timestamped_by(clock or SystemClock())
        )
        self.ttl = ttl

    def sign(self, file_id: str) -> str:
        return self._serializer.dumps({"f": file_id})

    def verify(self, token: str) -> str:
        """Return the file id, or raise Forbidden (`link_expired` past a set ``ttl``, or
        `link_invalid`)."""
        try:
            payload = self._serializer.loads(token, max_age=self.ttl)
        except SignatureExpired as exc:
            raise Forbidden(
                "This link has expired; ask for a new one.", code="link_expired"
            ) from exc
        except BadSignature as exc:
            raise Forbidden("This link is not valid.", code="link_invalid") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("f"), str):
            raise Forbidden("This link is not valid.", code="link_invalid")
        return payload["f"]


PRESIGNED_MAX_SECONDS = 7 * 86400
"""The longest an S3 presigned link may live (Signature Version 4)."""
PRESIGNED_MIN_SECONDS = 60


def link_ttl(remaining: timedelta, cap: int | None) -> int:
    """Seconds a presigned (S3) link to a file kept ``remaining`` longer should live: until
    the file goes, within what SigV4 allows and the operator's ``link_ttl_seconds``."""
    seconds = max(PRESIGNED_MIN_SECONDS, int(remaining.total_seconds()))
    return min(seconds, PRESIGNED_MAX_SECONDS, cap or PRESIGNED_MAX_SECONDS)


def _timestamped_by(clock: Clock) -> type[TimestampSigner]:
    class ClockedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock.time())

    return ClockedSigner


def load_or_create_secret(data_dir: Path) -> str:
    """The signing key: kept in the data dir so links survive restarts."""
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
