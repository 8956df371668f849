"""The hotline's side of the dispatch rules: ruling on an assisting unit's objection (派单异议), and negotiating
the lead and co-handlers of a case whose responsible unit is unclear (协商确定主办、协办)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from agent_ui.deps import CsrfChecked, Hot, Lang, SupervisorUser
from agent_ui.forms import domain_message, text_required
from agent_ui.queries import units
from agent_ui.rendering import render
from agent_ui.routes.desk import actor_of
from agent_ui.routes.supervisor import rulings_page
from agent_ui.rules_queries import orders_to_negotiate
from routing.domain.enums import AssignmentRole
from routing.domain.errors import DomainError
from routing.domain.model import Target
from routing.lifecycle import Negotiate, RuleOnObjection

router = APIRouter()


@router.post("/supervisor/orders/{number}/rule-objection", dependencies=[CsrfChecked])
def rule_objection(
    request: Request,
    number: str,
    user: SupervisorUser,
    hot: Hot,
    lang: Lang,
    unit_code: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
    replacement: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    key = f"{number}:{unit_code}"
    errors: dict[str, str] = {}
    if decision not in ("approve", "reject"):
        errors[f"{key}:decision"] = "Choose approve or reject" if lang == "en" else "请选择同意或驳回"
    text = text_required(note, f"{key}:note", lang, errors)
    values = {f"{key}:decision": decision, f"{key}:replacement": replacement, f"{key}:note": note}
    if not errors:
        try:
            hot.work_orders.handle(
                RuleOnObjection(number, unit_code, decision == "approve", text, replacement or None),
                actor_of(user),
            )
        except DomainError as exc:
            errors[f"{key}:objection"] = domain_message(exc, lang)
    if errors:
        return rulings_page(request, hot, errors, values, status_code=422)
    return RedirectResponse(f"/supervisor/rulings?done=objection&n={number}", status_code=303)


def _negotiations(
    request: Request,
    hot: Hot,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    flash: str = "",
    status_code: int = 200,
) -> Response:
    with hot.session_factory() as session:
        ctx = {
            "orders": orders_to_negotiate(session, limit=30),
            "units": units(session),
            "errors": errors or {},
            "values": values or {},
            "flash": flash,
        }
    return render(request, "negotiations.html", ctx, status_code=status_code)


@router.get("/supervisor/negotiations")
def negotiations(request: Request, user: SupervisorUser, hot: Hot, lang: Lang, n: str = "") -> Response:
    flash = ""
    if n:
        flash = f"{n}: negotiated and dispatched" if lang == "en" else f"{n}：已协商派单"
    return _negotiations(request, hot, flash=flash)


@router.post("/supervisor/orders/{number}/negotiate", dependencies=[CsrfChecked])
def negotiate(
    request: Request,
    number: str,
    user: SupervisorUser,
    hot: Hot,
    lang: Lang,
    participants: Annotated[list[str] | None, Form()] = None,
    lead_unit: Annotated[str, Form()] = "",
    assist_units: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str, Form()] = "",
) -> Response:
    """The units consulted, the agreed lead and co-handlers, and what was agreed: recorded, then dispatched."""
    consulted = [p for p in participants or [] if p]
    assists = [a for a in assist_units or [] if a and a != lead_unit]
    errors: dict[str, str] = {}
    if len(set(consulted)) < 2:
        errors[f"{number}:participants"] = (
            "Choose at least two units that took part" if lang == "en" else "请选择至少两个参与协商的单位"
        )
    if not lead_unit:
        errors[f"{number}:lead_unit"] = "Choose the lead unit" if lang == "en" else "请选择主办单位"
    text = text_required(note, f"{number}:note", lang, errors)
    values: dict[str, Any] = {
        f"{number}:participants": consulted,
        f"{number}:lead_unit": lead_unit,
        f"{number}:assist_units": assists,
        f"{number}:note": note,
    }
    if not errors:
        targets = [Target(lead_unit), *(Target(a, AssignmentRole.ASSIST) for a in assists)]
        try:
            hot.work_orders.handle(Negotiate(number, consulted, targets, text), actor_of(user))
        except DomainError as exc:
            errors[f"{number}:negotiate"] = domain_message(exc, lang)
    if errors:
        return _negotiations(request, hot, errors, values, status_code=422)
    return RedirectResponse(f"/supervisor/negotiations?n={number}", status_code=303)
