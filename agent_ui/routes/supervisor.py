"""The supervisor: wallboard (live), rulings on returns, approvals of extensions and appeals, reopening,
supervision orders, and live call monitoring through the telephony port."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from agent_ui.deps import CsrfChecked, Hot, Lang, SupervisorUser, Users, WebUser
from agent_ui.forms import domain_message, text_required
from agent_ui.live import AgentStatusChanged, CallAnswered, CallEnded, DeskFeed, QueueStats
from agent_ui.parts import DeskParts
from agent_ui.ports import MONITOR_MODES
from agent_ui.queries import open_supervisions, orders_in_state, pending_requests, units, wallboard
from agent_ui.rendering import render
from agent_ui.routes.desk import actor_of
from agent_ui.rules_queries import cards_since
from agent_ui.streams import sse_response
from analytics.hot_events import HotEventDetected
from routing.domain import events as ev
from routing.domain.enums import AssignmentRole, OrderState, RequestKind
from routing.domain.errors import DomainError
from routing.domain.model import Target
from routing.lifecycle import DecideRequest, Reopen, RuleOnReturn

router = APIRouter()


def _day_start(hot: DeskParts) -> datetime:
    tz = ZoneInfo(hot.settings.timezone)
    local = hot.clock.now().astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def for_hotline(kind: str, addressed_to: str) -> bool:
    """A response breach raises two alarms, one to the unit and one to the hotline: show the hotline's."""
    return addressed_to == "hotline" or kind != "response_breach"


def _wallboard_ctx(request: Request, hot: DeskParts) -> dict[str, Any]:
    feed: DeskFeed = request.app.state.ui_feed
    with hot.session_factory() as session:
        board = wallboard(session, hot.clock.now(), _day_start(hot))
        cards = cards_since(session, _day_start(hot))
    by_state: dict[str, int] = {}
    for state in feed.agents.values():
        by_state[state.status] = by_state.get(state.status, 0) + 1
    return {
        "board": board,
        "cards": cards,
        "alarms": [a for a in board.alarms if for_hotline(a.kind, a.addressed_to)],
        "queues": sorted(feed.queues.values(), key=lambda q: q.queue),
        "agents_by_state": by_state,
    }


@router.get("/supervisor/wallboard")
def wallboard_page(request: Request, user: SupervisorUser, hot: Hot) -> Response:
    return render(request, "wallboard.html", _wallboard_ctx(request, hot))


@router.get("/supervisor/wallboard/panel")
def wallboard_panel(request: Request, user: SupervisorUser, hot: Hot) -> Response:
    return render(request, "_wallboard_panel.html", _wallboard_ctx(request, hot))


@router.get("/supervisor/wallboard/stream")
async def wallboard_stream(request: Request, user: SupervisorUser, hot: Hot, lang: Lang) -> StreamingResponse:
    """Server-sent events: ``alarm`` for each SLA alarm as it is raised, ``refresh`` for other changes."""
    tz = ZoneInfo(hot.settings.timezone)

    def classify(event: object) -> str | tuple[str, str] | None:
        if isinstance(event, ev.SlaAlarmRaised):
            if not for_hotline(event.kind, event.addressed_to):
                return "refresh"
            data = {
                "order": event.order_number,
                "kind": event.kind,
                "level": event.level,
                "unit": event.unit_code,
                "message": event.message_zh,
                "time": event.at.astimezone(tz).strftime("%H:%M:%S"),
            }
            return "alarm", json.dumps(data, ensure_ascii=False)
        if isinstance(event, HotEventDetected):  # many callers about one problem: a live alert to merge
            data = {
                "kind": "hot_event",
                "message": f"热点事件：{event.place} · {event.summary}（{event.size}件）",
                "time": event.at.astimezone(tz).strftime("%H:%M:%S"),
            }
            return "alarm", json.dumps(data, ensure_ascii=False)
        if isinstance(event, ev.Event | QueueStats | AgentStatusChanged | CallAnswered | CallEnded):
            return "refresh"
        return None

    return sse_response(request, hot, classify)


def rulings_page(
    request: Request,
    hot: DeskParts,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    flash: str = "",
    status_code: int = 200,
) -> Response:
    with hot.session_factory() as session:
        ctx = {
            "returns": pending_requests(session, [RequestKind.RETURN.value]),
            "requests": pending_requests(session, [RequestKind.EXTENSION.value, RequestKind.APPEAL.value]),
            "objections": pending_requests(session, [RequestKind.OBJECTION.value]),
            "supervisions": open_supervisions(session),
            "closed": orders_in_state(session, [OrderState.CLOSED.value], limit=20),
            "units": units(session),
            "errors": errors or {},
            "values": values or {},
            "flash": flash,
        }
    return render(request, "rulings.html", ctx, status_code=status_code)


@router.get("/supervisor/rulings")
def rulings(
    request: Request, user: SupervisorUser, hot: Hot, lang: Lang, done: str = "", n: str = ""
) -> Response:
    flash = ""
    if done and n:
        flash = f"{n}: {done}" if lang == "en" else f"{n}：已处理"
    return rulings_page(request, hot, flash=flash)


def _do(
    request: Request,
    hot: DeskParts,
    user: WebUser,
    lang: str,
    number: str,
    key: str,
    errors: dict[str, str],
    values: dict[str, str],
    step: Any,
) -> Response:
    if errors:
        return rulings_page(
            request,
            hot,
            {f"{number}:{k}": v for k, v in errors.items()},
            {f"{number}:{k}": v for k, v in values.items()},
            status_code=422,
        )
    try:
        step()
    except DomainError as exc:
        return rulings_page(
            request,
            hot,
            {f"{number}:{key}": domain_message(exc, lang)},
            {f"{number}:{k}": v for k, v in values.items()},
            status_code=422,
        )
    return RedirectResponse(f"/supervisor/rulings?done={key}&n={number}", status_code=303)


@router.post("/supervisor/orders/{number}/rule-return", dependencies=[CsrfChecked])
def rule_return(
    request: Request,
    number: str,
    user: SupervisorUser,
    hot: Hot,
    lang: Lang,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    unit_code: Annotated[str, Form()] = "",
) -> Response:
    errors: dict[str, str] = {}
    if decision not in ("approve", "reject"):
        errors["decision"] = "Choose approve or reject" if lang == "en" else "请选择同意或驳回"
    text = text_required(note, "note", lang, errors)
    approve = decision == "approve"
    if approve and not unit_code:
        errors["unit_code"] = (
            "Choose the unit to re-dispatch to" if lang == "en" else "同意退单须选择新的承办单位"
        )
    targets = [Target(unit_code, AssignmentRole.LEAD)] if approve and unit_code else None
    return _do(
        request,
        hot,
        user,
        lang,
        number,
        "rule",
        errors,
        {"decision": decision, "note": note, "unit_code": unit_code},
        lambda: hot.work_orders.handle(RuleOnReturn(number, approve, text, targets), actor_of(user)),
    )


@router.post("/supervisor/orders/{number}/decide", dependencies=[CsrfChecked])
def decide(
    request: Request,
    number: str,
    user: SupervisorUser,
    hot: Hot,
    lang: Lang,
    kind: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    request_id: Annotated[str, Form()] = "",
) -> Response:
    errors: dict[str, str] = {}
    if kind not in (RequestKind.EXTENSION.value, RequestKind.APPEAL.value):
        errors["decide"] = "Unknown request" if lang == "en" else "申请类型无效"
    elif decision not in ("approve", "reject"):
        errors["decide"] = "Choose approve or reject" if lang == "en" else "请选择同意或驳回"
    rid = int(request_id) if request_id.isdigit() else None
    return _do(
        request,
        hot,
        user,
        lang,
        number,
        "decide",
        errors,
        {"note": note},
        lambda: hot.work_orders.handle(
            DecideRequest(number, RequestKind(kind), decision == "approve", note.strip(), rid), actor_of(user)
        ),
    )


@router.post("/supervisor/reopen", dependencies=[CsrfChecked])
def reopen(
    request: Request,
    user: SupervisorUser,
    hot: Hot,
    lang: Lang,
    number: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    errors: dict[str, str] = {}
    number = number.strip().upper()
    if not number:
        errors["number"] = "Required" if lang == "en" else "必填"
    text = text_required(reason, "reason", lang, errors)
    if errors:
        return rulings_page(
            request,
            hot,
            {f"reopen:{k}": v for k, v in errors.items()},
            {"reopen:number": number, "reopen:reason": reason},
            status_code=422,
        )
    try:
        hot.work_orders.handle(Reopen(number, text), actor_of(user))
    except DomainError as exc:
        return rulings_page(
            request,
            hot,
            {"reopen:number": domain_message(exc, lang)},
            {"reopen:number": number, "reopen:reason": reason},
            status_code=422,
        )
    return RedirectResponse(f"/supervisor/rulings?done=reopen&n={number}", status_code=303)


def _sessions(request: Request) -> dict[str, dict[str, str]]:
    sessions: dict[str, dict[str, str]] | None = getattr(request.app.state, "ui_monitor_sessions", None)
    if sessions is None:
        sessions = {}
        request.app.state.ui_monitor_sessions = sessions
    return sessions


def _monitor_page(
    request: Request, hot: DeskParts, error: str = "", flash: str = "", status_code: int = 200
) -> Response:
    feed: DeskFeed = request.app.state.ui_feed
    live = [(agent, call) for agent, call in feed.calls.items() if call.ended_at is None]
    return render(
        request,
        "monitor.html",
        {
            "live": live,
            "connected": hot.call_monitor is not None,
            "modes": MONITOR_MODES,
            "error": error,
            "flash": flash,
            "sessions": _sessions(request),
        },
        status_code=status_code,
    )


@router.get("/supervisor/monitor")
def monitor_page(request: Request, user: SupervisorUser, hot: Hot, lang: Lang, started: str = "") -> Response:
    flash = ""
    if started in MONITOR_MODES:
        zh = {"spy": "监听", "whisper": "耳语", "barge": "强插"}[started]
        flash = (
            f"Calling your extension for {started}" if lang == "en" else f"正在呼叫您的分机（{zh}），请接听"
        )
    return _monitor_page(request, hot, flash=flash)


@router.post("/supervisor/calls/{call_id}/monitor", dependencies=[CsrfChecked])
def monitor(
    request: Request,
    call_id: str,
    user: SupervisorUser,
    hot: Hot,
    lang: Lang,
    users: Users,
    mode: Annotated[str, Form()] = "",
    extension: Annotated[str, Form()] = "",
) -> Response:
    port = hot.call_monitor
    feed: DeskFeed = request.app.state.ui_feed
    error = ""
    if mode not in MONITOR_MODES:
        error = "Choose listen, whisper or barge" if lang == "en" else "请选择监听、耳语或强插"
    elif not extension.strip().isdigit() or len(extension.strip()) > 16:
        error = "Enter your extension number" if lang == "en" else "请填写您的分机号"
    elif port is None:
        error = "The switch is not connected" if lang == "en" else "交换机未连接"
    elif feed.agent_for_call(call_id) is None:
        error = "No such live call" if lang == "en" else "该通话不存在或已结束"
    session_id = ""
    if not error:
        assert port is not None
        try:
            session_id = port.monitor(call_id, extension.strip(), mode)
        except (RuntimeError, ValueError) as exc:
            error = f"The switch refused: {exc}" if lang == "en" else f"交换机拒绝了请求：{exc}"
    if error:
        return _monitor_page(request, hot, error=error, status_code=422)
    agent = feed.agent_for_call(call_id) or ""
    _sessions(request)[session_id] = {
        "call_id": call_id,
        "agent": agent,
        "mode": mode,
        "extension": extension.strip(),
        "by": user.username,
    }
    client = request.client.host if request.client else ""
    users.audit(user.username, user.role.value, f"monitor_{mode}", call_id, f"agent {agent}", client)
    return RedirectResponse(f"/supervisor/monitor?started={mode}", status_code=303)


@router.post("/supervisor/monitor/{session_id}/stop", dependencies=[CsrfChecked])
def stop_monitor(request: Request, session_id: str, user: SupervisorUser, hot: Hot, lang: Lang) -> Response:
    port = hot.call_monitor
    session = _sessions(request).pop(session_id, None)
    if session is not None and port is not None:
        try:
            port.stop(session_id)
        except RuntimeError as exc:
            error = f"The switch refused: {exc}" if lang == "en" else f"交换机拒绝了请求：{exc}"
            return _monitor_page(request, hot, error=error, status_code=422)
    return RedirectResponse("/supervisor/monitor", status_code=303)
