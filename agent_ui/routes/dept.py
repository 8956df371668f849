"""A unit's inbox: new orders with their response clock, and every step a unit takes on an order.

A department account acts for its own unit only; an order its unit never held answers 404 (its existence is
not confirmed to other units).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from agent_ui.deps import CsrfChecked, DeptUser, Hot, Lang, WebUser
from agent_ui.forms import domain_message, parse_int, text_required
from agent_ui.parts import DeskParts
from agent_ui.queries import open_supervisions, unit_inbox, unit_name
from agent_ui.rendering import render
from agent_ui.routes.desk import actor_of
from agent_ui.rules_queries import inbox_cards
from routing.access import may_see_order
from routing.domain.errors import DomainError, NotFound
from routing.lifecycle import (
    Acknowledge,
    AcknowledgeSupervision,
    AddProgressNote,
    ObjectToDispatch,
    RequestExtension,
    RequestReturn,
    Resolve,
    StartWork,
)
from routing.views import unit_scores

router = APIRouter()

DONE_MESSAGES = {
    "ack": ("已签收", "acknowledged"),
    "start": ("已开始办理", "work started"),
    "note": ("已记录进展", "progress noted"),
    "resolve": ("已办结", "resolved"),
    "return": ("已提交退单申请", "return requested"),
    "extend": ("已提交延期申请", "extension requested"),
    "supervision": ("已签收督办件", "supervision order acknowledged"),
    "object": ("已提交派单异议，待热线审核", "objection filed for the hotline's review"),
}


def _unit(user: WebUser) -> str:
    if not user.unit_code:
        raise HTTPException(403)
    return user.unit_code


def _inbox(
    request: Request,
    hot: DeskParts,
    user: WebUser,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    flash: str = "",
    status_code: int = 200,
) -> Response:
    unit = _unit(user)
    now = hot.clock.now()
    with hot.session_factory() as session:
        rows = unit_inbox(session, unit)
        sups = open_supervisions(session, unit)
        score = unit_scores(session, now - timedelta(days=30), None, unit_code=unit)[0]  # up to this moment
        name = unit_name(session, unit)
        cards = inbox_cards(session, unit)
    ctx: dict[str, Any] = {
        "orders": rows,
        "cards": cards,
        "supervisions": sups,
        "score": score,
        "unit_name": name,
        "errors": errors or {},
        "values": values or {},
        "flash": flash,
    }
    return render(request, "dept_inbox.html", ctx, status_code=status_code)


@router.get("/dept/inbox")
def inbox(request: Request, user: DeptUser, hot: Hot, lang: Lang, done: str = "", n: str = "") -> Response:
    flash = ""
    if done in DONE_MESSAGES and n:
        zh, en = DONE_MESSAGES[done]
        flash = f"{n} {en}" if lang == "en" else f"{n} {zh}"
    return _inbox(request, hot, user, flash=flash)


def _act(
    request: Request,
    hot: DeskParts,
    user: WebUser,
    lang: Lang,
    number: str,
    action: str,
    errors: dict[str, str],
    values: dict[str, str],
    step: Any,
) -> Response:
    unit = _unit(user)
    try:
        order = hot.work_orders.get(number)
    except NotFound as exc:
        raise HTTPException(404) from exc
    if not may_see_order(user.role.value, unit, order):  # routing.access: the API's rule too
        raise HTTPException(404)
    if errors:
        keyed = {f"{number}:{k}": v for k, v in errors.items()}
        return _inbox(
            request, hot, user, keyed, {f"{number}:{k}": v for k, v in values.items()}, status_code=422
        )
    try:
        step(unit)
    except DomainError as exc:
        return _inbox(
            request,
            hot,
            user,
            {f"{number}:{action}": domain_message(exc, lang)},
            {f"{number}:{k}": v for k, v in values.items()},
            status_code=422,
        )
    return RedirectResponse(f"/dept/inbox?done={action}&n={number}", status_code=303)


@router.post("/dept/orders/{number}/acknowledge", dependencies=[CsrfChecked])
def acknowledge(request: Request, number: str, user: DeptUser, hot: Hot, lang: Lang) -> Response:
    return _act(
        request,
        hot,
        user,
        lang,
        number,
        "ack",
        {},
        {},
        lambda unit: hot.work_orders.handle(Acknowledge(number, unit), actor_of(user)),
    )


@router.post("/dept/orders/{number}/start", dependencies=[CsrfChecked])
def start(request: Request, number: str, user: DeptUser, hot: Hot, lang: Lang) -> Response:
    return _act(
        request,
        hot,
        user,
        lang,
        number,
        "start",
        {},
        {},
        lambda unit: hot.work_orders.handle(StartWork(number, unit), actor_of(user)),
    )


@router.post("/dept/orders/{number}/note", dependencies=[CsrfChecked])
def progress_note(
    request: Request, number: str, user: DeptUser, hot: Hot, lang: Lang, note: Annotated[str, Form()] = ""
) -> Response:
    errors: dict[str, str] = {}
    text = text_required(note, "note", lang, errors)
    return _act(
        request,
        hot,
        user,
        lang,
        number,
        "note",
        errors,
        {"note": note},
        lambda unit: hot.work_orders.handle(AddProgressNote(number, unit, text), actor_of(user)),
    )


@router.post("/dept/orders/{number}/resolve", dependencies=[CsrfChecked])
def resolve(
    request: Request, number: str, user: DeptUser, hot: Hot, lang: Lang, reply: Annotated[str, Form()] = ""
) -> Response:
    errors: dict[str, str] = {}
    text = text_required(reply, "reply", lang, errors)
    return _act(
        request,
        hot,
        user,
        lang,
        number,
        "resolve",
        errors,
        {"reply": reply},
        lambda unit: hot.work_orders.handle(Resolve(number, unit, text), actor_of(user)),
    )


@router.post("/dept/orders/{number}/return", dependencies=[CsrfChecked])
def request_return(
    request: Request, number: str, user: DeptUser, hot: Hot, lang: Lang, reason: Annotated[str, Form()] = ""
) -> Response:
    errors: dict[str, str] = {}
    text = text_required(reason, "reason", lang, errors)
    return _act(
        request,
        hot,
        user,
        lang,
        number,
        "return",
        errors,
        {"reason": reason},
        lambda unit: hot.work_orders.handle(RequestReturn(number, unit, text), actor_of(user)),
    )


@router.post("/dept/orders/{number}/extension", dependencies=[CsrfChecked])
def request_extension(
    request: Request,
    number: str,
    user: DeptUser,
    hot: Hot,
    lang: Lang,
    days: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    errors: dict[str, str] = {}
    count = parse_int(days, "days", lang, errors, 1, 30)
    text = text_required(reason, "ext_reason", lang, errors)
    return _act(
        request,
        hot,
        user,
        lang,
        number,
        "extend",
        errors,
        {"days": days, "ext_reason": reason},
        lambda unit: hot.work_orders.handle(RequestExtension(number, unit, count or 0, text), actor_of(user)),
    )


@router.post("/dept/orders/{number}/supervision/{supervision}/acknowledge", dependencies=[CsrfChecked])
def acknowledge_supervision(
    request: Request, number: str, supervision: str, user: DeptUser, hot: Hot, lang: Lang
) -> Response:
    return _act(
        request,
        hot,
        user,
        lang,
        number,
        "supervision",
        {},
        {},
        lambda unit: hot.work_orders.handle(
            AcknowledgeSupervision(number, supervision, unit), actor_of(user)
        ),
    )


@router.post("/dept/orders/{number}/objection", dependencies=[CsrfChecked])
def object_to_dispatch(
    request: Request,
    number: str,
    user: DeptUser,
    hot: Hot,
    lang: Lang,
    reason: Annotated[str, Form()] = "",
    proposed_unit: Annotated[str, Form()] = "",
) -> Response:
    """派单异议 of an assisting unit (the lead returns the order instead), within the objection window."""
    errors: dict[str, str] = {}
    text = text_required(reason, "obj_reason", lang, errors)
    proposed = proposed_unit.strip()[:64] or None
    return _act(
        request,
        hot,
        user,
        lang,
        number,
        "object",
        errors,
        {"obj_reason": reason, "proposed_unit": proposed_unit},
        lambda unit: hot.work_orders.handle(ObjectToDispatch(number, unit, text, proposed), actor_of(user)),
    )
