"""A read-only port onto routing's work orders, by number or by linked call id.

Recordings imports nothing from routing: it reads the ``work_orders`` table through this port, which the
tests replace with a fake.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, String, cast, column, or_, select, table
from sqlalchemy.orm import Session, sessionmaker

from kernel.db import JSONType, UTCDateTime

CLOSED_STATE = "closed"  # routing's OrderState.CLOSED (已归档): every other state is still open
# Words in a work order that mark a complaint about the hotline's own staff (话务员 = the agent).
COMPLAINT_WORDS = ("话务员", "工作人员态度", "接线员", "客服态度")
COMPLAINT_LOOKBACK_DAYS = 30

_work_orders = table(
    "work_orders",
    column("number"),
    column("state"),
    column("call_ids", JSONType),
    column("case_type"),
    column("category_path"),
    column("title"),
    column("description"),
    column("accepted_at", UTCDateTime),
    column("citizen_phone"),
)


@dataclass(frozen=True)
class OrderSummary:
    number: str
    state: str
    case_type: str
    category_path: str
    title: str
    description: str
    call_ids: tuple[str, ...]
    citizen_phone: str = ""
    accepted_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state != CLOSED_STATE


def complaint_concerns(
    order: OrderSummary,
    *,
    call_id: str,
    caller_number: str | None,
    started_at: datetime,
    order_numbers: Iterable[str] = (),
    lookback_days: int = COMPLAINT_LOOKBACK_DAYS,
) -> bool:
    """A complaint order is about this call when it is linked to it, or when the same citizen complained
    within ``lookback_days`` after calling (a citizen complains about an agent in a later call or online)."""
    if order.number in set(order_numbers) or call_id in order.call_ids:
        return True
    if not (order.citizen_phone and caller_number == order.citizen_phone and order.accepted_at):
        return False
    return order.accepted_at - timedelta(days=lookback_days) <= started_at <= order.accepted_at


class OrderLookup(Protocol):
    def linked(self, numbers: Iterable[str], call_id: str | None) -> list[OrderSummary]:
        """Orders with one of these numbers, or whose linked calls include ``call_id``."""
        ...

    def mentioning(self, words: Iterable[str]) -> list[OrderSummary]:
        """Orders whose category path or description contains one of the words."""
        ...


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlOrderLookup:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def _fetch(self, condition: ColumnElement[bool]) -> list[OrderSummary]:
        wo = _work_orders.c
        query = (
            select(
                wo.number,
                wo.state,
                wo.case_type,
                wo.category_path,
                wo.title,
                wo.description,
                wo.call_ids,
                wo.citizen_phone,
                wo.accepted_at,
            )
            .where(condition)
            .order_by(wo.number)
        )
        with self.session_factory() as session:
            return [
                OrderSummary(
                    r.number,
                    str(r.state),
                    str(r.case_type),
                    r.category_path or "",
                    r.title or "",
                    r.description or "",
                    tuple(r.call_ids or ()),
                    r.citizen_phone or "",
                    r.accepted_at,
                )
                for r in session.execute(query)
            ]

    def linked(self, numbers: Iterable[str], call_id: str | None) -> list[OrderSummary]:
        wo = _work_orders.c
        conditions = []
        numbers = list(numbers)
        if numbers:
            conditions.append(wo.number.in_(numbers))
        if call_id:
            # call_ids is a JSON list of strings; its text form holds each id in double quotes
            conditions.append(cast(wo.call_ids, String).like(f'%"{_like(call_id)}"%', escape="\\"))
        if not conditions:
            return []
        return self._fetch(or_(*conditions))

    def mentioning(self, words: Iterable[str]) -> list[OrderSummary]:
        wo = _work_orders.c
        conditions = [
            or_(
                wo.category_path.like(f"%{_like(w)}%", escape="\\"),
                wo.description.like(f"%{_like(w)}%", escape="\\"),
            )
            for w in words
        ]
        return self._fetch(or_(*conditions)) if conditions else []


class FakeOrderLookup:
    def __init__(self, orders: Iterable[OrderSummary] = ()) -> None:
        self.orders = list(orders)

    def linked(self, numbers: Iterable[str], call_id: str | None) -> list[OrderSummary]:
        wanted = set(numbers)
        return [o for o in self.orders if o.number in wanted or (call_id and call_id in o.call_ids)]

    def mentioning(self, words: Iterable[str]) -> list[OrderSummary]:
        words = list(words)
        return [o for o in self.orders if any(w in o.category_path or w in o.description for w in words)]
