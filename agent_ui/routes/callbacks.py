"""Satisfaction callbacks (回访) by QA staff and agents: resolved orders due for one, manual result entry
(closes or reopens the order through routing's WorkOrderService, which audits it), and the automated
campaign's attempts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from agent_ui import recording_views as rv
from agent_ui.deps import CallbackUser, CsrfChecked, Hot, Lang
from agent_ui.forms import domain_message, validation_errors
from agent_ui.parts import DeskParts
from agent_ui.queries import orders_in_state, recent_callbacks
from agent_ui.rendering import render
from agent_ui.routes.desk import actor_of
from routing.commands import CallbackCommand
from routing.domain.enums import CallbackOutcome, OrderState
from routing.domain.errors import DomainError
from routing.lifecycle import RecordCallback

router = APIRouter()


# ---- callbacks -----------------------------------------------------------------------------------------


# What a QA reviewer reads of an automated or manual callback attempt (routing/callback_orm.py).
ATTEMPT_COLUMNS = (
    "order_number",
    "attempt",
    "mode",
    "by",
    "call_status",
    "solved",
    "rating",
    "outcome",
    "started_at",
)


def _campaign_attempts(hot: DeskParts, limit: int = 30) -> tuple[list[str], list[dict[str, Any]]]:
    """The callback campaign's latest attempts (routing.callback_campaign), newest first."""
    from routing.callback_orm import CallbackAttempt

    with hot.session_factory() as session:
        if not rv.table_exists(session, CallbackAttempt.__tablename__):
            return [], []
        rows = session.scalars(select(CallbackAttempt).order_by(CallbackAttempt.id.desc()).limit(limit))
        return list(ATTEMPT_COLUMNS), [{c: getattr(r, c) for c in ATTEMPT_COLUMNS} for r in rows]


def _callbacks(
    request: Request,
    hot: DeskParts,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    flash: str = "",
    status_code: int = 200,
) -> Response:
    columns, attempts = _campaign_attempts(hot)
    with hot.session_factory() as session:
        ctx: dict[str, Any] = {
            "due": orders_in_state(session, [OrderState.RESOLVED.value]),
            "done": recent_callbacks(session, 20),
            "automated": recent_callbacks(session, 20, automated_only=True),
            "attempt_columns": columns,
            "attempts": attempts,
            "outcomes": [o.value for o in CallbackOutcome],
            "errors": errors or {},
            "values": values or {},
            "flash": flash,
        }
    return render(request, "qa_callbacks.html", ctx, status_code=status_code)


@router.get("/qa/callbacks")
def callbacks(request: Request, user: CallbackUser, hot: Hot, lang: Lang, done: str = "") -> Response:
    flash = ""
    if done:
        state = hot.work_orders.get(done).state.value if _exists(hot, done) else ""
        after = {
            "closed": ("，工单已归档", "; the order is closed"),
            "dispatched": ("，工单已重办", "; reopened"),
        }
        zh, en = after.get(state, ("", ""))
        flash = f"{done}: callback recorded{en}" if lang == "en" else f"{done}：回访结果已登记{zh}"
    return _callbacks(request, hot, flash=flash)


def _exists(hot: DeskParts, number: str) -> bool:
    try:
        hot.work_orders.get(number)
    except DomainError:
        return False
    return True


@router.post("/qa/callbacks/{number}", dependencies=[CsrfChecked])
def record_callback(
    request: Request,
    number: str,
    user: CallbackUser,
    hot: Hot,
    lang: Lang,
    outcome: Annotated[str, Form()] = "",
    solved: Annotated[str, Form()] = "",
    rating: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    values = {"outcome": outcome, "solved": solved, "rating": rating, "note": note}
    keyed_values = {f"{number}:{k}": v for k, v in values.items()}
    errors: dict[str, str] = {}
    if not outcome:
        errors["outcome"] = "Choose the result" if lang == "en" else "请选择回访结果"
    if solved not in ("", "yes", "no"):
        errors["solved"] = "Choose yes or no" if lang == "en" else "请选择是或否"
    if rating and not rating.strip().isdigit():
        errors["rating"] = "Enter 1 to 5" if lang == "en" else "请填写 1 至 5 的评分"
    if len(note) > 2000:
        errors["note"] = "Too long (2000 characters at most)" if lang == "en" else "内容过长（最多 2000 字）"
    cmd = None
    if not errors:
        try:
            cmd = CallbackCommand(
                outcome=outcome,
                solved={"yes": True, "no": False}.get(solved),
                rating=int(rating) if rating.strip() else None,
                note=note.strip(),
            )
        except ValidationError as exc:
            errors = validation_errors(exc, lang)
    if cmd is None or errors:
        return _callbacks(
            request, hot, {f"{number}:{k}": v for k, v in errors.items()}, keyed_values, status_code=422
        )
    try:
        hot.work_orders.handle(RecordCallback(number, cmd), actor_of(user))
    except DomainError as exc:
        return _callbacks(
            request, hot, {f"{number}:form": domain_message(exc, lang)}, keyed_values, status_code=422
        )
    return RedirectResponse(f"/qa/callbacks?done={number}", status_code=303)
