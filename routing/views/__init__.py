"""Routing's published read models (cosmicpython's ``views.py``): what other components may read about work
orders without touching routing's tables. The desk, the REST API and analytics all count with these.

**One definition of a unit's score** (the annual assessment) and of the hotline's order KPIs:

- on-time response / resolution: read from the durable deadlines. A response or resolution deadline that
  *fired* was missed; one cancelled before it fell due was met. Deadlines count on the local day they fell
  due, once settled. An approved extension cancels the old resolution deadline and sets a new one, so it is
  never lateness. A joint case has one response deadline per unit: the hotline-wide rate counts deadlines.
- satisfaction: reached callbacks (not "unreachable") that no approved appeal excluded; satisfied or
  basically satisfied, and not "not solved". Counted on the callback's day, for the lead unit at the time.
- received: lead assignments given to the unit (each dispatch round counts).
- first-contact resolution (一次性办结): a case closed with no redo (回访不满意重办 or reopen) and at most one
  dispatch round (no approved return, no re-dispatch); answers on the spot count. On the closing day.
- callback coverage (回访率): orders resolved by a unit on the day that have at least one reached callback.
- supervision orders (督办件): counted on the day issued; resolved = the order was resolved while it was open.

The package's parts: ``facts`` (the additive counts), ``scores`` (unit scores), ``orders`` (briefs, backlog,
alarms), ``reference`` (units, categories, place words).
"""

from __future__ import annotations

from routing.views.facts import (
    DIMENSIONS,
    KEY_SEPARATOR,
    OPEN_STATE_VALUES,
    ORDER_METRICS,
    Dimension,
    FactKey,
    accepted_per_bucket,
    count_by,
    order_facts,
    order_facts_accepted,
)
from routing.views.orders import (
    AlarmBrief,
    CallerOrder,
    OrderBrief,
    UnitBacklog,
    backlog_by_unit,
    caller_orders,
    order_briefs,
    recent_hotline_alarms,
)
from routing.views.reference import (
    PlaceWords,
    category_level1,
    category_paths,
    first_order_at,
    has_orders_other_than,
    known_units,
    order_states,
    place_words,
    training_texts,
    unit_districts,
)
from routing.views.scores import (
    UnitScore,
    unit_scores,
)

__all__ = [
    "DIMENSIONS",
    "KEY_SEPARATOR",
    "OPEN_STATE_VALUES",
    "ORDER_METRICS",
    "AlarmBrief",
    "CallerOrder",
    "Dimension",
    "FactKey",
    "OrderBrief",
    "PlaceWords",
    "UnitBacklog",
    "UnitScore",
    "accepted_per_bucket",
    "backlog_by_unit",
    "caller_orders",
    "category_level1",
    "category_paths",
    "count_by",
    "first_order_at",
    "has_orders_other_than",
    "known_units",
    "order_briefs",
    "order_facts",
    "order_facts_accepted",
    "order_states",
    "place_words",
    "recent_hotline_alarms",
    "training_texts",
    "unit_districts",
    "unit_scores",
]
