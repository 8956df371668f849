"""Supervisors' analytics pages: KPIs, hot events and merging (并单), staffing, seasonal residents, playbooks,
reports. Reads go through analytics' views; the merge itself is routing's command (audited there)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from agent_ui.deps import CsrfChecked, Hot, Lang, SupervisorUser
from agent_ui.forms import domain_message
from agent_ui.rendering import render
from agent_ui.routes.bigscreen import analytics_parts
from agent_ui.routes.desk import actor_of
from analytics import hot_events, playbooks, reports
from analytics.errors import AnalyticsError
from analytics.kpis import breakdown, kpis
from analytics.migratory import analyse
from analytics.periods import local_today, period
from analytics.planning import plan
from routing.domain.errors import DomainError
from routing.domain.merging import MERGEABLE
from routing.views import order_states

router = APIRouter()
MERGEABLE_STATES = {s.value for s in MERGEABLE}


def _msg(exc: AnalyticsError | DomainError, lang: str) -> str:
    return exc.message_en if lang == "en" else exc.message_zh


@router.get("/analytics")
def overview(request: Request, user: SupervisorUser, lang: Lang, by: str = "district") -> Response:
    """KPIs for a period (?from=&to=, Haikou days, both included) and a table by district, unit, …"""
    parts = analytics_parts(request)
    now = parts.clock.now()
    first = request.query_params.get("from") or None
    last = request.query_params.get("to") or None
    ctx: dict[str, Any] = {"first": first or "", "last": last or "", "by": by, "error": ""}
    try:
        p = period(first, last, now, default_days=7)
        if by not in ("district", "unit", "category", "channel", "agent"):
            raise AnalyticsError("未知的统计维度", "unknown dimension")
        with parts.session_factory() as session:
            ctx["kpi"] = kpis(session, p, now)
            rows = breakdown(session, p, now, by, "total")  # type: ignore[arg-type]
        ctx["rows"] = sorted((r for r in rows if r["key"]), key=lambda r: -r["orders_accepted"])[:40]
        ctx["first"], ctx["last"] = p.first.isoformat(), p.last.isoformat()
    except AnalyticsError as exc:
        ctx.update(error=_msg(exc, lang), kpi=None, rows=[])
        return render(request, "analytics.html", ctx, status_code=422)
    return render(request, "analytics.html", ctx)


# ---- hot events and merging ------------------------------------------------------------------------------
def _hot_page(
    request: Request, lang: str, error: str = "", flash: str = "", status_code: int = 200
) -> Response:
    parts = analytics_parts(request)
    with parts.session_factory() as session:
        events = hot_events.list_events(session, "all", 40)
        states = order_states(session, [n for e in events for n in e.order_numbers])
    return render(
        request,
        "analytics_hot.html",
        {
            "events": events,
            "states": states,
            "open_numbers": {
                n for n, (st, into) in states.items() if st in MERGEABLE_STATES and into is None
            },
            "error": error,
            "flash": flash,
        },
        status_code=status_code,
    )


@router.get("/analytics/hot-events")
def hot_page(request: Request, user: SupervisorUser, lang: Lang, done: str = "") -> Response:
    return _hot_page(request, lang, flash=done)


@router.post("/analytics/hot-events/{event_id}/merge", dependencies=[CsrfChecked])
def merge(
    request: Request,
    event_id: int,
    user: SupervisorUser,
    hot: Hot,
    lang: Lang,
    master: Annotated[str, Form()] = "",
) -> Response:
    """并单: the chosen master and every still-open order of the event; the rest are left as they are."""
    parts = analytics_parts(request)
    with parts.session_factory() as session:
        event = hot_events.get_event(session, event_id)
        states = order_states(session, event.order_numbers) if event else {}
    if event is None or event.state != "open":
        return _hot_page(
            request,
            lang,
            error="No such open hot event" if lang == "en" else "热点事件不存在或已处理",
            status_code=404,
        )
    if master not in event.order_numbers or states.get(master, ("", None))[0] not in MERGEABLE_STATES:
        return _hot_page(
            request, lang, error="Choose the master order" if lang == "en" else "请选择主单", status_code=422
        )
    members = [
        n
        for n in event.order_numbers
        if n != master and states.get(n, ("", None))[0] in MERGEABLE_STATES and states[n][1] is None
    ]
    if not members:
        msg = "No open orders left to merge" if lang == "en" else "没有可并入的在办工单"
        return _hot_page(request, lang, error=msg, status_code=422)
    try:
        hot.work_orders.merge(master, members, actor_of(user))
    except DomainError as exc:
        return _hot_page(request, lang, error=domain_message(exc, lang), status_code=422)
    with parts.write_session_factory() as session, session.begin():
        hot_events.decide(
            session, event_id, "merged", user.username, parts.clock.now(), master, ",".join(members)
        )
    done = (
        f"{len(members)} orders merged into {master}"
        if lang == "en"
        else f"已将 {len(members)} 件并入主单 {master}"
    )
    return RedirectResponse(f"/analytics/hot-events?done={done}", status_code=303)


@router.post("/analytics/hot-events/{event_id}/dismiss", dependencies=[CsrfChecked])
def dismiss(request: Request, event_id: int, user: SupervisorUser, lang: Lang) -> Response:
    parts = analytics_parts(request)
    with parts.write_session_factory() as session, session.begin():
        hot_events.decide(session, event_id, "dismissed", user.username, parts.clock.now())
    return RedirectResponse("/analytics/hot-events", status_code=303)


@router.post("/analytics/orders/{number}/unmerge", dependencies=[CsrfChecked])
def unmerge(
    request: Request,
    number: str,
    user: SupervisorUser,
    hot: Hot,
    lang: Lang,
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        hot.work_orders.unmerge(number, actor_of(user), reason.strip()[:500])
    except DomainError as exc:
        return _hot_page(request, lang, error=domain_message(exc, lang), status_code=422)
    done = f"{number} taken out of its master" if lang == "en" else f"{number} 已取消并单"
    return RedirectResponse(f"/analytics/hot-events?done={done}", status_code=303)


# ---- staffing, seasonal residents --------------------------------------------------------------------------
@router.get("/analytics/staffing")
def staffing(request: Request, user: SupervisorUser, lang: Lang) -> Response:
    parts = analytics_parts(request)
    try:
        data = plan(parts, 14, with_backtest=True)
    except AnalyticsError as exc:
        return render(request, "analytics_staffing.html", {"data": None, "error": _msg(exc, lang)})
    short = [i for i in data["intervals"] if i["agents_needed"] > i["scheduled"]]
    return render(request, "analytics_staffing.html", {"data": data, "short": short[:30], "error": ""})


@router.get("/analytics/migratory")
def migratory(request: Request, user: SupervisorUser) -> Response:
    return render(request, "analytics_migratory.html", {"data": analyse(analytics_parts(request), 12)})


# ---- playbooks -----------------------------------------------------------------------------------------
@router.get("/analytics/playbooks")
def playbooks_page(request: Request, user: SupervisorUser, lang: Lang, error: str = "") -> Response:
    parts = analytics_parts(request)
    with parts.write_session_factory() as session, session.begin():
        playbooks.seed_playbooks(session, parts.clock.now())
    with parts.session_factory() as session:
        items = playbooks.list_playbooks(session)
    return render(request, "analytics_playbooks.html", {"items": items, "error": error})


@router.post("/analytics/playbooks/{code}", dependencies=[CsrfChecked])
def switch_playbook(
    request: Request, code: str, user: SupervisorUser, lang: Lang, on: Annotated[str, Form()] = ""
) -> Response:
    parts = analytics_parts(request)
    try:
        playbooks.switch(parts, code, on == "1", user.username)
    except AnalyticsError as exc:
        with parts.session_factory() as session:
            items = playbooks.list_playbooks(session)
        return render(
            request, "analytics_playbooks.html", {"items": items, "error": _msg(exc, lang)}, status_code=422
        )
    return RedirectResponse("/analytics/playbooks", status_code=303)


# ---- reports -----------------------------------------------------------------------------------------
@router.get("/analytics/reports")
def reports_page(request: Request, user: SupervisorUser) -> Response:
    parts = analytics_parts(request)
    yesterday = local_today(parts.clock.now()) - timedelta(days=1)
    return render(
        request,
        "analytics_reports.html",
        {"runs": reports.recent_runs(parts), "yesterday": yesterday.isoformat()},
    )


@router.get("/analytics/reports/download")
def download(
    request: Request, user: SupervisorUser, lang: Lang, kind: str = "daily", day: str = "", fmt: str = "pdf"
) -> Response:
    from analytics.periods import parse_day

    parts = analytics_parts(request)
    try:
        when = parse_day(day, "date") if day else local_today(parts.clock.now()) - timedelta(days=1)
        if when > local_today(parts.clock.now()):
            raise AnalyticsError("日期晚于今天", "the date is after today")
        body = reports.render(parts, kind, when, fmt)  # type: ignore[arg-type]
    except AnalyticsError as exc:
        return Response(_msg(exc, lang), status_code=422, media_type="text/plain; charset=utf-8")
    media = (
        "application/pdf"
        if fmt == "pdf"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"hotline-{kind}-{when}.{fmt}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
