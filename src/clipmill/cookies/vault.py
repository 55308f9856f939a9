"""Cookie files: validated on upload, sealed at rest, opened only into a job's private temp file.

A user uploads a Netscape cookies.txt (`netscape.parse_cookie_file`); it is stored encrypted
with the `SecretBox` (whose key never enters the database) along with what may be shown of it:
a name, the domains, the count. Jobs name a file by id (``cookies_id`` in their download or
shorts options); `check_job` runs before a job is created, so another user's id is a 404 and no
job exists. At run time the pipeline asks for the text (`cookie_text`, again scoped by the job's
owner) and `clipmill.cookies.jobfile` writes it into a private file for the fetch.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clipmill.accounts.models import CookieFile
from clipmill.accounts.principal import Principal
from clipmill.accounts.vault import SecretBox
from clipmill.config import Settings
from clipmill.cookies.netscape import CookieFileText, parse_cookie_file
from clipmill.cookies.schemas import CookieFileOut
from clipmill.errors import InvalidRequest, NotFound
from clipmill.jobs.enums import JobKind

COOKIES_OPTION = "cookies_id"
"""The key, in a job's download or shorts options, that names the owner's cookie file."""
MAX_NAME_LENGTH = 200
DEFAULT_NAME = "cookies.txt"


class CookieVault:
    """Users' cookie files; every method is scoped by the owner (another user's file is a 404,
    admins included: cookies are credentials, not data to administer)."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, box: SecretBox) -> None:
        self.sessions = sessions
        self.settings = settings
        self.box = box

    def add(self, owner: Principal, data: bytes, name: str | None = None) -> CookieFileOut:
        """Validate and store ``data`` (a cookies.txt); 422 ``invalid_cookies`` names the line."""
        parsed = parse_cookie_file(data)
        row = CookieFile(
            owner_id=owner.user_id,
            name=_clean_name(name),
            domains=parsed.domains,
            count=len(parsed.cookies),
            ciphertext=self.box.seal(parsed.text.encode()),
        )
        with self.sessions() as session, session.begin():
            session.add(row)
            session.flush()
            return CookieFileOut.model_validate(row)

    def list_files(self, owner: Principal) -> list[CookieFileOut]:
        with self.sessions() as session:
            rows = session.scalars(
                select(CookieFile)
                .where(CookieFile.owner_id == owner.user_id)
                .order_by(CookieFile.created_at, CookieFile.id)
            ).all()
            return [CookieFileOut.model_validate(r) for r in rows]

    def delete(self, owner: Principal, cookie_id: str) -> None:
        with self.sessions() as session, session.begin():
            session.delete(_owned(session, owner.user_id, cookie_id))

    def check_job(self, owner: Principal, kind: JobKind, options: Mapping[str, Any]) -> None:
        """The `JobService` check: every cookie file a new job names is the owner's."""
        ids = set(_cookie_ids(options))
        if not ids:
            return
        with self.sessions() as session:
            for cookie_id in ids:
                _owned(session, owner.user_id, cookie_id)

    def cookie_text(self, owner_id: str, cookie_id: str) -> CookieFileText:
        """The decrypted file of ``owner_id``'s, for a job of theirs about to fetch."""
        with self.sessions() as session:
            sealed = _owned(session, owner_id, cookie_id).ciphertext
        return parse_cookie_file(self.box.open(sealed))


def _owned(session: Session, owner_id: str, cookie_id: str) -> CookieFile:
    row = session.get(CookieFile, cookie_id) if isinstance(cookie_id, str) else None
    if row is None or row.owner_id != owner_id:
        raise NotFound(
            f"Cookie file {cookie_id!r} not found; list yours with GET /api/v1/auth/cookies.",
            code="not_found",
        )
    return row


def _cookie_ids(value: Any, depth: int = 0) -> Iterator[str]:
    """Every ``cookies_id`` in a job's options, wherever a kind keeps them (``download``,
    ``shorts``, a batch's items...)."""
    if depth > 4:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == COOKIES_OPTION and item is not None:
                yield str(item)
            else:
                yield from _cookie_ids(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _cookie_ids(item, depth + 1)


def _clean_name(name: str | None) -> str:
    cleaned = "".join(ch for ch in (name or "") if ch.isprintable()).strip()
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidRequest(
            f"name: at most {MAX_NAME_LENGTH} characters.", code="invalid_cookies", field="name"
        )
    return cleaned or DEFAULT_NAME
