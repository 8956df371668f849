"""``hotline analytics …``: KPIs, the daily roll-up, the forecast, hot events and reports.

The roof builds analytics' parts and hands them through the Typer context (``kernel.cli.parts``);
analytics never builds the application itself.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

import typer

from analytics.errors import AnalyticsError
from analytics.periods import HAIKOU
from analytics.wiring import AnalyticsParts
from kernel.cli import parts

app = typer.Typer(help="数据分析 / analytics: KPIs, forecast, hot events, reports", no_args_is_help=True)


def parts_from(ctx: typer.Context) -> AnalyticsParts:
    """Analytics' parts of this command-line run, built by the roof (kernel.cli.PartsProvider)."""
    return parts(ctx, AnalyticsParts)


def fail(exc: AnalyticsError) -> None:
    typer.echo(f"错误：{exc.message_zh}\nerror: {exc.message_en}", err=True)
    raise typer.Exit(2)


def emit(data: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@app.command()
def kpis(
    ctx: typer.Context,
    first: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD, local Haikou day")] = None,
    last: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD, included")] = None,
    by: Annotated[str, typer.Option(help="all, district, unit, category, channel, agent")] = "all",
    key: Annotated[str | None, typer.Option(help="one unit code, district, … (with --by)")] = None,
    grain: Annotated[
        str | None, typer.Option(help="day, week, month, total: a table instead of one object")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The hotline's KPIs for a period (both days included, Haikou time): one JSON object."""
    from analytics.kpis import breakdown
    from analytics.kpis import kpis as compute
    from analytics.periods import period

    parts = parts_from(ctx)
    now = parts.clock.now()
    try:
        p = period(first, last, now)
        if by not in ("all", "district", "unit", "category", "channel", "agent"):
            raise AnalyticsError(f"未知的统计维度 {by[:20]}", f"unknown dimension {by[:20]}")
        if grain is not None and grain not in ("day", "week", "month", "total"):
            raise AnalyticsError(f"未知的粒度 {grain[:20]}", f"unknown grain {grain[:20]}")
        with parts.session_factory() as session:
            if grain:
                data: Any = breakdown(session, p, now, by, grain)  # type: ignore[arg-type]
            else:
                data = compute(session, p, now, by, key)  # type: ignore[arg-type]
    except AnalyticsError as exc:
        fail(exc)
    emit(data, as_json)


@app.command()
def rollup(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(help="recompute the last N closed days")] = 7,
    all_days: Annotated[bool, typer.Option("--all", help="every day since the first order or call")] = False,
) -> None:
    """Recompute the daily KPI roll-up (today always stays live)."""
    from analytics.rollup import refresh

    parts = parts_from(ctx)
    rows = refresh(parts, None if all_days else days)
    typer.echo(f"roll-up rows written: {rows}")


@app.command()
def forecast(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(help="days ahead, from today")] = 14,
    with_backtest: Annotated[bool, typer.Option("--backtest/--no-backtest")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Calls per 30 minutes for the next days, agents needed (80 % in 15 s) and the roster."""
    from analytics.planning import plan

    parts = parts_from(ctx)
    try:
        data = plan(parts, days, with_backtest=with_backtest)
    except AnalyticsError as exc:
        fail(exc)
    if not as_json:
        data = {k: v for k, v in data.items() if k != "intervals"} | {"intervals": len(data["intervals"])}
    emit(data, as_json)


@app.command("hot-events")
def hot_events(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(help="scan the last N days of orders")] = 1,
    evaluate_demo: Annotated[
        bool, typer.Option("--evaluate", help="score against the demo's planted events")
    ] = False,
    save: Annotated[bool, typer.Option("--save/--no-save")] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Find hot events (clusters of one problem in one street within 2 hours) over recent history."""
    from analytics.evaluation import demo_labels, evaluate
    from analytics.hot_events import scan

    parts = parts_from(ctx)
    if not 1 <= days <= 400:
        fail(AnalyticsError("天数须在 1 至 400 之间", "days must be 1 to 400"))
    now = parts.clock.now()
    clusters = scan(parts, now - timedelta(days=days), now, save=save)
    data: dict[str, Any] = {
        "events": [{"place": c.place(), "summary": c.summary(), "size": len(c.members)} for c in clusters]
    }
    if evaluate_demo:
        labels = demo_labels(parts)
        since = now - timedelta(days=days)
        data["evaluation"] = evaluate(clusters, {k: v for k, v in labels.items() if _in_window(v, since)})
    emit(
        data if as_json else {k: v for k, v in data.items() if k != "events"} | {"events": len(clusters)},
        as_json,
    )


def _in_window(numbers: list[str], since: Any) -> bool:
    """Order numbers carry their local acceptance date (HK + YYYYMMDD + counter)."""
    day = since.astimezone(HAIKOU).strftime("%Y%m%d")
    return any(n[2:10] > day for n in numbers)


@app.command()
def report(
    ctx: typer.Context,
    kind: Annotated[str, typer.Option(help="daily, weekly or monthly")] = "daily",
    day: Annotated[
        str | None, typer.Option("--date", help="a day inside the period (default: yesterday)")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="pdf or xlsx")] = "pdf",
    out: Annotated[str | None, typer.Option(help="file to write (default: <data_dir>/reports/…)")] = None,
    due: Annotated[bool, typer.Option("--due", help="write every scheduled report not written yet")] = False,
) -> None:
    """A leadership report (PDF with charts, or Excel), on demand or as the schedule would."""
    from pathlib import Path

    from analytics.periods import local_today, parse_day
    from analytics.reports import render, run_due

    parts = parts_from(ctx)
    try:
        if due:
            for path in run_due(parts, by="cli"):
                typer.echo(str(path))
            return
        when = parse_day(day, "date") if day else local_today(parts.clock.now()) - timedelta(days=1)
        data = render(parts, kind, when, fmt)  # type: ignore[arg-type]
    except AnalyticsError as exc:
        fail(exc)
    target = Path(out) if out else parts.reports_dir / f"hotline-{kind}-{when}.{fmt}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    typer.echo(str(target))


@app.command()
def playbook(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help="list, on, off, report, seed")] = "list",
    code: Annotated[str | None, typer.Argument()] = None,
    by: Annotated[str, typer.Option(help="who switches it")] = "cli",
) -> None:
    """Event playbooks (预案): list them, switch one on or off, or report its KPIs."""
    from analytics.playbooks import list_playbooks, report, seed_playbooks, switch

    parts = parts_from(ctx)
    try:
        if action == "seed":
            with parts.write_session_factory() as session, session.begin():
                typer.echo(f"playbooks added: {seed_playbooks(session, parts.clock.now())}")
        elif action == "list":
            with parts.session_factory() as session:
                for p in list_playbooks(session):
                    typer.echo(f"{p.code:12} {'ON ' if p.active else 'off'} {p.starts_at:%Y-%m-%d} {p.name}")
        elif action in ("on", "off") and code:
            p = switch(parts, code, action == "on", by)
            typer.echo(f"{p.code}: {'on' if p.active else 'off'}")
        elif action == "report" and code:
            emit(report(parts, code), False)
        else:
            raise AnalyticsError(
                "用法：playbook list|seed|on CODE|off CODE|report CODE",
                "usage: playbook list|seed|on CODE|off CODE|report CODE",
            )
    except AnalyticsError as exc:
        fail(exc)


@app.command()
def migratory(
    ctx: typer.Context,
    weeks: Annotated[int, typer.Option(help="weeks of history")] = 12,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Compounds of seasonal residents (候鸟): out-of-province callers and water/power start-stop requests."""
    from analytics.migratory import analyse

    if not 2 <= weeks <= 104:
        fail(AnalyticsError("周数须在 2 至 104 之间", "weeks must be 2 to 104"))
    emit(analyse(parts_from(ctx), weeks), as_json)
