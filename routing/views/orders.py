"""Orders as other components see them: briefs, callers' orders, open-order backlog by unit, hotline alarms."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from routing.domain.enums import (
    AssignmentRole,
)
from routing.orm import (
    Unit,
    order_alarms,
    order_assignments,
    work_orders,
)
from routing.views.facts import (
    OPEN_STATE_VALUES,
)


@dataclass(frozen=True)
class OrderBrief:
    """What analytics may know of an order to find hot events: no name, no phone."""

    number: str
    accepted_at: datetime
    district: str | None
    location_text: str
    category_path: str
    title: str
    description: str
    state: str
    merged_into: str | None
    resolution_kind: str | None = None


def order_briefs(session: Session, since: datetime, until: datetime, limit: int = 20000) -> list[OrderBrief]:
    w = work_orders.c
    rows = session.execute(
        select(
            w.number,
            w.accepted_at,
            w.district,
            w.location_text,
            w.category_path,
            w.title,
            w.description,
            w.state,
            w.merged_into,
            w.resolution_kind,
        )
        .where(w.accepted_at >= since, w.accepted_at < until)
        .order_by(w.accepted_at)
        .limit(limit)
    ).all()
    return [
        OrderBrief(
            r.number,
            r.accepted_at,
            r.district,
            r.location_text,
            r.category_path,
            r.title,
            r.description,
            str(getattr(r.state, "value", r.state)),
            r.merged_into,
            r.resolution_kind,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class CallerOrder:
    """An order with its caller's number, for the migratory-bird analysis (number never leaves analytics)."""

    accepted_at: datetime
    phone: str
    location_text: str
    district: str | None
    description: str


def caller_orders(session: Session, since: datetime, until: datetime) -> Iterable[CallerOrder]:
    w = work_orders.c
    for r in session.execute(
        select(w.accepted_at, w.citizen_phone, w.location_text, w.district, w.description)
        .where(w.accepted_at >= since, w.accepted_at < until)
        .execution_options(yield_per=5000)
    ):
        yield CallerOrder(r.accepted_at, r.citizen_phone, r.location_text, r.district, r.description)


@dataclass(frozen=True)
class UnitBacklog:
    unit_code: str
    unit_name: str
    open_orders: int
    response_overdue: int
    resolution_overdue: int


def backlog_by_unit(session: Session, now: datetime) -> list[UnitBacklog]:
    """Open orders per lead unit with those past their response or resolution time, worst first.

    Driven from the open orders (a few thousand, found by the state index) with each one's lead unit looked up
    by its order id, rather than joining every active lead assignment ever made (one per order in history):
    on a month of Haikou history that is 5 k index lookups instead of scanning 130 k assignments."""
    w, a = work_orders.c, order_assignments.c
    names = dict(session.execute(select(Unit.code, Unit.name)).tuples().all())
    lead_unit = (
        select(a.unit_code)
        .where(a.order_id == w.id, a.active.is_(True), a.role == AssignmentRole.LEAD.value)
        .limit(1)
        .correlate(work_orders)
        .scalar_subquery()
    )
    open_orders = (
        select(
            lead_unit.label("unit_code"),
            case((and_(w.responded_at.is_(None), w.response_due_at < now), 1), else_=0).label(
                "response_late"
            ),
            case((w.resolution_due_at < now, 1), else_=0).label("resolution_late"),
        )
        .where(w.state.in_(OPEN_STATE_VALUES))
        .subquery()
    )
    o = open_orders.c
    rows = session.execute(
        select(o.unit_code, func.count(), func.sum(o.response_late), func.sum(o.resolution_late)).group_by(
            o.unit_code
        )
    ).all()
    out = [
        UnitBacklog(code, names.get(code, code), int(n), int(r or 0), int(s or 0))
        for code, n, r, s in rows
        if code is not None
    ]
    return sorted(
        out, key=lambda u: (-u.response_overdue, -u.resolution_overdue, -u.open_orders, u.unit_code)
    )


@dataclass(frozen=True)
class AlarmBrief:
    order_number: str
    kind: str
    level: int
    unit_code: str | None
    message_zh: str
    message_en: str
    raised_at: datetime


def recent_hotline_alarms(session: Session, since: datetime, limit: int = 20) -> list[AlarmBrief]:
    """Uncleared alarms addressed to the hotline or above (a response breach raises one to the unit too)."""
    al = order_alarms.c
    rows = session.execute(
        select(
            al.kind, al.level, al.unit_code, al.message_zh, al.message_en, al.raised_at, work_orders.c.number
        )
        .join(work_orders, al.order_id == work_orders.c.id)
        .where(
            al.raised_at >= since,
            al.cleared_at.is_(None),
            (al.addressed_to == "hotline") | (al.kind != "response_breach"),
        )
        .order_by(al.raised_at.desc(), al.id.desc())
        .limit(limit)
    ).all()
    return [
        AlarmBrief(r.number, str(r.kind), r.level, r.unit_code, r.message_zh, r.message_en, r.raised_at)
        for r in rows
    ]
