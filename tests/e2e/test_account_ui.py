"""The account page in Chromium: sign in and out (users mode), API keys, the auth=none page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import Served, screenshot


def _sign_in(page: Any, name: str, password: str) -> None:
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("[data-sign-in]")


def test_sign_in_comes_back_to_the_page_that_asked_and_sign_out_ends_it(
    served: Callable[..., Served], page: Any, expected_failures: list[str]
) -> None:
    expected_failures.append("/api/v1/auth/login")  # the wrong password, as this test means
    app = served(auth="users")
    app.container.accounts.create_user("ada", "correct horse battery")
    page.goto(app.at("/history"))  # its API call answers 401: sent to sign in, then back
    expect(page).to_have_url(app.at("/account?next=%2Fhistory"))
    _sign_in(page, "ada", "wrong password!")
    expect(page.locator("[role=alert]").first).to_have_text("That name and password don't match.")
    _sign_in(page, "ada", "correct horse battery")
    expect(page).to_have_url(app.at("/history"))
    expect(page.locator("[data-account-link]")).to_have_text("ada")

    page.goto(app.at("/account"))
    expect(page.locator("[data-signed-in]")).to_contain_text("Signed in as ada")
    screenshot(page, "account")
    page.click("[data-sign-out]")
    expect(page.locator("[data-sign-in]")).to_be_visible()
    cookies = {c["name"] for c in page.context.cookies()}
    assert "clipmill_session" not in cookies


def test_an_api_key_is_shown_once_works_and_can_be_revoked(
    served: Callable[..., Served], page: Any
) -> None:
    app = served(auth="users")
    app.container.accounts.create_user("bob", "correct horse battery")
    page.goto(app.at("/account"))
    _sign_in(page, "bob", "correct horse battery")
    expect(page.locator("[data-keys]")).to_be_visible()
    page.fill("[data-keys] input[type=text]", "my script")
    page.click("[data-create-key]")
    secret = page.locator("[data-secret]").input_value()
    assert secret.startswith("cm_")
    row = page.locator("[data-keys] tbody tr", has_text="my script")
    expect(row).to_contain_text("active")
    with httpx.Client(base_url=app.url, headers={"X-API-Key": secret}) as client:
        assert client.get("/api/v1/jobs").status_code == 200
        revoke = row.get_by_role("button", name="Revoke")
        revoke.click()
        row.get_by_role("button", name="Click again to revoke").click()
        expect(row).to_contain_text("revoked")
        assert client.get("/api/v1/jobs").status_code == 401


def test_without_accounts_the_page_says_how_to_turn_them_on(
    served: Callable[..., Served], page: Any
) -> None:
    app = served()
    page.goto(app.at("/account"))
    expect(page.locator("pre.howto")).to_contain_text("CLIPMILL_AUTH=users")
    expect(page.locator("[data-webhooks]")).to_be_visible()
    expect(page.locator("[data-cookies]")).to_be_visible()
    expect(page.locator("[data-sign-in]")).to_have_count(0)
