"""The agent desk: status, queues, the screen pop, the work-order form with live routing suggestion."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError

from agent_ui import assist_form
from agent_ui.deps import AgentUser, CsrfChecked, Hot, Lang
from agent_ui.forms import domain_message, validation_errors
from agent_ui.live import (
    AGENT_STATES,
    PAUSE_REASONS,
    AgentStatusChanged,
    AutofillReady,
    CallAnswered,
    CallEnded,
    DeskFeed,
    QueueStats,
    SuggestionsReady,
    TranscriptLine,
)
from agent_ui.parts import DeskParts
from agent_ui.queries import categories, orders_by_phone, units
from agent_ui.rendering import render
from agent_ui.routes.emergency import emergency_buttons, flash, record_on_new_order
from agent_ui.streams import sse_response
from routing.commands import DISTRICTS, IntakeCommand, TargetIn, normalize_phone
from routing.domain.enums import AssignmentRole, CaseType, Channel
from routing.domain.errors import DomainError
from routing.domain.model import Actor

router = APIRouter()

INTAKE_FIELDS = (
    "citizen_phone",
    "citizen_name",
    "category_id",
    "district",
    "location_text",
    "description",
    "case_type",
    "call_id",
    "answer",
    "confidential",
    "unit_code",
)


def _feed(request: Request) -> DeskFeed:
    feed: DeskFeed = request.app.state.ui_feed
    return feed


def actor_of(user: Any) -> Actor:
    return Actor(user.username, user.role.value, user.unit_code)


def _desk_context(
    request: Request,
    hot: DeskParts,
    user: Any,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    feed = _feed(request)
    call = feed.current_call(user.username)
    values = dict(values or {})
    if call is not None and call.ended_at is None:
        values.setdefault("citizen_phone", call.caller)
        values.setdefault("call_id", call.call_id)
        if call.suggestions and call.suggestions.category_id:
            values.setdefault("category_id", str(call.suggestions.category_id))
    with hot.session_factory() as session:
        cats = categories(session)
        history = orders_by_phone(session, call.caller) if call else []
        unit_choices = units(session)
    ids = {c.path: c.id for c in cats}
    live = call is not None and call.ended_at is None
    return {
        "category_ids": ids,
        "unit_choices": unit_choices,
        "autofill_json": assist_form.page_json(call.autofill if live and call else None, ids),
        "status": feed.status(user.username),
        "agent_states": AGENT_STATES,
        "pause_reasons": PAUSE_REASONS,
        "queues": sorted(feed.queues.values(), key=lambda q: q.queue),
        "call": call,
        "history": history,
        "categories_json": json.dumps(
            [[c.id, c.level1, c.level2, c.level3] for c in cats], ensure_ascii=False
        ),
        "districts": DISTRICTS,
        "case_types": [c.value for c in CaseType],
        "values": values,
        "errors": errors or {},
        "kb_connected": hot.kb_search is not None,
        "emergency_lines": emergency_buttons(hot),
        "phone_connected": hot.call_control is not None,
    }


def desk_page_with_errors(
    request: Request, hot: DeskParts, user: Any, errors: dict[str, str], status: int
) -> Response:
    return render(request, "desk.html", _desk_context(request, hot, user, errors=errors), status_code=status)


@router.get("/desk")
def desk_page(
    request: Request,
    user: AgentUser,
    hot: Hot,
    lang: Lang,
    filed: str = "",
    dispatched: int = 0,
    choice: str = "",
    emergency: str = "",
    mode: str = "",
    orders: str = "",
) -> Response:
    ctx = _desk_context(request, hot, user)
    if emergency:
        ctx["flash"] = flash(
            lang, emergency, mode, orders if re.fullmatch(r"[A-Z0-9,]{0,200}", orders) else ""
        )
    if re.fullmatch(r"[A-Z]{2}\d{6,20}", filed):
        if lang == "en":
            ctx["flash"] = f"Order {filed} filed" + (
                " and dispatched" if dispatched else ", answered on the spot"
            )
        else:
            ctx["flash"] = f"工单 {filed} 已受理" + ("并已派单" if dispatched else "，已当场答复办结")
        if choice in ("accepted", "changed"):
            notes = {
                "accepted": ("（采用了智能建议的分类）", " (suggested category accepted)"),
                "changed": ("（更改了智能建议的分类）", " (suggested category changed)"),
            }
            zh, en = notes[choice]
            ctx["flash"] += en if lang == "en" else zh
    return render(request, "desk.html", ctx)


@router.get("/desk/pop")
def screen_pop(request: Request, user: AgentUser, hot: Hot) -> Response:
    return render(request, "_screen_pop.html", _desk_context(request, hot, user))


@router.get("/desk/status-panel")
def status_panel(request: Request, user: AgentUser, hot: Hot) -> Response:
    """The agent's status (and the wrap-up countdown), refreshed by the desk's event stream."""
    return render(request, "_agent_status.html", _desk_context(request, hot, user))


@router.get("/desk/live")
def live_panels(request: Request, user: AgentUser, hot: Hot) -> Response:
    """The suggestions for the agent's call (refreshed by the desk's event stream)."""
    return render(request, "_desk_live.html", _desk_context(request, hot, user))


@router.get("/desk/transcript")
def transcript_panel(request: Request, user: AgentUser) -> Response:
    """The live transcript's lines so far: the page's script fetches them when its event stream
    (re)connects, then applies each line as it comes."""
    return render(request, "_desk_transcript.html", {"call": _feed(request).current_call(user.username)})


@router.post("/desk/status", dependencies=[CsrfChecked])
def set_status(
    request: Request,
    user: AgentUser,
    lang: Lang,
    hot: Hot,
    status: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    errors: dict[str, str] = {}
    if status not in ("ready", "paused", "wrap_up"):
        errors["status"] = "Choose ready, paused or wrap-up" if lang == "en" else "请选择就绪、小休或话后处理"
    elif status == "paused" and reason not in PAUSE_REASONS:
        errors["reason"] = "Choose a pause reason" if lang == "en" else "请选择小休原因"
    if not errors:
        refused = _status_on_switch(hot, user.username, status, reason)
        if refused:
            errors["status"] = (
                f"The switch refused: {refused}" if lang == "en" else f"交换机未能切换状态：{refused}"
            )
    if errors:
        return render(request, "desk.html", _desk_context(request, hot, user, errors=errors), status_code=422)
    _feed(request).set_status(user.username, status, reason)
    return RedirectResponse("/desk", status_code=303)


def _status_on_switch(hot: DeskParts, username: str, status: str, reason: str) -> str | None:
    """Apply the status to app_queue membership where telephony runs and the agent has a SIP account;
    returns the switch's refusal, or None. Desk users without a SIP account work without the switch."""
    switch = hot.agent_switch
    if switch is None or not switch.has_account(username):
        return None
    try:
        switch.apply_desk_status(username, status, hot.clock.now(), reason)
    except (ValueError, RuntimeError) as exc:
        return str(exc)
    return None


@router.post("/desk/suggest", dependencies=[CsrfChecked])
def suggest(
    request: Request,
    user: AgentUser,
    hot: Hot,
    category_id: Annotated[str, Form()] = "",
    district: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    location_text: Annotated[str, Form()] = "",
) -> Response:
    """The routing the dispatch rules would choose, shown while the agent types (nothing is written)."""
    routing = None
    error = ""
    cat = int(category_id) if category_id.isdigit() else None
    if cat is not None or description.strip():
        try:
            routing = hot.work_orders.suggest_routing(
                cat, district if district in DISTRICTS else None, description, location_text
            )
        except (DomainError, KeyError, StopIteration) as exc:
            error = str(exc)
    names = {}
    if routing is not None:
        with hot.session_factory() as session:
            names = dict(units(session))
    return render(
        request, "_routing_suggestion.html", {"routing": routing, "unit_names": names, "error": error}
    )


@router.post("/desk/orders", dependencies=[CsrfChecked])
def file_order(
    request: Request,
    user: AgentUser,
    hot: Hot,
    lang: Lang,
    citizen_phone: Annotated[str, Form()] = "",
    citizen_name: Annotated[str, Form()] = "",
    category_id: Annotated[str, Form()] = "",
    district: Annotated[str, Form()] = "",
    location_text: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    case_type: Annotated[str, Form()] = "",
    call_id: Annotated[str, Form()] = "",
    answer: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "dispatch",
    confidential: Annotated[str, Form()] = "",
    unit_code: Annotated[str, Form()] = "",
    assist_state: Annotated[str, Form()] = "",
) -> Response:
    values = {
        "citizen_phone": citizen_phone,
        "citizen_name": citizen_name,
        "category_id": category_id,
        "district": district,
        "location_text": location_text,
        "description": description,
        "case_type": case_type,
        "call_id": call_id,
        "answer": answer,
        "confidential": confidential,
        "unit_code": unit_code,
        "assist_state": assist_state,
    }
    errors: dict[str, str] = {}
    if unit_code and unit_code not in dict(_unit_choices(hot)):
        errors["unit_code"] = "Choose a unit from the list" if lang == "en" else "请从列表中选择承办单位"
    on_the_spot = action == "answer"
    if on_the_spot and not answer.strip():
        errors["answer"] = "Enter the answer given to the caller" if lang == "en" else "请填写当场答复的内容"
    if not on_the_spot and not category_id:
        errors["category_id"] = "Choose a category to dispatch" if lang == "en" else "派单须选择分类"
    if category_id and not category_id.isdigit():
        errors["category_id"] = "Choose a category from the list" if lang == "en" else "请从列表中选择分类"
    cmd = None
    try:
        cmd = IntakeCommand(
            channel=Channel.PHONE,
            case_type=CaseType(case_type) if case_type in {c.value for c in CaseType} else None,
            category_id=int(category_id) if category_id.isdigit() else None,
            description=description,
            citizen_phone=citizen_phone,
            citizen_name=citizen_name,
            location_text=location_text,
            district=district or None,
            dispatch=not on_the_spot,
            answer_on_the_spot=answer if on_the_spot else None,
            call_id=call_id or None,
            confidential=confidential in ("1", "on", "true"),
            # The agent's unit (often the suggested one, accepted); none: the dispatch rules decide.
            targets=[TargetIn(unit_code=unit_code, role=AssignmentRole.LEAD)]
            if unit_code and not on_the_spot
            else None,
        )
    except ValidationError as exc:
        errors = {**validation_errors(exc, lang), **errors}
    if cmd is None or errors:
        return render(
            request, "desk.html", _desk_context(request, hot, user, values, errors), status_code=422
        )
    try:
        order = hot.work_orders.intake(cmd, actor_of(user))
    except DomainError as exc:
        field = "category_id" if "category" in exc.details else "form"
        errors[field] = domain_message(exc, lang)
        return render(
            request, "desk.html", _desk_context(request, hot, user, values, errors), status_code=422
        )
    record_on_new_order(hot, user, order.number, cmd.call_id)  # a three-way call with 110...
    choice = assist_form.record_suggestion_choice(_feed(request), hot, user, order)
    assist_form.record_assist_fields(hot, user, order, values)
    return RedirectResponse(
        f"/desk?filed={order.number}&dispatched={int(not on_the_spot)}&choice={choice}", status_code=303
    )


def _unit_choices(hot: DeskParts) -> list[tuple[str, str]]:
    with hot.session_factory() as session:
        return units(session)


@router.post("/desk/history", dependencies=[CsrfChecked])
def caller_history(
    request: Request, user: AgentUser, hot: Hot, lang: Lang, phone: Annotated[str, Form()] = ""
) -> Response:
    """A caller's earlier orders. The number travels in the body: in a URL it would reach access logs."""
    error = ""
    rows = []
    try:
        normalized = normalize_phone(phone) if phone else ""
    except ValueError:
        normalized = ""
        error = "Not a valid phone number" if lang == "en" else "号码无效"
    if normalized:
        with hot.session_factory() as session:
            rows = orders_by_phone(session, normalized)
    return render(request, "_history.html", {"history": rows, "history_error": error, "phone": phone})


@router.get("/desk/kb")
def kb(request: Request, user: AgentUser, hot: Hot, lang: Lang, q: str = "") -> Response:
    port = hot.kb_search
    query = q.strip()
    error = ""
    if len(query) > 200:
        error = "At most 200 characters" if lang == "en" else "最多 200 字"
    answers = port.search(query, 5) if port and query and not error else []
    return render(
        request,
        "_kb.html",
        {
            "answers": answers,
            "kb_connected": port is not None,
            "q": q,
            "searched": bool(query),
            "kb_error": error,
        },
    )


def _concerns(event: object, agent: str, feed: DeskFeed, ids: dict[str, int]) -> str | tuple[str, str] | None:
    """``refresh`` (screen pop and live panels), ``live`` (suggestions), ``transcript`` (one line, as JSON),
    ``autofill`` (the order form's suggested values, as JSON) or None."""
    if isinstance(event, CallAnswered | CallEnded | AgentStatusChanged):
        return "refresh" if event.agent == agent else None
    if isinstance(event, TranscriptLine | SuggestionsReady | AutofillReady):
        if feed.agent_for_call(event.call_id) != agent:
            return None
        if isinstance(event, TranscriptLine):
            # One utterance's line, added or updated in place by the page's script (never a reload: a
            # 20-minute call has hundreds of lines and a partial every few hundred milliseconds).
            return "transcript", json.dumps(event.to_dict(), ensure_ascii=False)
        if isinstance(event, AutofillReady):
            # The values travel with the event: the form is updated without another request.
            return "autofill", json.dumps(
                assist_form.with_category_id(event.to_dict(), ids), ensure_ascii=False
            )
        return "live"
    return "refresh" if isinstance(event, QueueStats) else None


@router.get("/desk/stream")
async def desk_stream(request: Request, user: AgentUser, hot: Hot) -> StreamingResponse:
    """Server-sent events: ``refresh`` whenever this agent's call, transcript or suggestions change."""
    feed = _feed(request)
    agent = user.username
    with hot.session_factory() as session:
        ids = {c.path: c.id for c in categories(session)}
    return sse_response(request, hot, lambda e: _concerns(e, agent, feed, ids))
