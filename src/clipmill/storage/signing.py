"""Signed, expiring file links (itsdangerous). A link names a file id and nothing else."""

from __future__ import annotations

import secrets
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from clipmill.clock import Clock, SystemClock
from clipmill.errors import Forbidden


class LinkSigner:
    """Signs and checks link tokens; ``clock`` decides when they expire."""

    def __init__(self, secret: str, *, ttl: int, clock: Clock | None = None) -> None:
        self._serializer = URLSafeTimedSerializer(
            secret, salt="clipmill.file-link", signer=_timestamped_by(clock or SystemClock())
        )
        self.ttl = ttl

    def sign(self, file_id: str) -> str:
        return self._serializer.dumps({"f": file_id})

    def verify(self, token: str) -> str:
        """Return the file id, or raise Forbidden (`link_expired` / `link_invalid`)."""
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
