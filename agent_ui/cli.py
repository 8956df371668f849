"""``hotline users``: create, list, reset passwords, and make the demo accounts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from agent_ui.roles import HOME_PAGE, Role
from agent_ui.users import (
    DEMO_ACCOUNTS,
    DEV_DEMO_PASSWORD,
    AccountError,
    NewAccount,
    UserService,
    create_demo_accounts,
)
from kernel.cli import parts
from kernel.core import Core
from routing.orm import Unit

app = typer.Typer(help="座席系统账号 / web desk accounts", no_args_is_help=True)
console = Console()


def _service(hot: Core) -> UserService:
    return UserService(hot.session_factory, hot.clock)


def _show(accounts: list[NewAccount]) -> None:
    table = Table("user name", "role", "unit", "password (shown once)")
    for a in accounts:
        table.add_row(a.username, a.role, a.unit_code or "", a.password)
    console.print(table)


@app.command("create")
def create(
    ctx: typer.Context,
    username: str,
    role: Annotated[Role, typer.Option(help="agent, supervisor, qa, dept_handler, dept_head, admin")],
    name: Annotated[str, typer.Option(help="display name")] = "",
    unit: Annotated[str | None, typer.Option(help="unit code, for department roles")] = None,
) -> None:
    """Create an account with a random password, shown once."""
    hot = parts(ctx, Core)
    try:
        account = _service(hot).create(username, name or username, role.value, unit)
    except AccountError as exc:
        console.print(f"[red]{exc.message_zh} / {exc.message_en}[/red]")
        raise typer.Exit(1) from exc
    _show([account])


@app.command("list")
def list_users(ctx: typer.Context) -> None:
    """List the accounts."""
    hot = parts(ctx, Core)
    table = Table("user name", "name", "role", "unit", "active", "locked until")
    for u in _service(hot).all():
        table.add_row(
            u.username,
            u.display_name,
            u.role,
            u.unit_code or "",
            "yes" if u.active else "no",
            u.locked_until.isoformat() if u.locked_until else "",
        )
    console.print(table)


@app.command("reset-password")
def reset_password(ctx: typer.Context, username: str) -> None:
    """Give an account a new random password (shown once) and lift any lock-out."""
    hot = parts(ctx, Core)
    try:
        password = _service(hot).reset_password(username, by="cli")
    except AccountError as exc:
        console.print(f"[red]{exc.message_zh} / {exc.message_en}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"{username}: {password}")


@app.command("demo")
def demo(
    ctx: typer.Context,
    unit: Annotated[str | None, typer.Option(help="unit of the department accounts")] = None,
    fixed: Annotated[bool, typer.Option(help="use the documented demo password (development only)")] = False,
) -> None:
    """Create one account per role (those missing) and print their passwords once."""
    hot = parts(ctx, Core)
    if fixed and hot.settings.environment != "development":
        console.print(
            "[red]the fixed demo password is allowed only when HOTLINE_ENVIRONMENT=development[/red]"
        )
        raise typer.Exit(1)
    code = unit or default_demo_unit(hot)
    if code is None:
        console.print("[red]no units yet: run `hotline seed` first[/red]")
        raise typer.Exit(1)
    made = create_demo_accounts(_service(hot), code, fixed_password=DEV_DEMO_PASSWORD if fixed else None)
    if made:
        _show(made)
    else:
        console.print("demo accounts exist already (use `hotline users reset-password NAME`)")
    _how_to_log_in(hot, code, fixed and not made)


def _how_to_log_in(hot: Core, unit_code: str, fixed_existing: bool) -> None:
    """Where to log in, and what each demo account does there."""
    base = f"http://{hot.settings.http_host}:{hot.settings.http_port}"
    jobs = {
        Role.AGENT: "接听、受理派单、知识库 / calls, orders, knowledge base",
        Role.SUPERVISOR: "大屏、监听、裁定、录音 / wallboard, monitoring, rulings, recordings",
        Role.QA: "质检、回访 / call reviews, callbacks",
        Role.DEPT_HANDLER: f"{unit_code} 待办 / the unit's inbox",
        Role.DEPT_HEAD: f"{unit_code} 待办与考核 / inbox and scores",
        Role.ADMIN: "账号、审计 / accounts, access audit",
    }
    console.print(f"登录 / log in: [bold]{base}/login[/bold]")
    for username, _name, role in DEMO_ACCOUNTS:
        console.print(
            f"  {username:<8} {role.value:<13} {base}{HOME_PAGE[role]:<22}  {jobs[role]}", soft_wrap=True
        )
    if fixed_existing:
        console.print(f"password (development): {DEV_DEMO_PASSWORD}")


def default_demo_unit(hot: Core) -> str | None:
    """The unit that leads the most categories (the city housing bureau), else the first city bureau."""
    with hot.session_factory() as session:
        codes = list(session.scalars(select(Unit.code).where(Unit.kind == "city_bureau").order_by(Unit.code)))
    for preferred in ("city.housing", "city.enforcement", "city.market"):
        if preferred in codes:
            return preferred
    return codes[0] if codes else None
