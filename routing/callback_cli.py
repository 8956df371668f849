"""``hotline callbacks ...``: the satisfaction-callback campaign from the command line.

``due``, ``manual`` and ``attempts NUMBER`` show the state. ``run-once`` and ``run``, which call through the
switch, are composed with telephony by the roof (``hotline/campaign.py``) and added to this group there.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from kernel.cli import parts
from routing.callback_campaign import CallbackCampaign
from routing.callback_orm import CallbackTask
from routing.parts import RoutingParts

app = typer.Typer(help="满意度回访 / satisfaction callbacks (回访)", no_args_is_help=True)
console = Console()


def _tasks(hot: RoutingParts, state: str) -> None:
    table = Table("order", "unit", "attempts", "next call (UTC)", "result", "note")
    with hot.session_factory() as session:
        rows = session.scalars(
            select(CallbackTask).where(CallbackTask.state == state).order_by(CallbackTask.next_attempt_at)
        ).all()
    for row in rows:
        when = f"{row.next_attempt_at:%Y-%m-%d %H:%M}" if row.next_attempt_at else ""
        table.add_row(row.order_number, row.unit_code or "", str(row.attempts), when, row.result, row.note)
    console.print(table)


@app.command()
def due(ctx: typer.Context) -> None:
    """待回访 / Callbacks the survey will make."""
    _tasks(parts(ctx, RoutingParts), "due")


@app.command()
def manual(ctx: typer.Context) -> None:
    """人工回访清单 / The manual callback list (the survey reached nobody)."""
    _tasks(parts(ctx, RoutingParts), "manual")


@app.command()
def attempts(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="work order number, e.g. HK202611230000123")],
) -> None:
    """回访记录 / Every call made for one work order."""
    done = CallbackCampaign(parts(ctx, RoutingParts).work_orders, None).attempts(number)
    table = Table("#", "mode", "by", "role", "status", "solved", "rating", "outcome", "at (UTC)", "recording")
    for a in done:
        table.add_row(
            str(a.attempt),
            a.mode,
            a.by,
            a.by_role,
            a.call_status,
            "" if a.solved is None else ("yes" if a.solved else "no"),
            "" if a.rating is None else str(a.rating),
            a.outcome,
            f"{a.started_at:%Y-%m-%d %H:%M:%S}",
            a.recording or "",
        )
    console.print(table)
