"""Remembered choices per account (``/api/v1/me/preferences``, issue 15 item 7) and no admin
named ``local`` that nobody created when accounts are on (item 10)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from clipmill.jobs.models import User
from tests.accounts.conftest import PASSWORD, AuthApp
from tests.support.containers import make_container

CHOICES = {
    "download": {"quality": "720p", "audio_format": "mp3", "audio_bitrate": "192k",
                 "container": "mkv", "subtitles_embed": True},
    "shorts": {"min_clip_duration": 20, "max_clip_duration": 45, "max_clips": 3,
               "aspect_ratios": ["9:16", "1:1"], "caption_style": "karaoke"},
}  # fmt: skip


def test_each_account_keeps_its_own_choices(users_app: AuthApp) -> None:
    ann, bob = users_app.user("ann"), users_app.user("bob")
    client = users_app.client
    fresh = client.get("/api/v1/me/preferences", headers=ann)
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["updated_at"] is None and fresh.json()["download"]["quality"] is None
    saved = client.put("/api/v1/me/preferences", json=CHOICES, headers=ann)
    assert saved.status_code == 200, saved.text
    again = client.get("/api/v1/me/preferences", headers=ann).json()
    assert again["download"]["quality"] == "720p" and again["download"]["audio_bitrate"] == "192k"
    assert again["shorts"]["aspect_ratios"] == ["9:16", "1:1"] and again["updated_at"]
    assert client.get("/api/v1/me/preferences", headers=bob).json()["download"]["quality"] is None
    assert client.get("/api/v1/me/preferences").status_code == 401


def test_preferences_are_a_closed_vocabulary(users_app: AuthApp) -> None:
    ann = users_app.user("ann")
    for bad in (
        {"download": {"quality": "999p"}},
        {"download": {"format": "bestvideo"}},
        {"shorts": {"max_clips": 500}},
        {"shorts": {"caption_style": "<script>"}},
        {"theme": "dark"},
    ):
        answer = users_app.client.put("/api/v1/me/preferences", json=bad, headers=ann)
        assert answer.status_code == 422, bad


def test_with_accounts_off_they_are_the_local_users(make_app: Callable[..., AuthApp]) -> None:
    app = make_app(auth="none")
    assert app.client.put("/api/v1/me/preferences", json=CHOICES).status_code == 200
    assert app.client.get("/api/v1/me/preferences").json()["download"]["container"] == "mkv"


def test_accounts_mode_has_no_local_admin_nobody_created(users_app: AuthApp) -> None:
    admin = users_app.user("root", admin=True)
    with users_app.container.sessions() as session:
        assert session.scalar(select(User).where(User.id == "local")) is None
    names = [
        u["name"] for u in users_app.client.get("/api/v1/users", headers=admin).json()["users"]
    ]
    assert names == ["root"]


def test_a_database_first_run_without_accounts_does_not_list_local_later(
    tmp_path: Path,
) -> None:
    make_container(tmp_path / "data", auth="none").engine.dispose()  # creates `local`
    later = make_container(tmp_path / "data", auth="users")
    later.accounts.create_user("root", PASSWORD, is_admin=True)
    assert [u.name for u in later.accounts.list_users()] == ["root"]
    later.engine.dispose()
