"""Accounts: users, passwords, login tokens, API keys; who a request's credentials name.

Every check re-reads the user row, so disabling an account stops its tokens and keys at once.
Names are stored in lower case (the column's unique index then enforces case-insensitive
uniqueness, with no window between a check and an insert).
"""

from __future__ import annotations

import hmac
import re
import threading
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from clipmill.accounts.keys import hash_key, new_key
from clipmill.accounts.models import ApiKey, RevokedToken
from clipmill.accounts.passwords import Passwords
from clipmill.accounts.principal import LOCAL_USER, Principal
from clipmill.accounts.schemas import (
    NAME_PATTERN,
    PASSWORD_MAX,
    PASSWORD_MIN,
    Authenticated,
    CredentialKind,
    KeyOut,
    TokenKind,
    TokenPair,
    UserOut,
)
from clipmill.accounts.tokens import Claims, TokenCodec
from clipmill.clock import Clock, SystemClock
from clipmill.config import AuthMode, Settings
from clipmill.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized
from clipmill.jobs.models import User
from clipmill.storage.signing import load_or_create_secret

ACCOUNTS_OFF = (
    "Accounts are off on this server (CLIPMILL_AUTH=none): every request acts as the local "
    "user. Set CLIPMILL_AUTH=users to turn accounts on."
)
LOGINS_OFF = (
    "This server takes operator-issued API keys only (CLIPMILL_AUTH=apikey); "
    "set CLIPMILL_AUTH=users for logins."
)
#: an API key's last_used_at is written at most this often (not on every request)
LAST_USED_EVERY = timedelta(minutes=1)
PURGE_EVERY_SECONDS = 3600.0
_NAME = re.compile(NAME_PATTERN)


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Only an administrator may do this.", code="admin_only")


class AccountService:
    """Users, their credentials, and the check of a credential on every request."""

    def __init__(
        self, sessions: sessionmaker[Session], settings: Settings, *, clock: Clock | None = None
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.passwords = Passwords()
        self.tokens = TokenCodec(
            settings.secret_key or load_or_create_secret(settings.data_dir), self.clock
        )
        self._last_purge = 0.0
        self._purge_lock = threading.Lock()

    # users -------------------------------------------------------------------------------

    def create_user(
        self, name: str, password: str | None = None, *, is_admin: bool = False
    ) -> UserOut:
        """Create an account (any auth mode: the CLI makes users for ``apikey`` too).

        Without a password the account can only use API keys."""
        if not _NAME.fullmatch(name):
            raise InvalidRequest(
                "A user name is 1-64 characters of letters, digits and _ . @ -.",
                code="invalid_name",
            )
        if password is not None and not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            raise InvalidRequest(
                f"A password is {PASSWORD_MIN} to {PASSWORD_MAX} characters.",
                code="invalid_password",
            )
        hashed = self.passwords.hash(password) if password is not None else None
        user = User(
            name=name.lower(), password_hash=hashed, is_admin=is_admin, created_at=self.clock.now()
        )
        try:
            with self.sessions() as session, session.begin():
                if _by_name(session, name) is not None:
                    raise _name_taken(name)
                session.add(user)
        except IntegrityError:
            raise _name_taken(name) from None
        return UserOut.model_validate(user)

    def register(self, name: str, password: str) -> UserOut:
        """Self-service sign-up; never makes an admin (admins come from the CLI)."""
        self._require_users_mode()
        if not self.settings.registration_open or self.settings.auth is not AuthMode.USERS:
            raise Forbidden(
                "Registration is closed on this server; ask its operator for an account.",
                code="registration_closed",
            )
        return self.create_user(name, password)

    def get_user(self, user_id: str) -> UserOut:
        with self.sessions() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound("No such user.")
            return UserOut.model_validate(user)

    def find_user(self, name_or_id: str) -> UserOut:
        with self.sessions() as session:
            user = session.get(User, name_or_id) or _by_name(session, name_or_id)
            if user is None:
                raise NotFound(f"No user named {name_or_id!r}.")
            return UserOut.model_validate(user)

    def list_users(self) -> list[UserOut]:
        with self.sessions() as session:
            query = select(User).order_by(User.created_at, User.name)
            if self.settings.auth is not AuthMode.NONE:
                # a database first run with auth=none holds the local owner; with accounts
                # on it signs nobody in, so it is not one of the users an admin manages
                query = query.where(User.id != LOCAL_USER.user_id)
            users = session.scalars(query)
            return [UserOut.model_validate(u) for u in users]

    def set_disabled(self, name_or_id: str, disabled: bool) -> UserOut:
        """Disable (or enable) an account; its tokens and keys stop on their next request."""
        with self.sessions() as session, session.begin():
            user = session.get(User, name_or_id) or _by_name(session, name_or_id)
            if user is None:
                raise NotFound(f"No user named {name_or_id!r}.")
            user.disabled = disabled
            return UserOut.model_validate(user)

    def principal_for(self, user_id: str) -> Principal:
        """The principal of an account (a disabled one is refused, `account_disabled`)."""
        with self.sessions() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound("No such user.")
            return _principal(user)

    # logins and tokens -------------------------------------------------------------------

    def login(self, name: str, password: str) -> TokenPair:
        self._require_users_mode()
        with self.sessions() as session, session.begin():
            user = _by_name(session, name) if _NAME.fullmatch(name) else None
            # an unknown name checks a dummy hash: the answer takes as long either way
            check = self.passwords.check(user.password_hash if user else None, password)
            if user is None or not check.ok:
                raise Unauthorized("Wrong user name or password.", code="invalid_credentials")
            if user.disabled:
                raise _disabled()
            if check.new_hash is not None:
                user.password_hash = check.new_hash
            user.last_login_at = self.clock.now()
            out = UserOut.model_validate(user)
        return self._pair(out)

    def refresh(self, refresh_token: str) -> TokenPair:
        """Trade a refresh token for a new pair; the old one is spent (rotation)."""
        self._require_users_mode()
        claims = self.tokens.decode(refresh_token, TokenKind.REFRESH)
        with self.sessions() as session, session.begin():
            principal = _principal(session.get(User, claims.sub))
            _spend(session, claims)
            out = UserOut.model_validate(session.get(User, principal.user_id))
        return self._pair(out)

    def logout(self, auth: Authenticated, refresh_token: str | None = None) -> None:
        """End the token the request came with (and ``refresh_token``, if it is the caller's)."""
        if auth.token_id is None or auth.token_expires is None:
            raise Conflict(
                "Nothing to log out: an API key ends with DELETE /api/v1/auth/keys/{key_id}.",
                code="not_a_session",
            )
        with self.sessions() as session, session.begin():
            _revoke(session, auth.token_id, auth.token_expires)
            if refresh_token:
                try:
                    claims = self.tokens.decode(refresh_token, TokenKind.REFRESH)
                except Unauthorized:
                    claims = None  # already dead: nothing to end
                if claims is not None and claims.sub == auth.principal.user_id:
                    _revoke(session, claims.jti, claims.expires_at)
        self.purge_revoked()

    def issue_ticket(self, principal: Principal) -> str:
        """A single-use token for ``?ticket=`` on the live routes, good for seconds."""
        ttl = self.settings.ticket_ttl_seconds
        return self.tokens.issue(principal.user_id, TokenKind.TICKET, ttl).token

    def purge_revoked(self, *, force: bool = False) -> int:
        """Forget revoked tokens past their expiry (they fail on ``exp`` anyway); hourly."""
        now = self.clock.time()
        with self._purge_lock:
            if not force and now - self._last_purge < PURGE_EVERY_SECONDS:
                return 0
            self._last_purge = now
        with self.sessions() as session, session.begin():
            result = session.execute(
                delete(RevokedToken).where(RevokedToken.expires_at < self.clock.now())
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def _pair(self, user: UserOut) -> TokenPair:
        access = self.tokens.issue(user.id, TokenKind.ACCESS, self.settings.token_ttl_seconds)
        refresh = self.tokens.issue(user.id, TokenKind.REFRESH, self.settings.refresh_ttl_seconds)
        return TokenPair(
            access_token=access.token,
            refresh_token=refresh.token,
            expires_in=self.settings.token_ttl_seconds,
            user=user,
        )

    def _require_users_mode(self) -> None:
        if self.settings.auth is AuthMode.NONE:
            raise NotFound(ACCOUNTS_OFF, code="accounts_off")

    def require_accounts(self, *, logins: bool = False) -> None:
        """Refuse account routes where they mean nothing: all with auth=none, logins with
        auth=apikey."""
        self._require_users_mode()
        if logins and self.settings.auth is AuthMode.APIKEY:
            raise NotFound(LOGINS_OFF, code="logins_off")

    # api keys ----------------------------------------------------------------------------

    def create_key(
        self, owner: Principal, name: str, *, expires_at: datetime | None = None
    ) -> tuple[KeyOut, str]:
        """A new key for ``owner``: its record, and the secret (shown once, never stored)."""
        material = new_key()
        row = ApiKey(
            owner_id=owner.user_id,
            name=name,
            prefix=material.prefix,
            key_hash=material.key_hash,
            created_at=self.clock.now(),
            expires_at=expires_at,
        )
        with self.sessions() as session, session.begin():
            _principal(session.get(User, owner.user_id))
            session.add(row)
        return KeyOut.model_validate(row), material.secret

    def issue_key(
        self, owner: Principal, name: str, expires_in_days: int | None = None
    ) -> tuple[KeyOut, str]:
        """A key a user asks for over the API (with auth=apikey only the operator issues keys)."""
        self._require_users_mode()
        if self.settings.auth is AuthMode.APIKEY:
            raise Forbidden(
                "API keys are issued by the operator here: clipmill key create --user NAME.",
                code="operator_only",
            )
        expires = self.clock.now() + timedelta(days=expires_in_days) if expires_in_days else None
        return self.create_key(owner, name, expires_at=expires)

    def list_keys(self, owner: Principal) -> list[KeyOut]:
        with self.sessions() as session:
            rows = session.scalars(
                select(ApiKey).where(ApiKey.owner_id == owner.user_id).order_by(ApiKey.created_at)
            )
            return [KeyOut.model_validate(r) for r in rows]

    def revoke_key(self, owner: Principal, key_id: str) -> KeyOut:
        """Revoke one of ``owner``'s keys (another user's key is a 404, as for jobs)."""
        with self.sessions() as session, session.begin():
            row = session.get(ApiKey, key_id)
            if row is None or row.owner_id != owner.user_id:
                raise NotFound("No such API key.")
            if row.revoked_at is None:
                row.revoked_at = self.clock.now()
            return KeyOut.model_validate(row)

    # checking credentials ----------------------------------------------------------------

    def authenticate(self, kind: CredentialKind, value: str) -> Authenticated:
        """Who ``value`` (sent as ``kind``) names; raise Unauthorized with a code if no one."""
        if kind is CredentialKind.API_KEY:
            return self._by_key(value)
        token_kind = TokenKind.TICKET if kind is CredentialKind.TICKET else TokenKind.ACCESS
        claims = self.tokens.decode(value, token_kind)
        with self.sessions() as session, session.begin():
            principal = _principal(session.get(User, claims.sub))
            if token_kind is TokenKind.TICKET:
                _spend(session, claims)
            elif session.get(RevokedToken, claims.jti) is not None:
                raise _revoked()
        return Authenticated(principal, kind, claims.jti, claims.expires_at)

    def _by_key(self, secret: str) -> Authenticated:
        digest = hash_key(secret)
        now = self.clock.now()
        with self.sessions() as session, session.begin():
            row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
            if row is None or not hmac.compare_digest(row.key_hash, digest):
                raise Unauthorized("The API key is not valid.", code="invalid_api_key")
            if row.revoked_at is not None:
                raise Unauthorized("The API key was revoked.", code="api_key_revoked")
            if row.expires_at is not None and row.expires_at <= now:
                raise Unauthorized("The API key has expired.", code="api_key_expired")
            principal = _principal(session.get(User, row.owner_id), key_id=row.id)
            if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
                row.last_used_at = now
        return Authenticated(principal, CredentialKind.API_KEY)


def _by_name(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.name) == name.lower()))


def _principal(user: User | None, *, key_id: str | None = None) -> Principal:
    if user is None:
        raise Unauthorized("The account no longer exists.", code="invalid_token")
    if user.disabled:
        raise _disabled()
    return Principal(user_id=user.id, name=user.name, is_admin=user.is_admin, key_id=key_id)


def _spend(session: Session, claims: Claims) -> None:
    """Mark a single-use token used; a second use (even a racing one) is refused."""
    if session.get(RevokedToken, claims.jti) is not None:
        raise _revoked()
    try:
        session.add(RevokedToken(jti=claims.jti, expires_at=claims.expires_at))
        session.flush()  # the primary key decides a race; the caller's transaction rolls back
    except IntegrityError:
        raise _revoked() from None


def _revoke(session: Session, jti: str, expires_at: datetime) -> None:
    if session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, expires_at=expires_at))


def _revoked() -> Unauthorized:
    return Unauthorized(
        "The token was revoked or already used; sign in again.", code="token_revoked"
    )


def _disabled() -> Unauthorized:
    return Unauthorized("This account is disabled.", code="account_disabled")


def _name_taken(name: str) -> Conflict:
    return Conflict(f"The name {name!r} is taken.", code="name_taken")
