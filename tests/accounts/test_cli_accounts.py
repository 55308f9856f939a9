"""`clipmill user ...`, `clipmill key ...` and the public-bind refusal of `clipmill serve`."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clipmill import cli
from clipmill.cli import app, is_loopback

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "CLIPMILL_DATA_DIR": str(tmp_path / "data"),
        "CLIPMILL_SECRET_KEY": "cli-secret",
        "CLIPMILL_AUTH": "users",
        "CLIPMILL_WARM_SPARE": "false",
        "COLUMNS": "200",
    }


def test_user_create_list_disable_enable_and_key(env: dict[str, str]) -> None:
    made = runner.invoke(app, ["user", "create", "Root", "--admin", "--password-stdin"],
                         input="correct horse battery\n", env=env)  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "created admin user root" in made.stdout
    prompted = runner.invoke(app, ["user", "create", "bob"],
                             input="another password\nanother password\n", env=env)  # fmt: skip
    assert prompted.exit_code == 0, prompted.output
    assert "another password" not in prompted.stdout  # hidden input
    taken = runner.invoke(app, ["user", "create", "BOB", "--password", "whatever123"], env=env)
    assert taken.exit_code == 1 and "name_taken" in taken.output

    listed = runner.invoke(app, ["user", "list"], env=env)
    assert listed.exit_code == 0 and "root" in listed.stdout and "bob" in listed.stdout

    assert runner.invoke(app, ["user", "disable", "bob"], env=env).exit_code == 0
    assert "yes" in runner.invoke(app, ["user", "list"], env=env).stdout.split("bob", 1)[1]
    assert runner.invoke(app, ["user", "enable", "bob"], env=env).exit_code == 0
    missing = runner.invoke(app, ["user", "disable", "nobody"], env=env)
    assert missing.exit_code == 1 and "not_found" in missing.output

    key = runner.invoke(app, ["key", "create", "--user", "bob", "--expires-days", "7"], env=env)
    assert key.exit_code == 0, key.output
    secret = key.stdout.strip()
    assert secret.startswith("cm_") and len(secret) > 40

    from clipmill.accounts.keys import hash_key
    from clipmill.bootstrap import bootstrap
    from clipmill.config import Settings

    c = bootstrap(Settings(_env_file=None, data_dir=env["CLIPMILL_DATA_DIR"]))  # type: ignore[call-arg]
    try:
        assert not c.started  # the CLI never starts workers either
        auth = c.accounts._by_key(secret)
        assert auth.principal.name == "bob" and hash_key(secret) != secret
    finally:
        c.engine.dispose()


def test_short_password_is_refused(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["user", "create", "al", "--password", "short"], env=env)
    assert result.exit_code == 1 and "invalid_password" in result.output


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
        ("localhost.evil.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.fixture
def no_bind(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Refuse to actually listen: a run that gets that far exits 1 without serving."""
    tried: list[str] = []

    def refuse(host: str, port: int) -> None:
        tried.append(host)
        raise OSError(errno.EADDRNOTAVAIL, "no")

    monkeypatch.setattr(cli, "_listen", refuse)
    return tried


def test_serve_refuses_a_public_bind_without_auth(env: dict[str, str], no_bind: list[str]) -> None:
    env = {**env, "CLIPMILL_AUTH": "none"}
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0"], env=env)
    assert result.exit_code == 2
    assert "Refusing to listen on 0.0.0.0" in result.output
    assert "--i-know-this-is-public" in result.output
    assert no_bind == []  # refused before binding


@pytest.mark.parametrize(
    ("args", "extra_env"),
    [
        (["--host", "0.0.0.0", "--i-know-this-is-public"], {}),
        (["--host", "0.0.0.0"], {"CLIPMILL_ALLOW_PUBLIC_BIND": "1"}),
        (["--host", "0.0.0.0"], {"CLIPMILL_AUTH": "users"}),
        (["--host", "0.0.0.0"], {"CLIPMILL_AUTH": "apikey"}),
        (["--host", "127.0.0.1"], {}),
    ],
    ids=["flag", "env", "users", "apikey", "loopback"],
)
def test_serve_goes_on_when_allowed(
    env: dict[str, str], no_bind: list[str], args: list[str], extra_env: dict[str, str]
) -> None:
    env = {**env, "CLIPMILL_AUTH": "none", **extra_env}
    result = runner.invoke(app, ["serve", *args], env=env)
    assert result.exit_code == 1 and "Cannot listen" in result.output  # got as far as binding
    assert no_bind
    public = "users" not in args and extra_env.get("CLIPMILL_AUTH", "none") == "none"
    public = public and "127.0.0.1" not in args
    assert ("PUBLIC BIND WITHOUT AUTHENTICATION" in result.output) is public
