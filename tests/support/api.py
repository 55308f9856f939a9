"""An API client for tests, acting as the local user whatever the auth mode.

With ``CLIPMILL_TEST_AUTH=users`` (``make test`` runs the API tests a second time so), every
request goes through the authentication middleware with an API key of the ``local`` account,
which is then an ordinary (non-admin) user: the same tests prove that every route works behind
authentication and owner scoping. tests/accounts covers other users, forged tokens and the rest.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from clipmill.accounts.principal import LOCAL_USER
from clipmill.api.app import create_app
from clipmill.bootstrap import Container, ensure_local_user
from clipmill.config import AuthMode
from clipmill.jobs.models import User


def api_client(container: Container, **kwargs: Any) -> TestClient:
    client = TestClient(create_app(container=container), **kwargs)
    if container.settings.auth is not AuthMode.NONE:
        ensure_local_user(container.sessions)  # made on startup only with auth=none
        with container.sessions() as session, session.begin():
            local = update(User).where(User.id == LOCAL_USER.user_id)
            session.execute(local.values(is_admin=False))
        _record, key = container.accounts.create_key(LOCAL_USER, "tests")
        client.headers["X-API-Key"] = key
    return client
