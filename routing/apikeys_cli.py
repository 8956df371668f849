"""``hotline apikeys create|list|revoke``: keys for integrations and department systems.

``create`` prints the new key as the last line of its output (and only once: just its SHA-256 is kept),
so that a script can take it with ``tail -n 1``. Needs only the database (the core's session factory).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from kernel.cli import parts
from kernel.core import Core
from routing.apikeys import API_ROLES, create_api_key, list_api_keys, revoke_api_key
from routing.domain.errors import InvalidInput

app = typer.Typer(help="API 密钥 / API keys for integrations", no_args_is_help=True)
console = Console()


@contextmanager
def _session(ctx: typer.Context) -> Iterator[Session]:
    with parts(ctx, Core).session_factory() as session, session.begin():
        yield session


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="a name for the client, e.g. wechat-gateway")],
    role: Annotated[str, typer.Option(help=", ".join(API_ROLES))],
    unit: Annotated[str | None, typer.Option(help="the unit of a department key, e.g. city.housing")] = None,
    channel: Annotated[str | None, typer.Option(help="intake channel, e.g. wechat, web, open311")] = None,
    phone_access: Annotated[
        bool, typer.Option("--phone-access", help="an integration that must see full phone numbers")
    ] = False,
) -> None:
    """Create a key; it is printed once, as the last line."""
    try:
        with _session(ctx) as session:
            key = create_api_key(session, name, role, unit, channel, phone_access=phone_access)
    except InvalidInput as exc:
        console.print(f"[red]{exc.message_zh} / {exc.message_en}[/red]")
        raise typer.Exit(1) from exc
    console.print(
        f"API 密钥已创建，仅显示一次 / key for {name} ({role}{', ' + unit if unit else ''}), shown once:"
    )
    print(key, flush=True)  # the last line: scripts take it with tail -n 1


@app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """Every key: name, role, unit, channel, phone grant, active (never the key itself)."""
    table = Table("name", "role", "unit", "channel", "full phone", "active")
    with _session(ctx) as session:
        for k in list_api_keys(session):
            table.add_row(
                k.name,
                k.role,
                k.unit_code or "",
                k.channel or "",
                "yes" if k.phone_access else "",
                "yes" if k.active else "revoked",
            )
    console.print(table)


@app.command("revoke")
def revoke(ctx: typer.Context, name: str) -> None:
    """Revoke a key by name; running servers stop accepting it within 30 seconds."""
    with _session(ctx) as session:
        done = revoke_api_key(session, name)
    if not done:
        console.print(f"[red]没有名为 {name} 的有效密钥 / no active key named {name}[/red]")
        raise typer.Exit(1)
    console.print(f"已吊销 / revoked {name}")
