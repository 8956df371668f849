"""Analytics on SQLite and PostgreSQL: the demo history, KPIs that add up (live = rolled up = unit scores),
bad input refused with nothing written, demo rows removable, merged orders, playbooks, reports."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from analytics.demo.generator import DemoGenerator
from analytics.errors import AnalyticsError
from analytics.kpis import kpis, refresh_rollup
from analytics.periods import Period, local_today
from analytics.wiring import AnalyticsParts, Announcement, build
from hotline.bootstrap import App
from kernel.clock import FakeClock
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.errors import IllegalTransition
from routing.domain.model import Actor
from routing.lifecycle import Acknowledge, Resolve
from routing.orm import order_audit, work_orders
from routing.views import unit_scores
from telephony.orm import CallRow

AGENT = Actor("agent1", "agent")


def generate(hot: App, days: int = 3, seed: int = 7, **kw: Any) -> Any:
    gen = DemoGenerator(hot.write_session_factory, hot.policy, hot.calendar, hot.clock)
    return gen.generate(days, seed, scale=0.03, workers=0, **kw)


def count(hot: App, table: Any) -> int:
    with hot.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_demo_history_is_deterministic_and_kpis_add_up(hot: App, clock: FakeClock) -> None:
    report = generate(hot)
    assert report.orders > 100 and report.calls > 100 and report.rows > report.orders
    parts = build(hot)
    now = clock.now()
    p = Period(local_today(now) - timedelta(days=2), local_today(now))
    with hot.session_factory() as s:
        live = kpis(s, p, now)
        accepted = s.scalar(
            select(func.count()).select_from(work_orders).where(work_orders.c.accepted_at >= p.since)
        )
        calls = s.scalar(select(func.count()).select_from(CallRow).where(CallRow.started_at >= p.since))
    assert live["orders_accepted"] == accepted
    assert live["calls_offered"] == calls
    assert live["calls_answered"] + live["calls_abandoned"] + live["calls_callback_requested"] == calls
    for key, value in live.items():
        if key.endswith("_rate") and value is not None:
            assert 0.0 <= value <= 1.0, key
    # The roll-up gives the same figures as counting live.
    with hot.write_session_factory() as s, s.begin():
        refresh_rollup(s, p.first, p.last, now)
    with hot.session_factory() as s:
        assert kpis(s, p, now) == live
        # One definition: a unit's KPI equals its score.
        unit = max(unit_scores(s, p.since, p.until), key=lambda u: u.responses_due)
        by_unit = kpis(s, p, now, "unit", unit.unit_code)
    assert by_unit["on_time_response_rate"] == pytest.approx(unit.on_time_response_rate)
    assert by_unit["satisfaction_rate"] == pytest.approx(unit.satisfaction_rate)
    # The same seed gives the same history (the generator replaces its previous run).
    first = _fingerprint(hot)
    generate(hot)
    assert _fingerprint(hot) == first
    assert parts.data_dir.exists()


def _fingerprint(hot: App) -> list[Any]:
    with hot.session_factory() as s:
        return list(
            s.execute(
                select(work_orders.c.description, work_orders.c.state, work_orders.c.accepted_at).order_by(
                    work_orders.c.accepted_at, work_orders.c.description
                )
            )
        )


def test_demo_rows_are_removed_with_their_audit_and_real_orders_are_refused_then_kept(hot: App) -> None:
    real = hot.work_orders.intake(
        IntakeCommand(channel=Channel.WEB, description="路灯不亮，请维修", citizen_phone="13812345678"), AGENT
    )
    with pytest.raises(AnalyticsError):
        generate(hot)
    assert count(hot, work_orders) == 1  # nothing written
    generate(hot, force=True)
    assert count(hot, work_orders) > 1
    removed, calls = DemoGenerator(hot.write_session_factory, hot.policy, hot.calendar, hot.clock).remove()
    assert removed > 0 and calls > 0
    with hot.session_factory() as s:
        assert [r.number for r in s.execute(select(work_orders.c.number))] == [real.number]
        assert s.scalar(select(func.count()).select_from(order_audit)) == len(real.history)
    with hot.write_session_factory() as s, pytest.raises(Exception, match="append-only"), s.begin():
        s.execute(text("DELETE FROM order_audit"))  # the guard is back on


def test_merged_orders_are_answered_once_and_every_caller_is_resolved(hot: App) -> None:
    numbers = [
        hot.work_orders.intake(
            IntakeCommand(
                channel=Channel.PHONE,
                description="海甸二东路椰风水韵下水道堵塞，污水冒到路面",
                citizen_phone=f"1381234567{i}",
                district="美兰区",
                location_text="海口市美兰区海甸二东路椰风水韵",
            ),
            AGENT,
        ).number
        for i in range(3)
    ]
    master, *members = numbers
    sup = Actor("leader1", "supervisor")
    hot.work_orders.merge(master, members, sup)
    order = hot.work_orders.get(members[0])
    assert order.merged_into == master and not order.pending_deadlines()
    assert order.history[-1].action == "merge_into"
    lead = hot.work_orders.get(master).lead_unit or ""
    unit = Actor("dept", "department", lead)
    with pytest.raises(IllegalTransition):
        hot.work_orders.handle(Resolve(members[0], lead, "答复"), unit)
    hot.work_orders.unmerge(members[1], sup, "不是同一问题")
    again = hot.work_orders.get(members[1])
    assert again.merged_into is None and again.pending_deadlines()
    hot.work_orders.handle(Acknowledge(master, lead), unit)
    hot.work_orders.handle(Resolve(master, lead, "已疏通下水道"), unit)
    resolved = hot.work_orders.get(members[0])
    assert resolved.state.value == "resolved" and resolved.reply == "已疏通下水道"
    assert resolved.resolution_kind == "merged"
    assert hot.work_orders.get(members[1]).state.value == "dispatched"  # unmerged: on its own clock


def test_cli_refuses_bad_periods_and_units_with_a_clear_message(hot: App) -> None:
    import analytics.cli as cli
    from kernel.cli import PartsProvider

    provider = PartsProvider({AnalyticsParts: lambda: build(hot)})
    runner = CliRunner()
    ok = runner.invoke(cli.app, ["kpis", "--json"], obj=provider)
    assert ok.exit_code == 0, ok.output
    assert set(json.loads(ok.output)) >= {"calls_offered", "orders_accepted", "supervision_resolution_rate"}
    for args in (
        ["kpis", "--from", "2026-11-20", "--to", "2026-11-10", "--json"],
        ["kpis", "--from", "2026-11-20", "--to", "2099-01-01", "--json"],
        ["kpis", "--by", "unit", "--key", "no.such.unit", "--json"],
        ["kpis", "--by", "district", "--key", "朝阳区", "--json"],
    ):
        result = runner.invoke(cli.app, args, obj=provider)
        assert result.exit_code == 2, args
        assert "error:" in result.output


def test_api_answers_kpis_and_refuses_bad_input(hot: App, tmp_path: Path) -> None:
    from fastapi import FastAPI

    from analytics.api import install

    web = FastAPI()
    web.state.hot = hot

    class Client:
        role = "supervisor"
        unit_code = None

    install(web, hot, lambda key: Client() if key == "k" else None)
    api = TestClient(web)
    assert api.get("/api/analytics/kpis").status_code == 401
    ok = api.get("/api/analytics/kpis", headers={"X-API-Key": "k"})
    assert ok.status_code == 200 and "answered_within_15s_rate" in ok.json()
    bad = api.get("/api/analytics/kpis?from=2026-11-23&to=2026-11-01", headers={"X-API-Key": "k"})
    assert bad.status_code == 422 and bad.json()["message"] and bad.json()["message_en"]
    assert api.get("/api/analytics/kpis?by=unit&key=nope", headers={"X-API-Key": "k"}).status_code == 422


def test_playbook_switch_puts_its_announcement_on_the_line_and_takes_it_off(hot: App) -> None:
    from analytics.playbooks import seed_playbooks, switch

    said: list[tuple[str, Announcement | None]] = []
    parts: AnalyticsParts = build(hot, announcer=lambda ident, ann: said.append((ident, ann)))
    with hot.write_session_factory() as s, s.begin():
        assert seed_playbooks(s, hot.clock.now()) == 2
    switch(parts, "gaokao", True, "leader1")
    with pytest.raises(AnalyticsError):
        switch(parts, "typhoon", True, "leader1")  # one at a time
    switch(parts, "gaokao", False, "leader1")
    assert [(i, a is not None) for i, a in said] == [("playbook-gaokao", True), ("playbook-gaokao", False)]
    first = said[0][1]
    assert first is not None and "准考证" in first.text_zh


def test_reports_render_a_pdf_and_a_workbook_and_the_schedule_writes_each_once(hot: App) -> None:
    from analytics.reports import render, run_due

    generate(hot, days=2)
    parts = build(hot)
    day = local_today(hot.clock.now()) - timedelta(days=1)
    assert render(parts, "daily", day, "pdf").startswith(b"%PDF")
    assert render(parts, "weekly", day, "xlsx")[:2] == b"PK"
    first = run_due(parts)
    assert len(first) == 6 and all(p.exists() for p in first)
    assert run_due(parts) == []
