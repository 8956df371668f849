"""The additive order counts behind every KPI and unit score (definitions: ``routing.views``), per local day
and dimension."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kernel.sqltime import local_day
from routing.domain.enums import (
    OPEN_STATES,
    AssignmentRole,
    CallbackOutcome,
    DeadlineKind,
    RequestKind,
    RequestStatus,
    SupervisionState,
)
from routing.orm import (
    order_assignments,
    order_callbacks,
    order_deadlines,
    order_requests,
    order_supervisions,
    work_orders,
)

Dimension = Literal["all", "district", "unit", "category", "channel", "agent"]
DIMENSIONS: tuple[Dimension, ...] = ("all", "district", "unit", "category", "channel", "agent")
OPEN_STATE_VALUES = [s.value for s in OPEN_STATES]

# The additive counts behind every order KPI; rates are computed after summing (never averaged).
ORDER_METRICS = (
    "orders_accepted",
    "orders_urgent",
    "answered_on_the_spot",
    "received",
    "responses_due",
    "responses_late",
    "resolutions_due",
    "resolutions_late",
    "resolved_by_unit",
    "resolved_with_callback",
    "closed",
    "closed_first_contact",
    "callbacks",
    "satisfied",
    "callback_attempts_unreachable",
    "returns",
    "returns_upheld",
    "appeals",
    "supervisions",
    "supervisions_resolved",
)


def _window(column: Any, since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if since is not None:
        conds.append(column >= since)
    if until is not None:
        conds.append(column < until)
    return conds


def _dim_column(by: Dimension, unit_column: Any) -> Any:
    w = work_orders.c
    return {
        "all": literal(""),
        "district": func.coalesce(w.district, ""),
        "unit": func.coalesce(unit_column, ""),
        "category": w.category_path,
        "channel": w.channel,
        "agent": w.accepted_by,
    }[by]


def _lead_unit() -> Any:
    """The order's active lead unit (a correlated subquery, for counts by unit of order-level facts)."""
    a = order_assignments.c
    return (
        select(a.unit_code)
        .where(a.order_id == work_orders.c.id, a.active.is_(True), a.role == AssignmentRole.LEAD.value)
        .limit(1)
        .scalar_subquery()
    )


def _key(by: Dimension, value: Any) -> str:
    text = str(getattr(value, "value", value) or "")
    if by == "category":
        return text.split("/", 1)[0]  # the first level of the taxonomy
    return text


FactKey = tuple[int | None, str]
KEY_SEPARATOR = "\x1f"


def order_facts(
    session: Session,
    since: datetime | None,
    until: datetime | None,
    by: Dimension | tuple[Dimension, ...] = "all",
    *,
    per_day: bool = True,
) -> dict[FactKey, Counter[str]]:
    """The additive order counts of :data:`ORDER_METRICS` per (local day index, dimension value).

    ``by`` may name several dimensions (e.g. ``("district", "category", "channel")``): the key then joins
    their values with :data:`KEY_SEPARATOR`, so one pass serves a roll-up of each. With ``per_day=False``
    the day is ``None`` (one row per dimension value over the whole window).
    """
    dims = (by,) if isinstance(by, str) else tuple(by)
    for dim_name in dims:
        if dim_name not in DIMENSIONS:
            raise ValueError(f"unknown dimension {dim_name!r}")
    dialect = session.get_bind().dialect.name
    out: dict[FactKey, Counter[str]] = defaultdict(Counter)
    w = work_orders.c

    def run(stmt_cols: list[Any], time_col: Any, unit_col: Any, select_from: Any, conds: list[Any]) -> None:
        day = local_day(time_col, dialect) if per_day else literal(None)
        dim_cols = [_dim_column(d, unit_col).label(f"dim{i}") for i, d in enumerate(dims)]
        stmt = (
            select(day.label("day"), *dim_cols, *stmt_cols)
            .select_from(select_from)
            .where(*conds)
            .group_by(day, *dim_cols)
        )
        for row in session.execute(stmt):
            m = row._mapping
            key_text = KEY_SEPARATOR.join(_key(d, m[f"dim{i}"]) for i, d in enumerate(dims))
            key = (int(m["day"]) if m["day"] is not None else None, key_text)
            counter = out[key]
            for name in stmt_cols:
                value = m[name.name]
                if value:
                    counter[name.name] += int(value)

    def count_if(cond: Any, name: str) -> Any:
        return func.sum(case((cond, 1), else_=0)).label(name)

    lead = _lead_unit()
    # Orders by the day they were accepted.
    run(
        [
            func.count().label("orders_accepted"),
            count_if(w.urgency == "urgent", "orders_urgent"),
            count_if(w.resolution_kind == "on_the_spot", "answered_on_the_spot"),
        ],
        w.accepted_at,
        lead,
        work_orders,
        _window(w.accepted_at, since, until),
    )
    # Closed orders and first-contact resolution, by the closing day.
    run(
        [
            func.count().label("closed"),
            count_if(and_(w.redo_count == 0, w.dispatch_round <= 1), "closed_first_contact"),
        ],
        w.closed_at,
        lead,
        work_orders,
        [w.closed_at.is_not(None), *_window(w.closed_at, since, until)],
    )
    # Orders a unit resolved, and how many of them the hotline reached at the callback.
    c = order_callbacks.c
    # A probe per resolved order (LIMIT 1 keeps PostgreSQL from hashing every callback ever made instead).
    reached = (
        select(literal(1))
        .where(c.order_id == w.id, c.outcome != CallbackOutcome.UNREACHABLE.value)
        .limit(1)
        .correlate(work_orders)
        .scalar_subquery()
        .is_not(None)
    )
    run(
        [func.count().label("resolved_by_unit"), count_if(reached, "resolved_with_callback")],
        w.resolved_at,
        lead,
        work_orders,
        [
            w.resolved_at.is_not(None),
            w.resolution_kind.in_(["resolved", "merged"]),
            *_window(w.resolved_at, since, until),
        ],
    )
    # Lead assignments received.
    a = order_assignments.c
    run(
        [func.count().label("received")],
        a.assigned_at,
        a.unit_code,
        order_assignments.join(work_orders, a.order_id == w.id),
        [a.role == AssignmentRole.LEAD.value, *_window(a.assigned_at, since, until)],
    )
    # Response and resolution deadlines, settled, by the day they fell due.
    d = order_deadlines.c
    settled = (d.fired_at.is_not(None)) | (d.cancelled_at.is_not(None))
    fired = d.fired_at.is_not(None)
    run(
        [
            count_if(d.kind == DeadlineKind.RESPONSE.value, "responses_due"),
            count_if(and_(d.kind == DeadlineKind.RESPONSE.value, fired), "responses_late"),
            count_if(d.kind == DeadlineKind.RESOLUTION.value, "resolutions_due"),
            count_if(and_(d.kind == DeadlineKind.RESOLUTION.value, fired), "resolutions_late"),
        ],
        d.due_at,
        d.unit_code,
        order_deadlines.join(work_orders, d.order_id == w.id),
        [
            d.kind.in_([DeadlineKind.RESPONSE.value, DeadlineKind.RESOLUTION.value]),
            d.unit_code.is_not(None),
            settled,
            *_window(d.due_at, since, until),
        ],
    )
    # Satisfaction callbacks, by the callback's day, for the unit evaluated.
    good = c.outcome.in_([CallbackOutcome.SATISFIED.value, CallbackOutcome.BASICALLY_SATISFIED.value])
    counted = and_(c.outcome != CallbackOutcome.UNREACHABLE.value, c.excluded_from_scores.is_(False))
    run(
        [
            count_if(counted, "callbacks"),
            count_if(and_(counted, good, c.solved.is_not(False)), "satisfied"),
            count_if(c.outcome == CallbackOutcome.UNREACHABLE.value, "callback_attempts_unreachable"),
        ],
        c.at,
        c.unit_code,
        order_callbacks.join(work_orders, c.order_id == w.id),
        _window(c.at, since, until),
    )
    # Returns (退单) and appeals (申诉), by the day asked.
    r = order_requests.c
    run(
        [
            count_if(r.kind == RequestKind.RETURN.value, "returns"),
            count_if(
                and_(r.kind == RequestKind.RETURN.value, r.status == RequestStatus.APPROVED.value),
                "returns_upheld",
            ),
            count_if(r.kind == RequestKind.APPEAL.value, "appeals"),
        ],
        r.requested_at,
        r.unit_code,
        order_requests.join(work_orders, r.order_id == w.id),
        [
            r.kind.in_([RequestKind.RETURN.value, RequestKind.APPEAL.value]),
            *_window(r.requested_at, since, until),
        ],
    )
    # Supervision orders (督办件), by the day issued.
    s = order_supervisions.c
    run(
        [
            func.count().label("supervisions"),
            count_if(s.state == SupervisionState.RESOLVED.value, "supervisions_resolved"),
        ],
        s.issued_at,
        s.unit_code,
        order_supervisions.join(work_orders, s.order_id == w.id),
        _window(s.issued_at, since, until),
    )
    return dict(out)


def count_by(
    session: Session, by: Dimension, since: datetime, until: datetime, limit: int = 10
) -> list[tuple[str, int]]:
    """Orders accepted in the window by a dimension, largest first (for top-N panels)."""
    facts = order_facts_accepted(session, since, until, by)
    return sorted(facts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def order_facts_accepted(session: Session, since: datetime, until: datetime, by: Dimension) -> dict[str, int]:
    """Only the accepted counts by a dimension (one query; the big screen refreshes it often)."""
    w = work_orders.c
    dim = _dim_column(by, _lead_unit())
    out: Counter[str] = Counter()
    for value, n in session.execute(
        select(dim, func.count()).where(w.accepted_at >= since, w.accepted_at < until).group_by(dim)
    ):
        out[_key(by, value)] += int(n)
    return dict(out)


def accepted_per_bucket(session: Session, since: datetime, until: datetime, seconds: int) -> dict[int, int]:
    from kernel.sqltime import bucket

    w = work_orders.c
    b = bucket(w.accepted_at, session.get_bind().dialect.name, seconds)
    return {
        int(k): int(n)
        for k, n in session.execute(
            select(b, func.count()).where(w.accepted_at >= since, w.accepted_at < until).group_by(b)
        )
    }
