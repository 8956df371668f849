"""``hotline demo generate --days N --seed S``: a living history for a new installation."""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated

import typer

from analytics.cli import fail, parts_from
from analytics.errors import AnalyticsError

app = typer.Typer(help="演示数据 / demo history", no_args_is_help=True)


@app.command()
def generate(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(help="days of history ending now")] = 90,
    seed: Annotated[int, typer.Option(help="the same seed gives the same history")] = 12345,
    scale: Annotated[float, typer.Option(help="1.0 = Haikou's ~5,200 calls a day")] = 1.0,
    force: Annotated[bool, typer.Option(help="write even though the database holds real orders")] = False,
    workers: Annotated[int, typer.Option(help="processes replaying the days (0: this one)")] = 2,
) -> None:
    """Write calls and orders shaped like Haikou's (marked as demo; `hotline demo remove` deletes them)."""
    from analytics.demo.generator import DemoGenerator
    from analytics.rollup import refresh

    parts = parts_from(ctx)
    generator = DemoGenerator(parts.write_session_factory, parts.policy, parts.calendar, parts.clock)
    started = time.perf_counter()

    def progress(day: date, rows: int) -> None:
        elapsed = time.perf_counter() - started
        typer.echo(f"  {day}  rows {rows:>10,}  {rows / max(elapsed, 1e-6):>9,.0f} rows/s", err=True)

    try:
        report = generator.generate(days, seed, scale=scale, force=force, workers=workers, progress=progress)
    except AnalyticsError as exc:
        fail(exc)
    rolled = refresh(parts, None)
    typer.echo(
        f"demo history: {report.days} days, {report.calls:,} calls, {report.orders:,} orders, "
        f"{report.rows:,} rows in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s); "
        f"{len(report.clusters)} planted hot events; KPI roll-up rows {rolled:,}"
    )


@app.command()
def remove(ctx: typer.Context) -> None:
    """Delete every demo order and call; real data is untouched."""
    from analytics.demo.generator import DemoGenerator
    from analytics.rollup import refresh

    parts = parts_from(ctx)
    generator = DemoGenerator(parts.write_session_factory, parts.policy, parts.calendar, parts.clock)
    orders, calls = generator.remove()
    refresh(parts, None)
    typer.echo(f"removed {orders:,} demo orders and {calls:,} demo calls")
