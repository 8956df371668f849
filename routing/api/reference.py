"""Reference and overview routes: routing suggestions, departments, categories, alarms, scores, counts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from routing.access import held_by, listing_unit
from routing.api.deps import ClientDep, HotDep, SessionDep, require
from routing.api.orders import STAFF
from routing.api.shapes import RoutingQuery
from routing.orm import Category, Unit, order_alarms, work_orders
from routing.views import unit_scores

router = APIRouter(prefix="/api", tags=["reference"])


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
    session: SessionDep,
    client: ClientDep,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    district: Annotated[str | None, Query(max_length=16)] = None,
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
def categories(
    session: SessionDep, client: ClientDep, level1: Annotated[str | None, Query(max_length=64)] = None
) -> list[dict[str, Any]]:
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
    own = listing_unit(client.role, client.unit_code)
    if own is not None:  # a unit sees the alarms addressed to it
        stmt = stmt.where(order_alarms.c.unit_code == own)
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
    own = listing_unit(client.role, client.unit_code)
    if own is not None:  # a unit sees its own score
        rows = [r for r in rows if r.unit_code == own]
    return [r.as_dict() for r in rows]


@router.get("/stats")
def stats(session: SessionDep, client: ClientDep) -> dict[str, Any]:
    stmt = select(work_orders.c.state, func.count()).group_by(work_orders.c.state)
    own = listing_unit(client.role, client.unit_code)
    if own is not None:  # a unit counts the orders it held
        stmt = stmt.where(held_by(own))
    rows = session.execute(stmt)
    return {"by_state": {str(state): int(count) for state, count in rows}}
