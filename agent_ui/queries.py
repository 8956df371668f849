"""Read models for the pages, straight from routing's tables (writes always go through WorkOrderService)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.domain.enums import (
    OPEN_STATES,
    AssignmentRole,
    OrderState,
    RequestStatus,
    SupervisionState,
)
from routing.orm import (
    Category,
    Unit,
    order_alarms,
    order_assignments,
    order_requests,
    order_supervisions,
    work_orders,
)

OPEN_STATE_VALUES = [s.value for s in OPEN_STATES]


@dataclass(frozen=True)
class OrderRow:
    number: str
    title: str
    state: str
    urgency: str
    category_path: str
    district: str | None
    accepted_at: datetime
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    lead_unit: str | None = None
    role: str | None = None  # this unit's role (lead / assist) in the inbox
    acknowledged_at: datetime | None = None


def _row(r: object, **extra: Any) -> OrderRow:
    m = r._mapping  # type: ignore[attr-defined]
    return OrderRow(
        m["number"],
        m["title"],
        m["state"],
        m["urgency"],
        m["category_path"],
        m["district"],
        m["accepted_at"],
        m["response_due_at"],
        m["resolution_due_at"],
        **extra,
    )


_ORDER_COLS = (
    work_orders.c.number,
    work_orders.c.title,
    work_orders.c.state,
    work_orders.c.urgency,
    work_orders.c.category_path,
    work_orders.c.district,
    work_orders.c.accepted_at,
    work_orders.c.response_due_at,
    work_orders.c.resolution_due_at,
)


def unit_inbox(session: Session, unit_code: str) -> list[OrderRow]:
    """Orders with an active assignment to this unit that still need it (open, or resolved awaiting
    callback), the unanswered ones first, then by their response clock."""
    rows = session.execute(
        select(*_ORDER_COLS, order_assignments.c.role, order_assignments.c.acknowledged_at)
        .join(order_assignments, order_assignments.c.order_id == work_orders.c.id)
        .where(
            order_assignments.c.unit_code == unit_code,
            order_assignments.c.active.is_(True),
            work_orders.c.state.in_([*OPEN_STATE_VALUES, OrderState.RESOLVED.value]),
            work_orders.c.merged_into.is_(None),  # a merged order is answered through its master (并单)
        )
        .order_by(
            order_assignments.c.acknowledged_at.is_not(None), work_orders.c.response_due_at, work_orders.c.id
        )
    ).all()
    return [_row(r, role=r.role, acknowledged_at=r.acknowledged_at, lead_unit=None) for r in rows]


def orders_by_phone(session: Session, phone: str, limit: int = 20) -> list[OrderRow]:
    rows = session.execute(
        select(*_ORDER_COLS)
        .where(work_orders.c.citizen_phone == phone)
        .order_by(work_orders.c.accepted_at.desc())
        .limit(limit)
    ).all()
    return [_row(r) for r in rows]


def lead_units(session: Session, order_ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(order_assignments.c.order_id, order_assignments.c.unit_code).where(
            order_assignments.c.order_id.in_(order_ids),
            order_assignments.c.active.is_(True),
            order_assignments.c.role == AssignmentRole.LEAD.value,
        )
    ).all()
    return {r.order_id: r.unit_code for r in rows}


def orders_in_state(session: Session, states: list[str], limit: int = 200) -> list[OrderRow]:
    rows = session.execute(
        select(work_orders.c.id, *_ORDER_COLS)
        .where(work_orders.c.state.in_(states))
        .order_by(work_orders.c.resolved_at, work_orders.c.id)
        .limit(limit)
    ).all()
    leads = lead_units(session, [r.id for r in rows])
    return [_row(r, lead_unit=leads.get(r.id)) for r in rows]


@dataclass(frozen=True)
class PendingRequest:
    id: int
    number: str
    title: str
    kind: str
    unit_code: str
    requested_at: datetime
    requested_by: str
    reason: str
    extend_days: int | None
    appeal_target: str | None
    proposed_unit: str | None = None


def pending_requests(session: Session, kinds: list[str]) -> list[PendingRequest]:
    rows = session.execute(
        select(order_requests, work_orders.c.number, work_orders.c.title)
        .join(work_orders, order_requests.c.order_id == work_orders.c.id)
        .where(order_requests.c.status == RequestStatus.PENDING.value, order_requests.c.kind.in_(kinds))
        .order_by(order_requests.c.requested_at)
    ).all()
    return [
        PendingRequest(
            r.id,
            r.number,
            r.title,
            r.kind,
            r.unit_code,
            r.requested_at,
            r.requested_by,
            r.reason,
            r.extend_days,
            r.appeal_target,
            r.proposed_unit,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class SupervisionRow:
    number: str  # the supervision order's own number
    order_number: str
    unit_code: str
    issued_at: datetime
    reason: str
    state: str


def open_supervisions(session: Session, unit_code: str | None = None) -> list[SupervisionRow]:
    query = (
        select(order_supervisions, work_orders.c.number.label("order_number"))
        .join(work_orders, order_supervisions.c.order_id == work_orders.c.id)
        .where(
            order_supervisions.c.state.in_(
                [SupervisionState.ISSUED.value, SupervisionState.ACKNOWLEDGED.value]
            )
        )
        .order_by(order_supervisions.c.issued_at)
    )
    if unit_code is not None:
        query = query.where(order_supervisions.c.unit_code == unit_code)
    return [
        SupervisionRow(r.number, r.order_number, r.unit_code, r.issued_at, r.reason, r.state)
        for r in session.execute(query).all()
    ]


@dataclass(frozen=True)
class AlarmRow:
    order_number: str
    kind: str
    level: int
    unit_code: str | None
    addressed_to: str
    message_zh: str
    message_en: str
    raised_at: datetime


def recent_alarms(session: Session, since: datetime, limit: int = 30) -> list[AlarmRow]:
    rows = session.execute(
        select(order_alarms, work_orders.c.number)
        .join(work_orders, order_alarms.c.order_id == work_orders.c.id)
        .where(order_alarms.c.raised_at >= since, order_alarms.c.cleared_at.is_(None))
        .order_by(order_alarms.c.raised_at.desc(), order_alarms.c.id.desc())
        .limit(limit)
    ).all()
    return [
        AlarmRow(
            r.number, r.kind, r.level, r.unit_code, r.addressed_to, r.message_zh, r.message_en, r.raised_at
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Wallboard:
    open_by_unit: list[tuple[str, str, int, int]]  # unit code, name, open orders, overdue responses
    accepted_today: int
    dispatched_today: int
    closed_today: int
    open_total: int
    breaches_today: int
    alarms: list[AlarmRow]
    returns_waiting: int
    requests_waiting: int


def wallboard(session: Session, now: datetime, day_start: datetime) -> Wallboard:
    names = dict(session.execute(select(Unit.code, Unit.name)).tuples().all())
    lead = (
        select(
            work_orders.c.id,
            order_assignments.c.unit_code,
            work_orders.c.response_due_at,
            work_orders.c.responded_at,
        )
        .join(order_assignments, order_assignments.c.order_id == work_orders.c.id)
        .where(
            work_orders.c.state.in_(OPEN_STATE_VALUES),
            order_assignments.c.active.is_(True),
            order_assignments.c.role == AssignmentRole.LEAD.value,
        )
    )
    per_unit: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in session.execute(lead).all():
        per_unit[r.unit_code][0] += 1
        if r.responded_at is None and r.response_due_at is not None and r.response_due_at < now:
            per_unit[r.unit_code][1] += 1
    open_by_unit = sorted(
        ((code, names.get(code, code), c[0], c[1]) for code, c in per_unit.items()),
        key=lambda x: (-x[3], -x[2], x[0]),
    )

    def count(*conds: object) -> int:
        return int(session.scalar(select(func.count()).select_from(work_orders).where(*conds)) or 0)  # type: ignore[arg-type]

    breaches = int(
        session.scalar(
            select(func.count()).select_from(order_alarms).where(order_alarms.c.raised_at >= day_start)
        )
        or 0
    )
    returns_waiting = count(work_orders.c.state == OrderState.RETURNED.value)
    requests_waiting = int(
        session.scalar(
            select(func.count())
            .select_from(order_requests)
            .where(order_requests.c.status == RequestStatus.PENDING.value, order_requests.c.kind != "return")
        )
        or 0
    )
    return Wallboard(
        open_by_unit=open_by_unit,
        accepted_today=count(work_orders.c.accepted_at >= day_start),
        dispatched_today=count(work_orders.c.first_dispatched_at >= day_start),
        closed_today=count(work_orders.c.closed_at >= day_start),
        open_total=count(work_orders.c.state.in_(OPEN_STATE_VALUES)),
        breaches_today=breaches,
        alarms=recent_alarms(session, now - timedelta(days=1)),
        returns_waiting=returns_waiting,
        requests_waiting=requests_waiting,
    )


@dataclass(frozen=True)
class CategoryNode:
    id: int
    level1: str
    level2: str
    level3: str
    path: str


def categories(session: Session) -> list[CategoryNode]:
    return [
        CategoryNode(c.id, c.level1, c.level2, c.level3, c.path)
        for c in session.scalars(select(Category).order_by(Category.level1, Category.level2, Category.level3))
    ]


def units(session: Session) -> list[tuple[str, str]]:
    return list(
        session.execute(select(Unit.code, Unit.name).where(Unit.active.is_(True)).order_by(Unit.code))
        .tuples()
        .all()
    )


def unit_name(session: Session, code: str | None) -> str:
    if not code:
        return ""
    unit = session.get(Unit, code)
    return unit.name if unit else code


@dataclass(frozen=True)
class CallbackRow:
    number: str
    at: datetime
    by: str
    by_role: str
    outcome: str
    solved: bool | None
    rating: int | None
    note: str


def recent_callbacks(session: Session, limit: int = 30, automated_only: bool = False) -> list[CallbackRow]:
    from routing.orm import order_callbacks

    query = (
        select(order_callbacks, work_orders.c.number)
        .join(work_orders, order_callbacks.c.order_id == work_orders.c.id)
        .order_by(order_callbacks.c.at.desc(), order_callbacks.c.id.desc())
        .limit(limit)
    )
    if automated_only:
        query = query.where(order_callbacks.c.by_role == "auto")
    return [
        CallbackRow(r.number, r.at, r.by, r.by_role, r.outcome, r.solved, r.rating, r.note)
        for r in session.execute(query).all()
    ]
