"""Work-order routes: intake, reading, and every lifecycle action (thin: command → service → JSON)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from routing.api.deps import ClientDep, HotDep, SessionDep, require, unit_of
from routing.api.shapes import (
    CONTACT_ROLES,
    AppealBody,
    DecisionBody,
    DispatchBody,
    ExtensionBody,
    ReasonBody,
    ResolveBody,
    RulingBody,
    UnitAction,
    audit_json,
    order_json,
    targets_of,
)
from routing.apikeys import ApiClient
from routing.commands import CallbackCommand, IntakeCommand
from routing.domain.enums import RequestKind
from routing.domain.errors import Forbidden, NotFound
from routing.domain.model import WorkOrder
from routing.orm import work_orders

# ---- routes ------------------------------------------------------------------------------------------
router = APIRouter(prefix="/api", tags=["work orders"])
STAFF = ("agent", "supervisor", "admin", "integration")


@router.post("/work-orders", status_code=201)
def create_order(cmd: IntakeCommand, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    """Intake from any channel; routed, dispatched and clocked in the same transaction."""
    actor = require(client, *STAFF)
    return order_json(hot.work_orders.intake(cmd, actor), client)


@router.get("/work-orders")
def list_orders(
    session: SessionDep,
    client: ClientDep,
    state: str | None = None,
    unit: str | None = None,
    phone: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    from routing.orm import order_assignments

    stmt = select(WorkOrder).order_by(work_orders.c.accepted_at.desc()).limit(limit).offset(offset)
    if client.role == "department":
        unit = client.unit_code
    if unit:
        stmt = stmt.where(
            work_orders.c.id.in_(
                select(order_assignments.c.order_id).where(
                    order_assignments.c.unit_code == unit, order_assignments.c.active.is_(True)
                )
            )
        )
    if state:
        stmt = stmt.where(work_orders.c.state == state)
    if phone:
        if client.role not in CONTACT_ROLES:
            raise Forbidden("无权按电话号码查询", "this role may not search by phone number")
        stmt = stmt.where(work_orders.c.citizen_phone == phone)
    orders = session.scalars(stmt).all()
    return {"items": [order_json(o, client, full=False) for o in orders], "limit": limit, "offset": offset}


def _visible(order: WorkOrder, client: ApiClient) -> WorkOrder:
    if client.role == "department" and client.unit_code not in {a.unit_code for a in order.assignments}:
        raise NotFound(f"工单 {order.number} 不存在", f"work order {order.number} does not exist")
    return order


@router.get("/work-orders/{number}")
def get_order(number: str, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    return order_json(_visible(hot.work_orders.get(number), client), client)


@router.get("/work-orders/{number}/events")
def order_events(number: str, hot: HotDep, client: ClientDep) -> list[dict[str, Any]]:
    """The audit trail: every change with who, when, before and after."""
    return audit_json(_visible(hot.work_orders.get(number), client), client)


@router.post("/work-orders/{number}/dispatch")
def dispatch(number: str, body: DispatchBody, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    actor = require(client, "agent", "supervisor", "admin")
    return order_json(hot.work_orders.dispatch(number, actor, targets_of(body.targets)), client)


@router.post("/work-orders/{number}/acknowledge")
def acknowledge(number: str, body: UnitAction, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    actor = require(client, "department", "supervisor", "admin")
    return order_json(hot.work_orders.acknowledge(number, actor, unit_of(client, body.unit_code)), client)


@router.post("/work-orders/{number}/start")
def start(number: str, body: UnitAction, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    actor = require(client, "department", "supervisor", "admin")
    return order_json(
        hot.work_orders.start_work(number, actor, unit_of(client, body.unit_code), body.note), client
    )


@router.post("/work-orders/{number}/notes")
def progress_note(number: str, body: ReasonBody, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    actor = require(client, "department", "supervisor", "admin")
    return order_json(
        hot.work_orders.add_progress_note(number, actor, unit_of(client, body.unit_code), body.reason), client
    )


@router.post("/work-orders/{number}/resolve")
def resolve(number: str, body: ResolveBody, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    actor = require(client, "department", "supervisor", "admin")
    return order_json(
        hot.work_orders.resolve(number, actor, unit_of(client, body.unit_code), body.reply), client
    )


@router.post("/work-orders/{number}/return")
def return_order(number: str, body: ReasonBody, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    actor = require(client, "department")
    return order_json(
        hot.work_orders.request_return(number, actor, unit_of(client, body.unit_code), body.reason), client
    )


@router.post("/work-orders/{number}/return/ruling")
def rule_return(number: str, body: RulingBody, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    actor = require(client, "supervisor", "admin")
    return order_json(
        hot.work_orders.rule_on_return(number, actor, body.approve, body.note, targets_of(body.targets)),
        client,
    )


@router.post("/work-orders/{number}/extension")
def request_extension(number: str, body: ExtensionBody, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    actor = require(client, "department")
    return order_json(
        hot.work_orders.request_extension(
            number, actor, unit_of(client, body.unit_code), body.days, body.reason
        ),
        client,
    )


@router.post("/work-orders/{number}/appeal")
def request_appeal(number: str, body: AppealBody, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    actor = require(client, "department")
    return order_json(
        hot.work_orders.request_appeal(
            number, actor, unit_of(client, body.unit_code), body.target, body.reason
        ),
        client,
    )


@router.post("/work-orders/{number}/requests/{kind}/decision")
def decide(
    number: str, kind: RequestKind, body: DecisionBody, hot: HotDep, client: ClientDep
) -> dict[str, Any]:
    actor = require(client, "supervisor", "admin")
    return order_json(hot.work_orders.decide_request(number, actor, kind, body.approve, body.note), client)


@router.post("/work-orders/{number}/callback")
def callback(number: str, body: CallbackCommand, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    actor = require(client, "agent", "qa", "supervisor", "department_head", "admin")
    return order_json(hot.work_orders.record_callback(number, actor, body), client)


@router.post("/work-orders/{number}/reopen")
def reopen(number: str, body: ReasonBody, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    actor = require(client, "supervisor", "admin")
    return order_json(hot.work_orders.reopen(number, actor, body.reason), client)


@router.post("/work-orders/{number}/supervisions/{sup}/acknowledge")
def ack_supervision(
    number: str, sup: str, body: UnitAction, hot: HotDep, client: ClientDep
) -> dict[str, Any]:
    actor = require(client, "department", "department_head", "supervisor")
    return order_json(
        hot.work_orders.acknowledge_supervision(number, actor, sup, unit_of(client, body.unit_code)), client
    )
