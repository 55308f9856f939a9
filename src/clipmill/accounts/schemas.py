"""What clients send and see about accounts, keys and tokens (the tables live in `models.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from clipmill.accounts.principal import Principal

NAME_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
PASSWORD_MIN, PASSWORD_MAX = 8, 1024

UserName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=NAME_PATTERN,
        description="1-64 of A-Z a-z 0-9 _ . @ -; compared without case.",
    ),
]
Password = Annotated[
    str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX, description="8-1024 characters.")
]


class Record(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class UserOut(Record):
    """An account as its owner and admins see it (never its password hash)."""

    id: str
    name: str
    is_admin: bool
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None = None


class UserList(BaseModel):
    users: list[UserOut]


class KeyOut(Record):
    """An API key's record: the secret itself is shown once, at creation, and never again."""

    id: str
    name: str
    prefix: str = Field(description="The first characters of the key, to tell keys apart.")
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class KeyList(BaseModel):
    keys: list[KeyOut]


class KeyCreated(BaseModel):
    key: str = Field(description="The API key. Shown this once: store it now.")
    record: KeyOut


class RegisterIn(BaseModel):
    username: UserName
    password: Password


class LoginIn(BaseModel):
    # a login checks, it does not validate: any string is just a wrong name or password
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class LogoutIn(BaseModel):
    refresh_token: str | None = Field(
        None, max_length=4096, description="Also end this refresh token."
    )


class KeyCreateIn(BaseModel):
    name: str = Field("api key", min_length=1, max_length=200)
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class TokenPair(BaseModel):
    """What a login or a refresh answers."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the access token lives.")
    user: UserOut


class TicketOut(BaseModel):
    ticket: str = Field(description="Single use; pass as ?ticket= to /ws/{job_id} or .../events.")
    expires_in: int


class TokenKind(StrEnum):
    """The ``typ`` claim: what a signed token may be used for."""

    ACCESS = "access"
    """Every authenticated request (Authorization: Bearer, or the session cookie)."""
    REFRESH = "refresh"
    """Only the refresh route, which trades it (once) for a new pair."""
    TICKET = "ticket"
    """Only ``?ticket=`` on the live routes (WebSocket, SSE), once, for seconds."""


class CredentialKind(StrEnum):
    """How a request proved who it is."""

    BEARER = "bearer"
    COOKIE = "cookie"
    API_KEY = "api_key"
    TICKET = "ticket"


@dataclass(frozen=True)
class Authenticated:
    """The outcome of checking a request's credential: who, and with what (logout needs it)."""

    principal: Principal
    via: CredentialKind
    token_id: str | None = None
    token_expires: datetime | None = None
