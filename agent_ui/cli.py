"""``hotline users``: create, list, reset passwords, and make the demo accounts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from agent_ui.roles import Role
from agent_ui.users import DEV_DEMO_PASSWORD, AccountError, NewAccount, UserService, create_demo_accounts
from hotline.bootstrap import App, bootstrap
from routing.orm import Unit

app = typer.Typer(help="座席系统账号 / web desk accounts", no_args_is_help=True)
console = Console()


def _service(hot: App) -> UserService:
    return UserService(hot.session_factory, hot.clock)


def _show(accounts: list[NewAccount]) -> None:
    table = Table("user name", "role", "unit", "password (shown once)")
    for a in accounts:
        table.add_row(a.username, a.role, a.unit_code or "", a.password)
    console.print(table)


@app.command("create")
def create(
    username: str,
    role: Annotated[Role, typer.Option(help="agent, supervisor, qa, dept_handler, dept_head, admin")],
    name: Annotated[str, typer.Option(help="display name")] = "",
    unit: Annotated[str | None, typer.Option(help="unit code, for department roles")] = None,
) -> None:
    """Create an account with a random password, shown once."""
    hot = bootstrap()
    try:
        account = _service(hot).create(username, name or username, role.value, unit)
    except AccountError as exc:
        console.print(f"[red]{exc.message_zh} / {exc.message_en}[/red]")
        raise typer.Exit(1) from exc
    _show([account])


@app.command("list")
def list_users() -> None:
    """List the accounts."""
    hot = bootstrap()
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
def reset_password(username: str) -> None:
    """Give an account a new random password (shown once) and lift any lock-out."""
    hot = bootstrap()
    try:
        password = _service(hot).reset_password(username, by="cli")
    except AccountError as exc:
        console.print(f"[red]{exc.message_zh} / {exc.message_en}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"{username}: {password}")


@app.command("demo")
def demo(
    unit: Annotated[str | None, typer.Option(help="unit of the department accounts")] = None,
    fixed: Annotated[bool, typer.Option(help="use the documented demo password (development only)")] = False,
) -> None:
    """Create one account per role (those missing) and print their passwords once."""
    hot = bootstrap()
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


def default_demo_unit(hot: App) -> str | None:
    """The unit that leads the most categories (the city housing bureau), else the first city bureau."""
    with hot.session_factory() as session:
        codes = list(session.scalars(select(Unit.code).where(Unit.kind == "city_bureau").order_by(Unit.code)))
    for preferred in ("city.housing", "city.enforcement", "city.market"):
        if preferred in codes:
            return preferred
    return codes[0] if codes else None
