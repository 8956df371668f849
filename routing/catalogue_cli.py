"""``hotline catalogue list|load``: the dispatch catalogue's editions (派单目录) from the command line.

``load`` reads an edition from a category → unit file (with its ``catalogue:`` header: version and effective
date) and a keyword-rules file, checks every unit and category, and stores it; it takes over at its date in
every process within half a minute, without a restart. An edition in force is never changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kernel.cli import parts
from kernel.db import transaction
from routing.catalogue import edition_header, editions, load_edition
from routing.domain.catalogue import edition_in_force
from routing.domain.errors import DomainError
from routing.parts import RoutingParts
from routing.reference import data_file, default_taxonomy_csv

app = typer.Typer(help="派单目录 / dispatch catalogue editions", no_args_is_help=True)
console = Console()


@app.command("list")
def list_editions(ctx: typer.Context) -> None:
    """目录版本 / Every edition, with the one in force now."""
    hot = parts(ctx, RoutingParts)
    with hot.session_factory() as session:
        rows = editions(session)
    current = edition_in_force(rows, hot.clock.now())
    table = Table("version", "effective from (UTC)", "in force")
    for e in rows:
        table.add_row(e.version, f"{e.effective_from:%Y-%m-%d %H:%M}", "✓" if e == current else "")
    console.print(table)


@app.command("load")
def load(
    ctx: typer.Context,
    categories: Annotated[Path, typer.Option(help="category → unit file with a catalogue: header")],
    rules: Annotated[Path, typer.Option(help="keyword dispatch rules")] = data_file("dispatch_rules.yaml"),
    by: Annotated[str, typer.Option(help="who publishes this edition (kept with it)")] = "cli",
) -> None:
    """发布目录版本 / Load an edition (usually ahead of its effective date)."""
    header = edition_header(categories)
    if header is None:
        console.print("[red]文件缺少 catalogue: 头（version, effective_from）/ no catalogue: header[/red]")
        raise typer.Exit(2)
    hot = parts(ctx, RoutingParts)
    try:
        with transaction(hot.write_session_factory) as session:
            _edition, changed = load_edition(
                session,
                header,
                default_taxonomy_csv(),
                categories,
                rules,
                now=hot.clock.now(),
                loaded_by=by[:64],
            )
    except DomainError as exc:
        console.print(f"[red]{exc.message_zh} / {exc.message_en}[/red]")
        raise typer.Exit(1) from exc
    hot.work_orders.reference_changed()
    what = "loaded" if changed else "unchanged"
    console.print(
        f"catalogue {header.version} {what}, effective from {header.effective_from:%Y-%m-%d %H:%M} UTC"
    )
