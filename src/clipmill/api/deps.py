"""Request dependencies: the container and the acting user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from clipmill.accounts.principal import LOCAL_USER, Principal
from clipmill.bootstrap import Container


def get_container(conn: HTTPConnection) -> Container:
    container: Container = conn.app.state.container
    return container


def get_principal(conn: HTTPConnection) -> Principal:
    """Embedded mode acts as the local user; accounts replace only this function."""
    return LOCAL_USER


def base_url(request: Request) -> str:
    container = get_container(request)
    return (container.settings.base_url or str(request.base_url)).rstrip("/")


MAX_OFFSET = 1_000_000
"""The largest ``offset`` a list accepts (far past any real list, far below SQL's integers)."""

ContainerDep = Annotated[Container, Depends(get_container)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
BaseUrlDep = Annotated[str, Depends(base_url)]
