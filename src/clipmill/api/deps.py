"""Request dependencies: the container and the acting user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from clipmill.accounts.principal import LOCAL_USER, Principal
from clipmill.bootstrap import Container
from clipmill.config import AuthMode
from clipmill.errors import Unauthorized


def get_container(conn: HTTPConnection) -> Container:
    container: Container = conn.app.state.container
    return container


def get_principal(conn: HTTPConnection) -> Principal:
    """The caller the authentication middleware (`clipmill.api.auth`) found for this request.

    With ``auth=none`` that is the local user. Otherwise a route reached without a principal is
    refused here too, so a route someone forgets to guard still fails closed.
    """
    principal: Principal | None = getattr(conn.state, "principal", None)
    if principal is not None:
        return principal
    if get_container(conn).settings.auth is AuthMode.NONE:
        return LOCAL_USER
    raise Unauthorized("Sign in or send an API key.", code="unauthorized")


def base_url(request: Request) -> str:
    container = get_container(request)
    return (container.settings.base_url or str(request.base_url)).rstrip("/")


MAX_OFFSET = 1_000_000
"""The largest ``offset`` a list accepts (far past any real list, far below SQL's integers)."""

ContainerDep = Annotated[Container, Depends(get_container)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
BaseUrlDep = Annotated[str, Depends(base_url)]
