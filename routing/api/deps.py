"""What every API route depends on: the application, a database session, the calling API key and its role.

Callers authenticate with an API key (``X-API-Key``); each key carries a role, and a department key its
unit, exactly like a person in the web desk. Domain errors map to HTTP here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from routing.access import ContactAudit, acting_unit, may_see_order, sees_full_phone
from routing.api.shapes import audit_json, contact_hidden, order_json
from routing.apikeys import ApiClient, authenticate, cached_client
from routing.domain.errors import Conflict, DomainError, Forbidden, IllegalTransition, InvalidInput, NotFound
from routing.domain.model import Actor, WorkOrder
from routing.parts import RoutingParts

STATUS_OF = {InvalidInput: 422, IllegalTransition: 409, Conflict: 409, NotFound: 404, Forbidden: 403}


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


# ---- dependencies ------------------------------------------------------------------------------------
# The dependencies every route takes are coroutines: FastAPI runs a plain function dependency on a worker
# thread, and three thread hand-offs per request cost more than the intake's database work (measured:
# docs/benchmarks.md). None of them blocks, except a key lookup missed by the 30 s cache (on a thread).
async def get_hot(request: Request) -> RoutingParts:
    hot: RoutingParts = request.app.state.routing
    return hot


HotDep = Annotated[RoutingParts, Depends(get_hot)]


def get_session(hot: HotDep) -> Any:
    with hot.session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def current_client(hot: HotDep, x_api_key: Annotated[str | None, Header()] = None) -> ApiClient:
    if not x_api_key:
        raise HTTPException(
            401,
            {
                "error": "unauthenticated",
                "message": "缺少 API 密钥（X-API-Key）",
                "message_en": "missing X-API-Key",
            },
        )
    client = cached_client(x_api_key) or await run_in_threadpool(authenticate, hot.session_factory, x_api_key)
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
    """The unit an action is for: a unit's key acts for its own unit only (routing.access)."""
    return acting_unit(client.role, client.unit_code, unit_code)


def not_found(number: str) -> NotFound:
    return NotFound(f"工单 {number} 不存在", f"work order {number} does not exist")


def visible(order: WorkOrder, client: ApiClient) -> WorkOrder:
    """The order, when this key may see it; another unit's order is answered as not existing."""
    if not may_see_order(client.role, client.unit_code, order):
        raise not_found(order.number)
    return order


# ---- who reads, and the audit of every full phone number shown ---------------------------------------
def use_contact_audit(web: FastAPI, audit: ContactAudit) -> None:
    """The roof hands the API the desk's access audit; without one, no key sees a full phone number."""
    web.state.routing_contact_audit = audit


class Reader:
    """Shapes orders for the calling key. A full phone number is shown only to roles that need it (and to
    integrations granted it), and only when the view can be audited: one access-audit row per order."""

    def __init__(self, client: ApiClient, audit: ContactAudit | None, host: str) -> None:
        self.client = client
        self.audit = audit
        self.host = host

    @property
    def full_phone(self) -> bool:
        return self.audit is not None and sees_full_phone(self.client.role, granted=self.client.phone_access)

    def saw(self, numbers: Sequence[str], how: str) -> None:
        if self.audit is not None and self.full_phone and numbers:
            self.audit(f"api:{self.client.name}", self.client.role, numbers, how, self.host)

    def order(self, order: WorkOrder, how: str = "api") -> dict[str, Any]:
        self.saw([order.number], how)
        hidden = contact_hidden(order, self.client.role)
        return order_json(order, show_phone=self.full_phone, hide_contact=hidden)

    def orders(self, orders: Sequence[WorkOrder], how: str) -> list[dict[str, Any]]:
        self.saw([o.number for o in orders], how)
        return [
            order_json(
                o, show_phone=self.full_phone, full=False, hide_contact=contact_hidden(o, self.client.role)
            )
            for o in orders
        ]

    def events(self, order: WorkOrder) -> list[dict[str, Any]]:
        if any("citizen_phone" in e.before or "citizen_phone" in e.after for e in order.history):
            self.saw([order.number], "api events")
        hidden = contact_hidden(order, self.client.role)
        return audit_json(order, show_phone=self.full_phone, hide_contact=hidden)


async def current_reader(request: Request, client: ClientDep) -> Reader:
    audit = getattr(request.app.state, "routing_contact_audit", None)
    return Reader(client, audit, request.client.host if request.client else "")


ReaderDep = Annotated[Reader, Depends(current_reader)]
