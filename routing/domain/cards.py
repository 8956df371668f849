"""Yellow and red cards (黄牌预警/红牌警示), the local practice beside the escalation ladder: a unit is warned
before its response or resolution deadline (how long before is set per SLA policy) and carded red when the
deadline passes. Cards show in the unit's inbox, on the supervisor's pages and in the unit's scores.

The warning is a durable deadline like the others (``RESPONSE_WARNING``, ``RESOLUTION_WARNING``), so the
scheduler fires it exactly once; the red card is issued in the same step that records the breach.
"""

from __future__ import annotations

from datetime import datetime

from routing.domain import events as ev
from routing.domain.enums import CLOCK_OF_WARNING, CardColor, DeadlineKind
from routing.domain.order_base import WorkOrderBase
from routing.domain.records import Actor, Card, Deadline

CLOCK_LABELS_ZH = {DeadlineKind.RESPONSE: "签收响应", DeadlineKind.RESOLUTION: "办结"}


class Cards(WorkOrderBase):
    def _fire_warning(self, deadline: Deadline, now: datetime, actor: Actor) -> None:
        """A warning deadline fell due: a yellow card for the clock it watches, if that clock still runs."""
        clock = CLOCK_OF_WARNING[deadline.kind]
        watched = next(
            (d for d in self.pending_deadlines(clock) if d.unit_code == deadline.unit_code),
            None,
        )
        if watched is not None:
            self._issue_card(CardColor.YELLOW, clock, watched.unit_code or "", watched.due_at, now, actor)

    def _issue_card(
        self,
        color: CardColor,
        clock: DeadlineKind,
        unit: str,
        due: datetime,
        now: datetime,
        actor: Actor,
    ) -> Card:
        card = Card(color, clock, unit, due, now)
        self.cards.append(card)
        label = CLOCK_LABELS_ZH.get(clock, clock.value)
        if color is CardColor.YELLOW:
            zh = f"黄牌预警：工单 {self.number} 的{label}时限将到（{unit}）"
        else:
            zh = f"红牌警示：工单 {self.number} 已超过{label}时限（{unit}）"
        self._record(
            actor,
            now,
            f"{color.value}_card",
            {},
            {"unit": unit, "clock": clock.value, "due_at": due},
            zh,
        )
        self.events.append(ev.CardIssued(self.number, color.value, clock.value, unit, due, now))
        return card

    def shown_cards(self, unit: str | None = None) -> list[Card]:
        """Cards that still show: every red card, and yellow cards whose deadline was neither met nor missed."""
        reds = {(c.clock, c.unit_code) for c in self.cards if c.color is CardColor.RED}
        return [
            c
            for c in self.cards
            if (unit is None or c.unit_code == unit)
            and (c.color is CardColor.RED or (c.cleared_at is None and (c.clock, c.unit_code) not in reds))
        ]
