"""Work-order status for "query my work order": a small port, its fake, and the adapter over routing's table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker


class OrderStatusLookup(Protocol):
    def status(self, number: str) -> str | None:
        """The order's state (``routing.domain.enums.OrderState`` value) or None when there is no such order."""


@dataclass
class FakeOrderLookup:
    states: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def status(self, number: str) -> str | None:
        self.asked.append(number)
        return self.states.get(number)


def order_number_from_keys(keys: str, prefix: str = "HK") -> str:
    """A caller keys only digits: ``202611230000123`` is ``HK202611230000123`` (routing's NumberAllocator)."""
    return keys if not keys.isdigit() else f"{prefix}{keys}"


class RoutingOrderLookup:
    """Reads routing's ``work_orders`` through its repository, without locking the row."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def status(self, number: str) -> str | None:
        from routing.domain.errors import NotFound
        from routing.repository import WorkOrderRepository

        with self.session_factory() as session:
            try:
                order = WorkOrderRepository(session).get(order_number_from_keys(number), for_update=False)
            except NotFound:
                return None
            return str(order.state)
