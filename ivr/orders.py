"""Work-order status for "query my work order": a small port and its fake (the roof adapts routing to it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


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
