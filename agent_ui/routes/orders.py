"""One order with its full audit history. Department accounts see only orders their unit held, with the
citizen's number masked unless they reveal it (audited); other roles see it in full, each view audited.

A confidential caller (GB/T 33358-2016: the caller asked that the units not learn who they are) is never
shown to a department account, not even on request; the hotline's staff see the name and number, and each
such view is audited as ``view_confidential``."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from agent_ui.deps import CsrfChecked, CurrentUser, Hot, NotAllowed, Users, WebUser
from agent_ui.parts import DeskParts
from agent_ui.queries import unit_name
from agent_ui.rendering import render
from agent_ui.roles import FULL_PHONE_ROLES
from routing.access import may_see_order
from routing.domain.errors import NotFound
from routing.domain.model import WorkOrder

router = APIRouter()


def _load(hot: DeskParts, user: WebUser, number: str) -> WorkOrder:
    """The order, when this user may see it (routing.access, the rule the API applies too)."""
    try:
        order = hot.work_orders.get(number)
    except NotFound as exc:
        raise HTTPException(404) from exc
    if not may_see_order(user.role.value, user.unit_code, order):
        raise HTTPException(404)
    return order


def _page(
    request: Request, hot: DeskParts, users: Users, user: WebUser, number: str, reveal: bool
) -> Response:
    order = _load(hot, user, number)
    hide_contact = order.confidential and user.is_unit_role
    if reveal and hide_contact:
        raise NotAllowed
    show_phone = not hide_contact and (reveal or user.role in FULL_PHONE_ROLES)
    if show_phone:
        client = request.client.host if request.client else ""
        users.audit(
            user.username,
            user.role.value,
            "view_confidential" if order.confidential else "view_phone",
            number,
            "revealed" if reveal else "order page",
            client,
        )
    with hot.session_factory() as session:
        lead = unit_name(session, order.lead_unit)
    return render(
        request,
        "order.html",
        {
            "order": order,
            "show_phone": show_phone,
            "lead_name": lead,
            "can_reveal": user.is_unit_role and not reveal and not hide_contact,
            "hide_contact": hide_contact,
        },
    )


@router.get("/orders/{number}")
def order_page(request: Request, number: str, user: CurrentUser, hot: Hot, users: Users) -> Response:
    return _page(request, hot, users, user, number, reveal=False)


@router.post("/orders/{number}/reveal-phone", dependencies=[CsrfChecked])
def reveal_phone(request: Request, number: str, user: CurrentUser, hot: Hot, users: Users) -> Response:
    """A department that must call the citizen back reveals the number; the view is audited."""
    return _page(request, hot, users, user, number, reveal=True)
