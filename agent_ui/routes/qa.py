"""QA staff: satisfaction callbacks (resolved orders due for one, result entry, automated results) and
the scorecards of call reviews (which need the recordings component)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from agent_ui.deps import CsrfChecked, Hot, Lang, QaUser
from agent_ui.forms import domain_message, validation_errors
from agent_ui.ports import recordings_catalog
from agent_ui.queries import orders_in_state, recent_callbacks
from agent_ui.rendering import render
from agent_ui.routes.desk import actor_of
from hotline.bootstrap import App
from routing.commands import CallbackCommand
from routing.domain.enums import CallbackOutcome, OrderState
from routing.domain.errors import DomainError

router = APIRouter()


def _callbacks(
    request: Request,
    hot: App,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    flash: str = "",
    status_code: int = 200,
) -> Response:
    with hot.session_factory() as session:
        ctx: dict[str, Any] = {
            "due": orders_in_state(session, [OrderState.RESOLVED.value]),
            "done": recent_callbacks(session, 20),
            "automated": recent_callbacks(session, 20, automated_only=True),
            "outcomes": [o.value for o in CallbackOutcome],
            "errors": errors or {},
            "values": values or {},
            "flash": flash,
        }
    return render(request, "qa_callbacks.html", ctx, status_code=status_code)


@router.get("/qa/callbacks")
def callbacks(request: Request, user: QaUser, hot: Hot, lang: Lang, done: str = "") -> Response:
    flash = ""
    if done:
        flash = f"{done}: callback recorded" if lang == "en" else f"{done}：回访结果已登记"
    return _callbacks(request, hot, flash=flash)


@router.post("/qa/callbacks/{number}", dependencies=[CsrfChecked])
def record_callback(
    request: Request,
    number: str,
    user: QaUser,
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
        hot.work_orders.record_callback(number, actor_of(user), cmd)
    except DomainError as exc:
        return _callbacks(
            request, hot, {f"{number}:form": domain_message(exc, lang)}, keyed_values, status_code=422
        )
    return RedirectResponse(f"/qa/callbacks?done={number}", status_code=303)


@router.get("/qa/scorecards")
def scorecards(request: Request, user: QaUser, hot: Hot) -> Response:
    return render(request, "qa_scorecards.html", {"connected": recordings_catalog(hot) is not None})
