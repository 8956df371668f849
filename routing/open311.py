"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), in JSON and XML.

Mapping: each leaf of our taxonomy is a service (service_code = category id, group = first level);
our states map to Open311's two: every state before ``closed`` is ``open``. ``service_request_id`` is our
work-order number. POST needs an API key (an ``integration`` client); the citizen's phone is required
because a 12345 case must be reachable for its satisfaction callback.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from routing.access import held_by, listing_unit
from routing.apikeys import ApiClient, authenticate
from routing.commands import IntakeCommand
from routing.domain.enums import Channel, OrderState
from routing.domain.errors import DomainError
from routing.domain.model import Actor, WorkOrder
from routing.orm import Category, Unit, work_orders
from routing.parts import RoutingParts

router = APIRouter(prefix="/open311/v2", tags=["open311"])
INTAKE_ROLES = ("agent", "supervisor", "admin", "integration")
MAX_RANGE = timedelta(days=90)  # the spec: a search may not span more than 90 days


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _hot(request: Request) -> RoutingParts:
    hot: RoutingParts = request.app.state.routing
    return hot


HotDep = Annotated[RoutingParts, Depends(_hot)]


def _format(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise Open311Error(404, f"unknown format '{fmt}': use .json or .xml")
    return fmt


def _xml_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _w3c(value) or ""
    return escape(str(value))


def _w3c(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render(fmt: str, root: str, item: str, rows: list[dict[str, Any]], status: int = 200) -> Response:
    if fmt == "json":
        return JSONResponse(rows, status_code=status)
    parts = ['<?xml version="1.0" encoding="utf-8"?>', f"<{root}>"]
    for row in rows:
        parts.append(f"<{item}>")
        for key, value in row.items():
            if isinstance(value, list):
                parts.append(
                    f"<{key}>{''.join(f'<{key[:-1]}>{_xml_value(v)}</{key[:-1]}>' for v in value)}</{key}>"
                )
            else:
                parts.append(f"<{key}>{_xml_value(value)}</{key}>")
        parts.append(f"</{item}>")
    parts.append(f"</{root}>")
    return Response("".join(parts), status_code=status, media_type="text/xml; charset=utf-8")


def _error(fmt: str, status: int, description: str) -> Response:
    return render(
        fmt if fmt in ("json", "xml") else "json",
        "errors",
        "error",
        [{"code": status, "description": description}],
        status,
    )


def _service(c: Category) -> dict[str, Any]:
    return {
        "service_code": str(c.id),
        "service_name": c.level3,
        "description": c.path,
        "metadata": True,  # one optional attribute: the caller's confidentiality (see the definition)
        "type": "realtime",
        "keywords": f"{c.level1},{c.level2},{c.level3}",
        "group": c.level1,
    }


def _request_row(order: WorkOrder, unit_names: dict[str, str], *, full: bool) -> dict[str, Any]:
    """One request. The public view (``full=False``) carries no free text and no place: a 12345 case may
    name people, addresses and private troubles, and citizens were never asked to publish them."""
    closed = order.state is OrderState.CLOSED
    lead = order.lead_unit
    return {
        "service_request_id": order.number,
        "status": "closed" if closed else "open",
        "status_notes": (order.reply or None) if full else None,
        "service_name": order.category_path.rsplit("/", 1)[-1] if order.category_path else None,
        "service_code": str(order.category_id) if order.category_id is not None else None,
        "description": order.description if full else None,
        "agency_responsible": unit_names.get(lead, lead) if lead else None,
        "service_notice": None,
        "requested_datetime": _w3c(order.accepted_at),
        "updated_datetime": _w3c(order.updated_at),
        "expected_datetime": _w3c(order.resolution_due_at),
        "address": (order.location_text or None) if full else None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _unit_names(session: Session) -> dict[str, str]:
    return {code: name for code, name in session.execute(select(Unit.code, Unit.name))}


# ---- discovery, services, service definitions (GeoReport v2 and Service Discovery) --------------------------
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-04T00:00:00Z"  # when this endpoint's behaviour last changed (Service Discovery)
MIME_TYPES = ("text/xml", "application/json")
CONFIDENTIAL_ATTRIBUTE = "confidential"


def discovery_document(base_url: str) -> dict[str, Any]:
    """Service Discovery (wiki.open311.org/Service_Discovery): who to contact, how to get a key, and the
    endpoints with their specification, URL, changeset, type and formats as MIME types."""
    return {
        "changeset": CHANGESET,
        "contact": "海口12345政府服务热线 Haikou 12345 hotline: 0898-12345",
        "key_service": "API 密钥由热线系统管理员签发 / API keys are issued by the hotline's administrators",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": list(MIME_TYPES),
            }
        ],
    }


def _xml_element(name: str, value: Any) -> str:
    """One element; a list becomes repeated children named by the singular (endpoints → endpoint)."""
    if isinstance(value, dict):
        return f"<{name}>{''.join(_xml_element(k, v) for k, v in value.items())}</{name}>"
    if isinstance(value, list):
        child = name[:-1] if name.endswith("s") else name
        return f"<{name}>{''.join(_xml_element(child, v) for v in value)}</{name}>"
    return f"<{name}>{_xml_value(value)}</{name}>"


def render_document(fmt: str, root: str, document: dict[str, Any]) -> Response:
    """A single JSON object, or an XML document whose root element holds the same fields."""
    if fmt == "json":
        return JSONResponse(document)
    body = '<?xml version="1.0" encoding="utf-8"?>' + _xml_element(root, document)
    return Response(body, media_type="text/xml; charset=utf-8")


@router.get("/discovery.{fmt}")
def discovery(fmt: str, request: Request) -> Response:
    base = str(request.base_url).rstrip("/") + "/open311/v2/"
    return render_document(_format(fmt), "discovery", discovery_document(base))


def _confidential_attribute() -> dict[str, Any]:
    """GB/T 33358-2016: a caller may ask that the units not learn who they are. Every service accepts it as
    ``attribute[confidential]=true`` on POST."""
    return {
        "variable": True,
        "code": CONFIDENTIAL_ATTRIBUTE,
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": "true / false",
        "order": 1,
        "description": "对承办单位保密来电人身份 / Keep the caller's identity from the handling units",
        "values": [
            {"key": "true", "name": "保密 / confidential"},
            {"key": "false", "name": "不保密 / not confidential"},
        ],
    }


@router.get("/services.{fmt}")
def services(fmt: str, hot: HotDep) -> Response:
    fmt = _format(fmt)
    with hot.session_factory() as session:
        rows = [_service(c) for c in session.scalars(select(Category).order_by(Category.id))]
    return render(fmt, "services", "service", rows)


@router.get("/services/{code}.{fmt}")
def service_definition(code: str, fmt: str, hot: HotDep) -> Response:
    fmt = _format(fmt)
    with hot.session_factory() as session:
        category = session.get(Category, int(code)) if _is_code(code) else None
    if category is None:
        raise Open311Error(404, f"service_code {code} not found")
    document = {"service_code": str(category.id), "attributes": [_confidential_attribute()]}
    return render_document(fmt, "service_definition", document)


@router.post("/requests.{fmt}")
async def create_request(fmt: str, request: Request, hot: HotDep) -> Response:
    """POST Service Request: form-encoded, as the spec says; ``attribute[code]`` fields carry the service
    definition's attributes. ``jurisdiction_id`` is accepted and ignored (one jurisdiction)."""
    fmt = _format(fmt)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    return await run_in_threadpool(_create, fmt, form, hot)


def _create(fmt: str, form: dict[str, str], hot: RoutingParts) -> Response:
    api_key = form.get("api_key", "")
    client = authenticate(hot.session_factory, api_key) if api_key else None
    if client is None:
        raise Open311Error(403, "api_key missing or invalid")
    if client.role not in INTAKE_ROLES:  # a unit's key handles orders; it does not file them
        raise Open311Error(403, f"a {client.role} key may not file requests")
    service_code = form.get("service_code", "")
    if not _is_code(service_code):
        raise Open311Error(400, "service_code missing or not a number")
    address, lat, long = form.get("address_string", ""), form.get("lat", ""), form.get("long", "")
    if not (address or form.get("address_id") or (lat and long)):
        raise Open311Error(400, "a location is required: address_string, address_id or lat & long")
    confidential = form.get(f"attribute[{CONFIDENTIAL_ATTRIBUTE}]", "false").strip().lower()
    if confidential not in ("true", "false", ""):
        raise Open311Error(400, f"attribute[{CONFIDENTIAL_ATTRIBUTE}] must be true or false")
    location = address or form.get("address_id", "") or f"lat {lat}, long {long}"
    name = f"{form.get('last_name', '')}{form.get('first_name', '')}".strip()
    try:
        cmd = IntakeCommand(
            channel=Channel.OPEN311,
            category_id=int(service_code),
            description=form.get("description", ""),
            citizen_phone=form.get("phone", ""),
            citizen_name=name[:64],
            location_text=location[:500],
            # device_id / account_id name the citizen's device or account, not this request: they are no
            # idempotency key (routing.services.submit), so they are not stored as external_ref.
            confidential=confidential == "true",
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "request"
        raise Open311Error(400, f"{field}: {first['msg']}") from exc
    order = hot.work_orders.intake(cmd, Actor(f"open311:{client.name}", client.role))
    notice = f"已受理，工单号 {order.number}；承办单位须在 30 分钟内响应。"
    return render(
        fmt,
        "service_requests",
        "request",
        [{"service_request_id": order.number, "service_notice": notice, "account_id": None}],
    )


PUBLIC_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _reader(hot: RoutingParts, x_api_key: str | None) -> ApiClient | None:
    """Reads are public (the spec allows it) but show no personal data; a valid key reads in full, a
    unit's key only the orders its unit held (routing.access)."""
    if not x_api_key:
        return None
    client = authenticate(hot.session_factory, x_api_key)
    if client is None:
        raise Open311Error(403, "api_key invalid")
    return client


def _scoped(stmt: Any, client: ApiClient | None) -> Any:
    own = listing_unit(client.role, client.unit_code) if client is not None else None
    return stmt if own is None else stmt.where(held_by(own))


@router.get("/requests.{fmt}")
def list_requests(
    fmt: str,
    hot: HotDep,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=2000)] = None,
    start_date: Annotated[str | None, Query(max_length=40)] = None,
    end_date: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PUBLIC_PAGE_SIZE,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Response:
    """Newest first, ``page_size`` at a time (at most 200; the spec's 1,000 would hand out a city's
    cases in one query). Without an ``X-API-Key`` header the rows carry no description, address or
    reply."""
    fmt = _format(fmt)
    client = _reader(hot, x_api_key)
    stmt = (
        select(WorkOrder)
        .order_by(work_orders.c.accepted_at.desc(), work_orders.c.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    if service_request_id:
        numbers = [s.strip() for s in service_request_id.split(",")][:MAX_PAGE_SIZE]
        stmt = stmt.where(work_orders.c.number.in_(numbers))
    else:
        end = _parse_date(end_date, "end_date") or hot.clock.now()
        start = _parse_date(start_date, "start_date") or end - MAX_RANGE
        if end - start > MAX_RANGE:
            raise Open311Error(400, "start_date and end_date may not span more than 90 days")
        stmt = stmt.where(work_orders.c.accepted_at >= start, work_orders.c.accepted_at <= end)
    if service_code:
        codes = [c.strip() for c in service_code.split(",")]
        if not all(_is_code(c) for c in codes):
            raise Open311Error(400, "service_code must be numbers")
        stmt = stmt.where(work_orders.c.category_id.in_([int(c) for c in codes]))
    if status:
        wanted = {s.strip() for s in status.split(",")}
        if not wanted <= {"open", "closed"}:
            raise Open311Error(400, "status must be open or closed")
        if wanted == {"closed"}:
            stmt = stmt.where(work_orders.c.state == OrderState.CLOSED)
        elif wanted == {"open"}:
            stmt = stmt.where(work_orders.c.state != OrderState.CLOSED)
    with hot.session_factory() as session:
        names = _unit_names(session)
        rows = [
            _request_row(o, names, full=client is not None) for o in session.scalars(_scoped(stmt, client))
        ]
    return render(fmt, "service_requests", "request", rows)


@router.get("/requests/{number}.{fmt}")
def get_request(
    number: Annotated[str, Path(max_length=32)],
    fmt: str,
    hot: HotDep,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Response:
    fmt = _format(fmt)
    client = _reader(hot, x_api_key)
    with hot.session_factory() as session:
        stmt = _scoped(select(WorkOrder).where(work_orders.c.number == number), client)
        order = session.scalars(stmt).first()
        if order is None:
            raise Open311Error(404, f"service_request_id {number} not found")
        row = _request_row(order, _unit_names(session), full=client is not None)
    return render(fmt, "service_requests", "request", [row])


def _is_code(code: str) -> bool:
    """A service code is a category id: digits that fit an integer column."""
    return code.isdigit() and len(code) <= 9


def _parse_date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be a W3C datetime such as 2026-11-22T00:00:00Z") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def install(web: FastAPI, hot: RoutingParts) -> None:
    @web.exception_handler(Open311Error)
    async def _open311_error(request: Request, exc: Open311Error) -> Response:
        fmt = "xml" if request.url.path.endswith(".xml") else "json"
        return _error(fmt, exc.status, exc.description)

    web.include_router(router)


def open311_domain_error(request: Request, exc: DomainError) -> Response | None:
    """Domain errors raised under /open311 are answered in the Open311 error format."""
    if not request.url.path.startswith("/open311/"):
        return None
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    return _error(fmt, 400, exc.message_en)
