"""Work-order routes: intake, reading, and every lifecycle action (thin: command → service → JSON).

Every route that names an order first checks that the key may see it (``routing.access``): a unit's key
gets 404 for another unit's order, reading or writing, exactly as the web desk answers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from kernel.text import INT32_MAX, Int32, SafeText
from routing.access import held_by, is_unit_role, listing_unit, may_record_callback
from routing.api.deps import (
    HotDep,
    ReaderDep,
    SessionDep,
    require,
    unit_of,
    visible,
)
from routing.api.shapes import (
    AppealBody,
    DecisionBody,
    DispatchBody,
    ExtensionBody,
    ReasonBody,
    ResolveBody,
    ReturnBody,
    RulingBody,
    UnitAction,
    UnitCode,
    targets_of,
)
from routing.apikeys import ApiClient
from routing.commands import CallbackCommand, IntakeCommand
from routing.domain.enums import OrderState, RequestKind
from routing.domain.errors import Forbidden, InvalidInput
from routing.domain.model import WorkOrder
from routing.lifecycle import (
    Acknowledge,
    AcknowledgeSupervision,
    AddProgressNote,
    DecideRequest,
    Dispatch,
    RecordCallback,
    Reopen,
    RequestAppeal,
    RequestExtension,
    RequestReturn,
    Resolve,
    RuleOnReturn,
    StartWork,
)
from routing.orm import work_orders
from routing.services import WorkOrderService

router = APIRouter(prefix="/api", tags=["work orders"])
STAFF = ("agent", "supervisor", "admin", "integration")


class OrderSearch(BaseModel):
    """A search by the citizen's phone travels in the body, so that the number stays out of URLs and
    access logs."""

    model_config = ConfigDict(extra="forbid")
    phone: Annotated[SafeText, Field(min_length=3, max_length=32)] | None = None
    state: OrderState | None = None
    unit: UnitCode | None = None
    limit: Annotated[Int32, Field(ge=1, le=500)] = 50
    offset: Annotated[Int32, Field(ge=0)] = 0


def _seen(service: WorkOrderService, client: ApiClient, number: str) -> WorkOrder:
    """The order, when this key may see it (404 otherwise), before any action on it."""
    return visible(service.get(number), client)


def _checked(service: WorkOrderService, client: ApiClient, number: str) -> None:
    if is_unit_role(client.role):
        _seen(service, client, number)


# ---- intake and reading --------------------------------------------------------------------------------
@router.post("/work-orders", status_code=201)
def create_order(cmd: IntakeCommand, hot: HotDep, reader: ReaderDep, response: Response) -> dict[str, Any]:
    """Intake from any channel; routed, dispatched and clocked in the same transaction. The same
    ``external_ref`` from the same key again returns the order it made (200), so a retry after a lost
    answer never files a case twice."""
    actor = require(reader.client, *STAFF)
    order, created = hot.work_orders.submit(cmd, actor)
    if not created:
        response.status_code = 200
    return reader.order(order, "api intake")


def _listing(session: SessionDep, reader: ReaderDep, search: OrderSearch) -> dict[str, Any]:
    client = reader.client
    stmt = (
        select(WorkOrder)
        .order_by(work_orders.c.accepted_at.desc(), work_orders.c.id.desc())
        .limit(search.limit)
        .offset(search.offset)
    )
    own = listing_unit(client.role, client.unit_code)
    if own is not None:
        if search.unit and search.unit != own:
            raise Forbidden("只能查询本单位的工单", "a unit lists its own orders only")
        stmt = stmt.where(held_by(own))
    elif search.unit:
        stmt = stmt.where(held_by(search.unit))
    if search.state:
        stmt = stmt.where(work_orders.c.state == search.state)
    if search.phone:
        if not reader.full_phone:
            raise Forbidden("无权按电话号码查询", "this key may not search by phone number")
        stmt = stmt.where(work_orders.c.citizen_phone == search.phone)
    orders = session.scalars(stmt).all()
    how = "api search by phone" if search.phone else "api list"
    return {"items": reader.orders(orders, how), "limit": search.limit, "offset": search.offset}


@router.get("/work-orders")
def list_orders(
    request: Request,
    session: SessionDep,
    reader: ReaderDep,
    state: OrderState | None = None,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
) -> dict[str, Any]:
    """Orders, newest first; a unit's key sees the orders its unit held. To find a citizen's orders by
    phone, POST /api/work-orders/search (a number in a URL ends up in access logs)."""
    if "phone" in request.query_params:
        raise InvalidInput(
            "电话号码不能放在网址中，请用 POST /api/work-orders/search",
            "phone numbers do not go in URLs: POST /api/work-orders/search",
        )
    return _listing(session, reader, OrderSearch(state=state, unit=unit or None, limit=limit, offset=offset))


@router.post("/work-orders/search")
def search_orders(body: OrderSearch, session: SessionDep, reader: ReaderDep) -> dict[str, Any]:
    return _listing(session, reader, body)


@router.get("/work-orders/{number}")
def get_order(number: str, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    return reader.order(_seen(hot.work_orders, reader.client, number), "api read")


@router.get("/work-orders/{number}/events")
def order_events(number: str, hot: HotDep, reader: ReaderDep) -> list[dict[str, Any]]:
    """The audit trail: every change with who, when, before and after."""
    return reader.events(_seen(hot.work_orders, reader.client, number))


# ---- lifecycle actions ---------------------------------------------------------------------------------
@router.post("/work-orders/{number}/dispatch")
def dispatch(number: str, body: DispatchBody, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    actor = require(reader.client, "agent", "supervisor", "admin")
    return reader.order(hot.work_orders.handle(Dispatch(number, targets_of(body.targets)), actor))


@router.post("/work-orders/{number}/acknowledge")
def acknowledge(number: str, body: UnitAction, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    client = reader.client
    actor = require(client, "department", "supervisor", "admin")
    unit = unit_of(client, body.unit_code)
    _checked(hot.work_orders, client, number)
    return reader.order(hot.work_orders.handle(Acknowledge(number, unit), actor))


@router.post("/work-orders/{number}/start")
def start(number: str, body: UnitAction, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    client = reader.client
    actor = require(client, "department", "supervisor", "admin")
    unit = unit_of(client, body.unit_code)
    _checked(hot.work_orders, client, number)
    return reader.order(hot.work_orders.handle(StartWork(number, unit, body.note), actor))


@router.post("/work-orders/{number}/notes")
def progress_note(number: str, body: ReasonBody, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    client = reader.client
    actor = require(client, "department", "supervisor", "admin")
    unit = unit_of(client, body.unit_code)
    _checked(hot.work_orders, client, number)
    return reader.order(hot.work_orders.handle(AddProgressNote(number, unit, body.reason), actor))


@router.post("/work-orders/{number}/resolve")
def resolve(number: str, body: ResolveBody, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    client = reader.client
    actor = require(client, "department", "supervisor", "admin")
    unit = unit_of(client, body.unit_code)
    _checked(hot.work_orders, client, number)
    return reader.order(hot.work_orders.handle(Resolve(number, unit, body.reply), actor))


@router.post("/work-orders/{number}/return")
def return_order(number: str, body: ReturnBody, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    """退单: the lead unit's objection to the dispatch, within the objection window; the hotline rules."""
    client = reader.client
    actor = require(client, "department")
    unit = unit_of(client, body.unit_code)
    _checked(hot.work_orders, client, number)
    return reader.order(
        hot.work_orders.handle(RequestReturn(number, unit, body.reason, body.proposed_unit), actor)
    )


@router.post("/work-orders/{number}/return/ruling")
def rule_return(number: str, body: RulingBody, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    actor = require(reader.client, "supervisor", "admin")
    return reader.order(
        hot.work_orders.handle(RuleOnReturn(number, body.approve, body.note, targets_of(body.targets)), actor)
    )


@router.post("/work-orders/{number}/extension")
def request_extension(number: str, body: ExtensionBody, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    client = reader.client
    actor = require(client, "department")
    unit = unit_of(client, body.unit_code)
    _checked(hot.work_orders, client, number)
    return reader.order(hot.work_orders.handle(RequestExtension(number, unit, body.days, body.reason), actor))


@router.post("/work-orders/{number}/appeal")
def request_appeal(number: str, body: AppealBody, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    client = reader.client
    actor = require(client, "department")
    unit = unit_of(client, body.unit_code)
    _checked(hot.work_orders, client, number)
    return reader.order(hot.work_orders.handle(RequestAppeal(number, unit, body.target, body.reason), actor))


@router.post("/work-orders/{number}/requests/{kind}/decision")
def decide(
    number: str, kind: RequestKind, body: DecisionBody, hot: HotDep, reader: ReaderDep
) -> dict[str, Any]:
    actor = require(reader.client, "supervisor", "admin")
    return reader.order(hot.work_orders.handle(DecideRequest(number, kind, body.approve, body.note), actor))


@router.post("/work-orders/{number}/callback")
def callback(number: str, body: CallbackCommand, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    """The satisfaction callback (回访): hotline staff, or the head of the order's lead unit."""
    client = reader.client
    actor = require(client, "agent", "qa", "supervisor", "department_head", "admin")
    order = _seen(hot.work_orders, client, number)
    if not may_record_callback(client.role, client.unit_code, order):
        raise Forbidden(
            "部门负责人只能回访本单位承办的工单",
            "a department head calls back only the orders of their own unit",
        )
    return reader.order(hot.work_orders.handle(RecordCallback(number, body), actor))


@router.post("/work-orders/{number}/reopen")
def reopen(number: str, body: ReasonBody, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    actor = require(reader.client, "supervisor", "admin")
    return reader.order(hot.work_orders.handle(Reopen(number, body.reason), actor))


@router.post("/work-orders/{number}/supervisions/{sup}/acknowledge")
def ack_supervision(
    number: str, sup: str, body: UnitAction, hot: HotDep, reader: ReaderDep
) -> dict[str, Any]:
    client = reader.client
    actor = require(client, "department", "department_head", "supervisor")
    unit = unit_of(client, body.unit_code)
    _checked(hot.work_orders, client, number)
    return reader.order(hot.work_orders.handle(AcknowledgeSupervision(number, sup, unit), actor))
