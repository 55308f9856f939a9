"""Register, login, verify, refresh, logout, the session cookie, and what each mode allows."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clipmill.accounts.principal import Principal
from tests.accounts.conftest import PASSWORD, AuthApp, bearer


def test_register_login_verify_logout(users_app: AuthApp) -> None:
    c = users_app.client
    created = c.post("/api/auth/register", json={"username": "Alice", "password": PASSWORD})
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "alice" and created.json()["is_admin"] is False
    assert "password_hash" not in created.json()

    pair = users_app.login("ALICE")
    assert pair["token_type"] == "bearer" and pair["expires_in"] == 3600
    assert pair["user"]["name"] == "alice"
    headers = bearer(pair["access_token"])
    assert c.get("/api/auth/verify", headers=headers).json()["name"] == "alice"
    assert c.get("/api/v1/auth/me", headers=headers).json()["id"] == created.json()["id"]

    assert c.post("/api/auth/logout", headers=headers).status_code == 204
    after = c.get("/api/v1/auth/me", headers=headers)
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "token_revoked"


def test_first_account_is_not_an_admin(users_app: AuthApp) -> None:
    c = users_app.client
    c.post("/api/v1/auth/register", json={"username": "first", "password": PASSWORD})
    assert users_app.login("first")["user"]["is_admin"] is False


@pytest.mark.parametrize("name", ["bob", "BOB", "Bob"], ids=["same", "upper", "mixed"])
def test_names_are_unique_without_case(users_app: AuthApp, name: str) -> None:
    users_app.container.accounts.create_user("bob", PASSWORD)
    again = users_app.client.post(
        "/api/v1/auth/register", json={"username": name, "password": PASSWORD}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "name_taken"


@pytest.mark.parametrize(
    "body",
    [
        {"username": "", "password": PASSWORD},
        {"username": "a" * 65, "password": PASSWORD},
        {"username": "space name", "password": PASSWORD},
        {"username": "semi;colon", "password": PASSWORD},
        {"username": "ok", "password": "short"},
        {"username": "ok", "password": "x" * 1025},
    ],
    ids=["empty", "long", "space", "semicolon", "short-password", "long-password"],
)
def test_register_refuses_bad_names_and_passwords(users_app: AuthApp, body: dict) -> None:
    response = users_app.client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422


def test_wrong_password_and_unknown_name_look_the_same(users_app: AuthApp) -> None:
    users_app.container.accounts.create_user("carol", PASSWORD)
    c = users_app.client
    wrong = c.post("/api/v1/auth/login", json={"username": "carol", "password": "nope nope"})
    unknown = c.post("/api/v1/auth/login", json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"


def test_login_sets_a_strict_httponly_cookie_that_works_and_logout_clears_it(
    users_app: AuthApp,
) -> None:
    users_app.container.accounts.create_user("dora", PASSWORD)
    c = users_app.client
    response = c.post("/api/v1/auth/login", json={"username": "dora", "password": PASSWORD})
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("clipmill_session=")
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/" in lowered
    assert "secure" not in lowered  # plain http in tests
    assert c.get("/api/v1/auth/me").json()["name"] == "dora"  # the cookie alone
    assert c.post("/api/v1/auth/logout").status_code == 204
    assert "clipmill_session" not in c.cookies
    token = response.json()["access_token"]
    stale = c.get("/api/v1/auth/me", headers={"Cookie": f"clipmill_session={token}"})
    assert stale.status_code == 401 and stale.json()["error"]["code"] == "token_revoked"


def test_cookie_is_secure_over_https(make_app: Callable[..., AuthApp]) -> None:
    app = make_app()
    app.container.accounts.create_user("erin", PASSWORD)
    response = app.client.post(
        "https://testserver/api/v1/auth/login", json={"username": "erin", "password": PASSWORD}
    )
    assert "secure" in response.headers["set-cookie"].lower()


def test_a_stale_cookie_does_not_lock_anyone_out_of_login(users_app: AuthApp) -> None:
    users_app.container.accounts.create_user("fay", PASSWORD)
    response = users_app.client.post(
        "/api/v1/auth/login",
        json={"username": "fay", "password": PASSWORD},
        headers={"Cookie": "clipmill_session=garbage"},
    )
    assert response.status_code == 200


def test_refresh_rotates_and_the_old_refresh_token_is_spent(users_app: AuthApp) -> None:
    users_app.container.accounts.create_user("gus", PASSWORD)
    c = users_app.client
    first = users_app.login("gus")
    users_app.clock.advance(5)
    second = c.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"]
    assert c.get("/api/v1/auth/me", headers=bearer(new["access_token"])).status_code == 200
    again = c.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401 and again.json()["error"]["code"] == "token_revoked"
    assert c.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]}).is_success


def test_refresh_token_is_refused_as_access_and_access_at_refresh(users_app: AuthApp) -> None:
    users_app.container.accounts.create_user("hal", PASSWORD)
    pair = users_app.login("hal")
    c = users_app.client
    as_access = c.get("/api/v1/auth/me", headers=bearer(pair["refresh_token"]))
    assert as_access.status_code == 401 and as_access.json()["error"]["code"] == "invalid_token"
    at_refresh = c.post("/api/v1/auth/refresh", json={"refresh_token": pair["access_token"]})
    assert at_refresh.status_code == 401 and at_refresh.json()["error"]["code"] == "invalid_token"


def test_logout_can_end_the_refresh_token_too(users_app: AuthApp) -> None:
    users_app.container.accounts.create_user("ida", PASSWORD)
    pair = users_app.login("ida")
    c = users_app.client
    done = c.post(
        "/api/v1/auth/logout",
        headers=bearer(pair["access_token"]),
        json={"refresh_token": pair["refresh_token"]},
    )
    assert done.status_code == 204
    refused = c.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"


def test_access_token_expires_with_the_clock(users_app: AuthApp) -> None:
    users_app.container.accounts.create_user("jo", PASSWORD)
    headers = bearer(users_app.login("jo")["access_token"])
    c = users_app.client
    users_app.clock.advance(3000)
    assert c.get("/api/v1/auth/me", headers=headers).status_code == 200
    users_app.clock.advance(700)
    expired = c.get("/api/v1/auth/me", headers=headers)
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "token_expired"
    assert expired.headers["www-authenticate"].startswith("Bearer")


def test_revoked_tokens_are_purged_after_they_expire(users_app: AuthApp) -> None:
    accounts = users_app.container.accounts
    accounts.create_user("kim", PASSWORD)
    users_app.client.post(
        "/api/v1/auth/logout", headers=bearer(users_app.login("kim")["access_token"])
    )
    assert accounts.purge_revoked(force=True) == 0  # still within its lifetime
    users_app.clock.advance(3700)
    assert accounts.purge_revoked(force=True) == 1


def test_a_disabled_user_is_refused_at_once_with_token_and_key(users_app: AuthApp) -> None:
    accounts = users_app.container.accounts
    user = accounts.create_user("lou", PASSWORD)
    headers = bearer(users_app.login("lou")["access_token"])
    _, key = accounts.create_key(accounts.principal_for(user.id), "k")
    c = users_app.client
    assert c.get("/api/v1/jobs", headers={"X-API-Key": key}).status_code == 200
    accounts.set_disabled("LOU", True)
    for creds in (headers, {"X-API-Key": key}):
        refused = c.get("/api/v1/jobs", headers=creds)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "account_disabled"
    login = c.post("/api/v1/auth/login", json={"username": "lou", "password": PASSWORD})
    assert login.status_code == 401 and login.json()["error"]["code"] == "account_disabled"
    accounts.set_disabled("lou", False)
    assert c.get("/api/v1/jobs", headers=headers).status_code == 200


def test_admin_routes(users_app: AuthApp) -> None:
    admin = users_app.user("root", admin=True)
    plain = users_app.user("mia")
    c = users_app.client
    refused = c.get("/api/v1/users", headers=plain)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "admin_only"
    names = {u["name"] for u in c.get("/api/v1/users", headers=admin).json()["users"]}
    assert {"root", "mia"} <= names
    mia = users_app.container.accounts.find_user("mia").id
    assert c.post(f"/api/v1/users/{mia}/disable", headers=plain).status_code == 403
    assert c.post(f"/api/v1/users/{mia}/disable", headers=admin).json()["disabled"] is True
    assert c.get("/api/v1/auth/me", headers=plain).json()["error"]["code"] == "account_disabled"
    assert c.post(f"/api/v1/users/{mia}/enable", headers=admin).json()["disabled"] is False
    assert c.get("/api/v1/auth/me", headers=plain).status_code == 200
    assert c.post("/api/v1/users/nobody/enable", headers=admin).status_code == 404


def test_registration_closed(make_app: Callable[..., AuthApp]) -> None:
    app = make_app(registration_open=False)
    response = app.client.post(
        "/api/v1/auth/register", json={"username": "nina", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "registration_closed"
    app.container.accounts.create_user("nina", PASSWORD)  # the operator still can
    assert app.login("nina")["user"]["name"] == "nina"


def test_apikey_mode_has_no_logins_and_keys_come_from_the_operator(
    make_app: Callable[..., AuthApp],
) -> None:
    app = make_app(auth="apikey")
    accounts = app.container.accounts
    user = accounts.create_user("ops", PASSWORD)
    _, key = accounts.create_key(accounts.principal_for(user.id), "ops key")
    c = app.client
    register = c.post("/api/v1/auth/register", json={"username": "x", "password": PASSWORD})
    assert register.status_code == 403
    assert register.json()["error"]["code"] == "registration_closed"
    login = c.post("/api/v1/auth/login", json={"username": "ops", "password": PASSWORD})
    assert login.status_code == 404 and "CLIPMILL_AUTH=users" in login.json()["error"]["message"]
    headers = {"X-API-Key": key}
    assert c.get("/api/v1/auth/me", headers=headers).json()["name"] == "ops"
    issued = c.post("/api/v1/auth/keys", headers=headers, json={"name": "more"})
    assert issued.status_code == 403 and issued.json()["error"]["code"] == "operator_only"
    assert c.get("/api/v1/jobs").status_code == 401
    assert c.get("/api/v1/jobs", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/auth/register"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/auth/login"),
        ("POST", "/api/v1/auth/refresh"),
        ("GET", "/api/auth/verify"),
        ("GET", "/api/v1/auth/me"),
        ("POST", "/api/v1/auth/logout"),
        ("GET", "/api/v1/auth/keys"),
        ("POST", "/api/v1/auth/keys"),
        ("GET", "/api/v1/users"),
    ],
)
def test_none_mode_says_accounts_are_off(
    make_app: Callable[..., AuthApp], method: str, path: str
) -> None:
    app = make_app(auth="none")
    body = {"username": "x", "password": PASSWORD, "refresh_token": "x", "name": "k"}
    response = app.client.request(method, path, json=body)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "accounts_off"
    assert "CLIPMILL_AUTH=users" in response.json()["error"]["message"]


def test_none_mode_is_unchanged(make_app: Callable[..., AuthApp]) -> None:
    app = make_app(auth="none")
    assert app.client.get("/api/v1/jobs").status_code == 200
    assert app.client.get("/api/v1/jobs", headers=bearer("garbage")).status_code == 200


def test_service_api_for_harnesses(users_app: AuthApp) -> None:
    accounts = users_app.container.accounts
    user = accounts.create_user("Quinn", None, is_admin=True)
    assert (user.name, user.is_admin, user.disabled) == ("quinn", True, False)
    principal = accounts.principal_for(user.id)
    assert principal == Principal(user_id=user.id, name="quinn", is_admin=True)
    record, secret = accounts.create_key(principal, "harness")
    assert secret.startswith("cm_") and record.prefix == secret[:10]
    assert [u.name for u in accounts.list_users() if u.name == "quinn"] == ["quinn"]
    assert accounts.set_disabled("quinn", True).disabled is True
