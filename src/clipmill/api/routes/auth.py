"""Accounts over HTTP: register, login, refresh, verify, logout, me, tickets, API keys, users.

Each account route is served under ``/api/v1/auth/...`` and ``/api/auth/...`` (the original
contract's paths). The checks of mode (none / apikey / users) live in `AccountService`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from starlette.requests import HTTPConnection
from starlette.status import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from clipmill.accounts.schemas import (
    Authenticated,
    KeyCreated,
    KeyCreateIn,
    KeyList,
    KeyOut,
    LoginIn,
    LogoutIn,
    RefreshIn,
    RegisterIn,
    TicketOut,
    TokenPair,
    UserList,
    UserOut,
)
from clipmill.accounts.service import require_admin
from clipmill.api.auth import SESSION_COOKIE
from clipmill.api.deps import ContainerDep, PrincipalDep
from clipmill.errors import Unauthorized

router = APIRouter(tags=["accounts"])
PREFIXES = ("/api/v1/auth", "/api/auth")


def _both(path: str, method: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """Serve one endpoint under both prefixes (distinct operation ids for the OpenAPI)."""

    def register(endpoint: Callable[..., Any]) -> Any:
        for prefix in PREFIXES:
            legacy = prefix == "/api/auth"
            router.add_api_route(
                prefix + path,
                endpoint,
                methods=[method],
                operation_id=f"{endpoint.__name__}{'_legacy' if legacy else ''}",
                **kwargs,
            )
        return endpoint

    return register


def _auth(conn: HTTPConnection) -> Authenticated:
    auth: Authenticated | None = getattr(conn.state, "auth", None)
    if auth is None:
        raise Unauthorized("Sign in first.", code="unauthorized")
    return auth


def _set_session(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@_both(
    "/register",
    "POST",
    response_model=UserOut,
    status_code=HTTP_201_CREATED,
    summary="Create an account (when registration is open)",
)
def register(body: RegisterIn, container: ContainerDep) -> UserOut:
    return container.accounts.register(body.username, body.password)


@_both("/login", "POST", response_model=TokenPair, summary="Sign in: tokens and a session cookie")
def login(
    body: LoginIn, container: ContainerDep, request: Request, response: Response
) -> TokenPair:
    container.accounts.require_accounts(logins=True)
    pair = container.accounts.login(body.username, body.password)
    _set_session(response, request, pair.access_token, pair.expires_in)
    return pair


@_both("/refresh", "POST", response_model=TokenPair, summary="Trade a refresh token for new ones")
def refresh(
    body: RefreshIn, container: ContainerDep, request: Request, response: Response
) -> TokenPair:
    container.accounts.require_accounts(logins=True)
    pair = container.accounts.refresh(body.refresh_token)
    _set_session(response, request, pair.access_token, pair.expires_in)
    return pair


@_both("/verify", "GET", response_model=UserOut, summary="Check a credential: the user it names")
def verify(container: ContainerDep, principal: PrincipalDep) -> UserOut:
    container.accounts.require_accounts()
    return container.accounts.get_user(principal.user_id)


@_both("/me", "GET", response_model=UserOut, summary="The signed-in user")
def me(container: ContainerDep, principal: PrincipalDep) -> UserOut:
    container.accounts.require_accounts()
    return container.accounts.get_user(principal.user_id)


@_both(
    "/logout",
    "POST",
    status_code=HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="End the presented token (and the refresh token sent, if any)",
)
def logout(
    container: ContainerDep,
    request: Request,
    body: Annotated[LogoutIn | None, Body()] = None,
) -> Response:
    container.accounts.require_accounts()
    container.accounts.logout(_auth(request), body.refresh_token if body else None)
    response = Response(status_code=HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.post(
    "/api/v1/auth/ticket",
    response_model=TicketOut,
    summary="A single-use ticket for the WebSocket or SSE (?ticket=)",
)
def ticket(container: ContainerDep, principal: PrincipalDep) -> TicketOut:
    container.accounts.require_accounts()
    return TicketOut(
        ticket=container.accounts.issue_ticket(principal),
        expires_in=container.settings.ticket_ttl_seconds,
    )


@router.post(
    "/api/v1/auth/keys",
    response_model=KeyCreated,
    status_code=HTTP_201_CREATED,
    summary="Create an API key (shown once)",
)
def create_key(body: KeyCreateIn, container: ContainerDep, principal: PrincipalDep) -> KeyCreated:
    record, secret = container.accounts.issue_key(principal, body.name, body.expires_in_days)
    return KeyCreated(key=secret, record=record)


@router.get("/api/v1/auth/keys", response_model=KeyList, summary="Your API keys (never the keys)")
def list_keys(container: ContainerDep, principal: PrincipalDep) -> KeyList:
    container.accounts.require_accounts()
    return KeyList(keys=container.accounts.list_keys(principal))


@router.delete(
    "/api/v1/auth/keys/{key_id}", response_model=KeyOut, summary="Revoke one of your API keys"
)
def revoke_key(key_id: str, container: ContainerDep, principal: PrincipalDep) -> KeyOut:
    container.accounts.require_accounts()
    return container.accounts.revoke_key(principal, key_id)


@router.get("/api/v1/users", response_model=UserList, summary="Every account (admins)")
def list_users(container: ContainerDep, principal: PrincipalDep) -> UserList:
    container.accounts.require_accounts()
    require_admin(principal)
    return UserList(users=container.accounts.list_users())


@router.post(
    "/api/v1/users/{user_id}/disable",
    response_model=UserOut,
    summary="Disable an account: its tokens and keys stop at once (admins)",
)
def disable_user(user_id: str, container: ContainerDep, principal: PrincipalDep) -> UserOut:
    container.accounts.require_accounts()
    require_admin(principal)
    return container.accounts.set_disabled(user_id, True)


@router.post(
    "/api/v1/users/{user_id}/enable", response_model=UserOut, summary="Enable an account (admins)"
)
def enable_user(user_id: str, container: ContainerDep, principal: PrincipalDep) -> UserOut:
    container.accounts.require_accounts()
    require_admin(principal)
    return container.accounts.set_disabled(user_id, False)
