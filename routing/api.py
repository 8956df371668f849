"""REST API for work orders, departments, categories, events and scores (thin: command → service → JSON).

Callers authenticate with an API key (``X-API-Key``); each key carries a role, and a department key its
unit, exactly like a person in the web desk. Domain errors map to HTTP here and nowhere else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hotline.bootstrap import App
from routing.apikeys import ApiClient, authenticate
from routing.commands import MAX_TEXT, CallbackCommand, IntakeCommand, TargetIn, mask_phone
from routing.domain.enums import RequestKind
from routing.domain.errors import Conflict, DomainError, Forbidden, IllegalTransition, InvalidInput, NotFound
from routing.domain.model import Actor, Target, WorkOrder
from routing.orm import Category, Unit, order_alarms, work_orders
from routing.scores import unit_scores

MAX_BODY_BYTES = 64 * 1024
STATUS_OF = {InvalidInput: 422, IllegalTransition: 409, Conflict: 409, NotFound: 404, Forbidden: 403}
CONTACT_ROLES = {"agent", "supervisor", "admin", "integration", "qa"}


def domain_error_response(exc: DomainError) -> JSONResponse:
    status = next((code for cls, code in STATUS_OF.items() if isinstance(exc, cls)), 400)
    return JSONResponse(
        status_code=status,
        content={
            "error": exc.code,
            "message": exc.message_zh,
            "message_en": exc.message_en,
            "details": {k: v for k, v in exc.details.items() if isinstance(v, str | int | list)},
        },
    )


class BodyLimit:
    """Refuse oversized API bodies before parsing them (a description is at most 5000 characters).
    Plain ASGI: a BaseHTTPMiddleware would cost every request an extra task and stream copy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(("/api/", "/open311/")):
            length = dict(scope["headers"]).get(b"content-length", b"")
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                response = JSONResponse(
                    status_code=413,
                    content={
                        "error": "too_large",
                        "message": f"请求过大（上限 {MAX_BODY_BYTES // 1024} KB）",
                        "message_en": f"request body over {MAX_BODY_BYTES // 1024} KB",
                    },
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# ---- dependencies ------------------------------------------------------------------------------------
def get_hot(request: Request) -> App:
    hot: App = request.app.state.hot
    return hot


HotDep = Annotated[App, Depends(get_hot)]


def get_session(hot: HotDep) -> Any:
    with hot.session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def current_client(hot: HotDep, x_api_key: Annotated[str | None, Header()] = None) -> ApiClient:
    if not x_api_key:
        raise HTTPException(
            401,
            {
                "error": "unauthenticated",
                "message": "缺少 API 密钥（X-API-Key）",
                "message_en": "missing X-API-Key",
            },
        )
    client = authenticate(hot.session_factory, x_api_key)
    if client is None:
        raise HTTPException(
            401, {"error": "unauthenticated", "message": "API 密钥无效", "message_en": "invalid API key"}
        )
    return client


ClientDep = Annotated[ApiClient, Depends(current_client)]


def require(client: ApiClient, *roles: str) -> Actor:
    if client.role not in roles:
        raise Forbidden(f"角色 {client.role} 无权执行此操作", f"role {client.role} may not do this")
    return Actor(f"api:{client.name}", client.role, client.unit_code)


def unit_of(client: ApiClient, unit_code: str | None) -> str:
    """A department key acts for its own unit only; supervisors may name any unit."""
    if client.role == "department":
        if unit_code and unit_code != client.unit_code:
            raise Forbidden("部门只能处理本单位的工单", "a department acts for its own unit only")
        return client.unit_code or ""
    if not unit_code:
        raise InvalidInput("须指定单位 unit_code", "unit_code is required")
    return unit_code


# ---- response shapes ---------------------------------------------------------------------------------
def order_json(order: WorkOrder, client: ApiClient, *, full: bool = True) -> dict[str, Any]:
    phone = order.citizen_phone if client.role in CONTACT_ROLES else mask_phone(order.citizen_phone)
    data: dict[str, Any] = {
        "number": order.number,
        "state": order.state.value,
        "case_type": order.case_type.value,
        "channel": order.channel.value,
        "urgency": order.urgency.value,
        "urgent_class": order.urgent_class,
        "category_id": order.category_id,
        "category": order.category_path,
        "title": order.title,
        "description": order.description,
        "citizen_name": order.citizen_name,
        "citizen_phone": phone,
        "location": order.location_text,
        "district": order.district,
        "accepted_at": order.accepted_at,
        "response_due_at": order.response_due_at,
        "resolution_due_at": order.resolution_due_at,
        "responded_at": order.responded_at,
        "resolved_at": order.resolved_at,
        "closed_at": order.closed_at,
        "reply": order.reply,
        "redo_count": order.redo_count,
        "escalation_level": order.escalation_level,
        "lead_unit": order.lead_unit,
        "call_ids": order.call_ids,
        "units": [
            {"unit_code": a.unit_code, "role": a.role.value, "acknowledged_at": a.acknowledged_at}
            for a in order.active_assignments
        ],
    }
    if full:
        data["deadlines"] = [
            {
                "kind": d.kind.value,
                "unit_code": d.unit_code,
                "due_at": d.due_at,
                "fired_at": d.fired_at,
                "cancelled_at": d.cancelled_at,
                "level": d.level,
            }
            for d in order.deadlines
        ]
        data["alarms"] = [
            {
                "kind": a.kind.value,
                "level": a.level,
                "unit_code": a.unit_code,
                "to": a.addressed_to,
                "raised_at": a.raised_at,
                "message": a.message_zh,
                "cleared_at": a.cleared_at,
            }
            for a in order.alarms
        ]
        data["requests"] = [
            {
                "id": r.id,
                "kind": r.kind.value,
                "unit_code": r.unit_code,
                "reason": r.reason,
                "status": r.status.value,
                "extend_days": r.extend_days,
                "requested_at": r.requested_at,
                "decided_at": r.decided_at,
            }
            for r in order.requests
        ]
        data["supervisions"] = [
            {
                "number": s.number,
                "unit_code": s.unit_code,
                "state": s.state.value,
                "issued_at": s.issued_at,
                "reason": s.reason,
            }
            for s in order.supervisions
        ]
        data["callbacks"] = [
            {
                "at": c.at,
                "by": c.by,
                "outcome": c.outcome.value,
                "solved": c.solved,
                "rating": c.rating,
                "note": c.note,
            }
            for c in order.callbacks
        ]
    return data


def audit_json(order: WorkOrder, client: ApiClient) -> list[dict[str, Any]]:
    hide = client.role not in CONTACT_ROLES
    out = []
    for e in order.history:
        before, after = dict(e.before), dict(e.after)
        if hide:
            for d in (before, after):
                if "citizen_phone" in d and isinstance(d["citizen_phone"], str):
                    d["citizen_phone"] = mask_phone(d["citizen_phone"])
        out.append(
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "role": e.actor_role,
                "action": e.action,
                "before": before,
                "after": after,
                "note": e.note,
            }
        )
    return out


# ---- request bodies ----------------------------------------------------------------------------------
class UnitAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_code: str | None = None
    note: str = Field(default="", max_length=MAX_TEXT)


class ResolveBody(UnitAction):
    reply: str = Field(min_length=1, max_length=MAX_TEXT)


class ReasonBody(UnitAction):
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


class ExtensionBody(ReasonBody):
    days: int = Field(ge=1, le=30)


class AppealBody(ReasonBody):
    target: str = Field(pattern="^(callback|response_breach)$")


class DispatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    targets: list[TargetIn] | None = None


class RulingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool
    note: str = Field(default="", max_length=MAX_TEXT)
    targets: list[TargetIn] | None = None


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool
    note: str = Field(default="", max_length=MAX_TEXT)


class RoutingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category_id: int | None = None
    district: str | None = None
    description: str = Field(min_length=1, max_length=MAX_TEXT)
    location_text: str = Field(default="", max_length=500)


def _targets(items: list[TargetIn] | None) -> list[Target] | None:
    return None if items is None else [Target(t.unit_code, t.role) for t in items]


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
    return order_json(hot.work_orders.dispatch(number, actor, _targets(body.targets)), client)


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
        hot.work_orders.rule_on_return(number, actor, body.approve, body.note, _targets(body.targets)), client
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


@router.post("/routing/suggest")
def suggest_routing(body: RoutingQuery, hot: HotDep, client: ClientDep) -> dict[str, Any]:
    require(client, *STAFF)
    routing = hot.work_orders.suggest_routing(
        body.category_id, body.district, body.description, body.location_text
    )
    return {
        "targets": [{"unit_code": t.unit_code, "role": t.role.value} for t in routing.targets],
        "reasons": routing.reasons,
        "urgent_class": routing.urgent_class,
        "district": routing.district,
    }


@router.get("/departments")
def departments(
    session: SessionDep, client: ClientDep, kind: str | None = None, district: str | None = None
) -> list[dict[str, Any]]:
    stmt = select(Unit).where(Unit.active.is_(True)).order_by(Unit.code)
    if kind:
        stmt = stmt.where(Unit.kind == kind)
    if district:
        stmt = stmt.where(Unit.district == district)
    return [
        {
            "code": u.code,
            "name": u.name,
            "name_en": u.name_en,
            "kind": u.kind,
            "parent": u.parent_code,
            "district": u.district,
            "head_title": u.head_title,
            "duty_phone": u.duty_phone,
            "duties": [d.text for d in u.duties],
        }
        for u in session.scalars(stmt)
    ]


@router.get("/categories")
def categories(session: SessionDep, client: ClientDep, level1: str | None = None) -> list[dict[str, Any]]:
    stmt = select(Category).order_by(Category.id)
    if level1:
        stmt = stmt.where(Category.level1 == level1)
    return [
        {
            "id": c.id,
            "path": c.path,
            "level1": c.level1,
            "level2": c.level2,
            "level3": c.level3,
            "case_type": c.case_type,
            "urgent": c.urgent,
            "lead_unit": c.lead_unit,
            "assist_units": c.assist_units,
            "district_lead": c.district_lead,
        }
        for c in session.scalars(stmt)
    ]


@router.get("/alarms")
def alarms(
    session: SessionDep,
    client: ClientDep,
    open_only: bool = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    stmt = (
        select(order_alarms, work_orders.c.number)
        .join(work_orders, work_orders.c.id == order_alarms.c.order_id)
        .order_by(order_alarms.c.raised_at.desc())
        .limit(limit)
    )
    if open_only:
        stmt = stmt.where(order_alarms.c.cleared_at.is_(None))
    if client.role == "department":
        stmt = stmt.where(order_alarms.c.unit_code == client.unit_code)
    return [
        {
            "order": r.number,
            "kind": r.kind,
            "level": r.level,
            "unit_code": r.unit_code,
            "to": r.addressed_to,
            "message": r.message_zh,
            "message_en": r.message_en,
            "raised_at": r.raised_at,
            "cleared_at": r.cleared_at,
        }
        for r in session.execute(stmt)
    ]


@router.get("/scores")
def scores(
    session: SessionDep, client: ClientDep, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    rows = unit_scores(session, since, until)
    if client.role == "department":
        rows = [r for r in rows if r.unit_code == client.unit_code]
    return [r.as_dict() for r in rows]


@router.get("/stats")
def stats(session: SessionDep, client: ClientDep) -> dict[str, Any]:
    rows = session.execute(select(work_orders.c.state, func.count()).group_by(work_orders.c.state))
    return {"by_state": {str(state): int(count) for state, count in rows}}


def install(web: FastAPI, hot: App) -> None:
    web.add_middleware(BodyLimit)

    from routing.open311 import open311_domain_error

    @web.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        return open311_domain_error(request, exc) or domain_error_response(exc)

    web.include_router(router)
