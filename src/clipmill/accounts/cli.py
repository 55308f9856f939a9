"""``clipmill user ...`` and ``clipmill key ...``: the operator's side of accounts.

These build the container (database, migrations) but never start workers.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clipmill.accounts.service import AccountService
from clipmill.config import Settings
from clipmill.errors import ClipmillError

users = typer.Typer(help="Accounts: create, list, disable, enable.", no_args_is_help=True)
keys = typer.Typer(help="API keys, issued by the operator.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()


@contextmanager
def _accounts() -> Iterator[AccountService]:
    from clipmill.bootstrap import bootstrap

    container = bootstrap(Settings())
    try:
        yield container.accounts
    except ClipmillError as exc:
        console.print(f"[red]{exc.code}[/]: {exc.message}")
        raise typer.Exit(1) from None
    finally:
        container.engine.dispose()


@users.command("create")
def create_user(
    name: str,
    admin: Annotated[bool, typer.Option("--admin", help="Make an administrator.")] = False,
    password: Annotated[
        str | None, typer.Option(help="The password (visible in shell history: prefer the prompt).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="An account that signs in with API keys only.")
    ] = False,
) -> None:
    """Create an account; asks for its password (hidden) unless told otherwise."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif password is None and not no_password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _accounts() as accounts:
        user = accounts.create_user(name, None if no_password else password, is_admin=admin)
    out.print(f"created {'admin ' if user.is_admin else ''}user {user.name} ({user.id})")


@users.command("list")
def list_users() -> None:
    """Every account, with its state."""
    with _accounts() as accounts:
        found = accounts.list_users()
    table = Table("name", "id", "admin", "disabled", "created", "last login")
    for user in found:
        table.add_row(
            user.name,
            user.id,
            "yes" if user.is_admin else "",
            "yes" if user.disabled else "",
            f"{user.created_at:%Y-%m-%d %H:%M}",
            f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "",
        )
    out.print(table)


@users.command("disable")
def disable_user(name: str) -> None:
    """Disable an account: its tokens and API keys stop working at once."""
    with _accounts() as accounts:
        user = accounts.set_disabled(name, True)
    out.print(f"disabled {user.name}")


@users.command("enable")
def enable_user(name: str) -> None:
    """Enable a disabled account again."""
    with _accounts() as accounts:
        user = accounts.set_disabled(name, False)
    out.print(f"enabled {user.name}")


@keys.command("create")
def create_key(
    user: Annotated[str, typer.Option("--user", help="The account the key acts for.")],
    name: Annotated[str, typer.Option(help="A label to tell keys apart.")] = "cli",
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", min=1, help="Days until the key stops.")
    ] = None,
) -> None:
    """Issue an API key and print it (once: only its hash is stored)."""
    with _accounts() as accounts:
        owner = accounts.principal_for(accounts.find_user(user).id)
        expires = accounts.clock.now() + timedelta(days=expires_days) if expires_days else None
        record, secret = accounts.create_key(owner, name, expires_at=expires)
    console.print(f"API key {record.prefix}... for {owner.name} (id {record.id}); store it now:")
    out.print(secret)
