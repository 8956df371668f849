"""Read models for the national rules' pages: the cards a unit's inbox shows, cards per unit for the
wallboard, and the orders whose responsible unit the hotline must settle by negotiation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_ui.queries import _ORDER_COLS, OPEN_STATE_VALUES, OrderRow, _row, lead_units
from routing.domain.enums import AssignmentRole, CardColor, OrderState
from routing.orm import Unit, order_assignments, order_cards, work_orders


def inbox_cards(session: Session, unit_code: str) -> dict[str, str]:
    """The card each order in a unit's inbox shows: ``red`` when a deadline was missed, ``yellow`` when one
    is near (a yellow card the unit has not met yet); orders without a card are left out."""
    rows = session.execute(
        select(work_orders.c.number, order_cards.c.color, order_cards.c.cleared_at)
        .join(work_orders, work_orders.c.id == order_cards.c.order_id)
        .where(
            order_cards.c.unit_code == unit_code,
            work_orders.c.state.in_([*OPEN_STATE_VALUES, OrderState.RESOLVED.value]),
        )
    ).all()
    shown: dict[str, str] = {}
    for number, color, cleared_at in rows:
        if color == CardColor.RED.value:
            shown[number] = "red"
        elif cleared_at is None and shown.get(number) != "red":
            shown[number] = "yellow"
    return shown


@dataclass(frozen=True)
class CardCount:
    unit_code: str
    unit_name: str
    yellow: int
    red: int


def cards_since(session: Session, since: datetime) -> list[CardCount]:
    """Cards issued since a time, per unit, the most red first (the supervisor's wallboard)."""
    names = dict(session.execute(select(Unit.code, Unit.name)).tuples().all())
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for unit, color, n in session.execute(
        select(order_cards.c.unit_code, order_cards.c.color, func.count())
        .where(order_cards.c.issued_at >= since)
        .group_by(order_cards.c.unit_code, order_cards.c.color)
    ).all():
        counts[unit][0 if color == CardColor.YELLOW.value else 1] += int(n)
    return sorted(
        (CardCount(u, names.get(u, u), c[0], c[1]) for u, c in counts.items()),
        key=lambda c: (-c.red, -c.yellow, c.unit_code),
    )


def orders_to_negotiate(session: Session, limit: int = 100) -> list[OrderRow]:
    """Orders whose responsible unit is unclear: accepted but not dispatched, returned to the hotline, or
    left with the hotline centre itself as lead by the dispatch rules."""
    unclear = select(order_assignments.c.order_id).where(
        order_assignments.c.unit_code == "hotline.center",
        order_assignments.c.active.is_(True),
        order_assignments.c.role == AssignmentRole.LEAD.value,
    )
    rows = session.execute(
        select(work_orders.c.id, *_ORDER_COLS)
        .where(
            (work_orders.c.state.in_([OrderState.ACCEPTED.value, OrderState.RETURNED.value]))
            | (work_orders.c.id.in_(unclear) & work_orders.c.state.in_(OPEN_STATE_VALUES))
        )
        .order_by(work_orders.c.accepted_at, work_orders.c.id)
        .limit(limit)
    ).all()
    leads = lead_units(session, [r.id for r in rows])
    return [_row(r, lead_unit=leads.get(r.id)) for r in rows]
