"""The SLA scheduler: fires durable deadlines exactly once, across restarts and several processes.

Each round claims due deadlines with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL), so two schedulers
never take the same row, and marks them fired in the same transaction that writes the alarm, the audit
record and the next rung of the escalation ladder. A ``kill -9`` mid-round rolls the whole round back: the
deadlines are still pending and the next scheduler fires them, once. Deadlines that fell due while no
scheduler ran are simply the oldest pending rows, fired on the first round after start-up.
On SQLite (one writer at a time, ``BEGIN IMMEDIATE``) the same query runs without the locking clause.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from kernel import metrics
from routing.domain.model import Deadline, WorkOrder
from routing.orm import Unit, order_deadlines, work_orders
from routing.repository import NumberAllocator
from routing.services import RoutingContext

log = logging.getLogger(__name__)

ESCALATE_TO_DISTRICT = {"street", "town", "district_bureau"}


@dataclass
class RoundResult:
    fired: int
    orders: int


class SlaScheduler:
    def __init__(self, ctx: RoutingContext, batch_size: int = 500) -> None:
        self.ctx = ctx
        self.batch_size = batch_size

    def run_once(self) -> RoundResult:
        """Fire every deadline due now, in batches, each batch one transaction."""
        total = RoundResult(0, 0)
        while True:
            result = self._round(self.ctx.clock.now())
            total = RoundResult(total.fired + result.fired, total.orders + result.orders)
            if result.fired < self.batch_size:
                return total

    def _round(self, now: datetime) -> RoundResult:
        with self.ctx.unit_of_work() as (session, touched):
            due = session.execute(
                select(order_deadlines.c.id, order_deadlines.c.order_id)
                .where(
                    order_deadlines.c.fired_at.is_(None),
                    order_deadlines.c.cancelled_at.is_(None),
                    order_deadlines.c.due_at <= now,
                )
                .order_by(order_deadlines.c.due_at)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not due:
                return RoundResult(0, 0)  # nothing touched: the unit of work commits an empty transaction
            by_order: dict[int, set[int]] = {}
            for deadline_id, order_id in due:
                by_order.setdefault(order_id, set()).add(deadline_id)
            orders = session.scalars(
                select(WorkOrder).where(work_orders.c.id.in_(by_order)).with_for_update(of=work_orders)
            ).all()
            units = {u.code: u for u in session.scalars(select(Unit))}
            numbers = NumberAllocator(session)
            for order in orders:
                ids = by_order[order.id or 0]
                for deadline in sorted((d for d in order.deadlines if d.id in ids), key=lambda d: d.due_at):
                    order.fire_deadline(
                        deadline,
                        now,
                        self.ctx.policy,
                        self.ctx.calendar,
                        escalation_target=_escalation_target(units, deadline),
                        supervision_number=lambda: numbers.next("DB", now),
                    )
                    metrics.DEADLINES_FIRED.labels(deadline.kind.value).inc()
                touched.append(order)
        return RoundResult(len(due), len(touched))

    def run_forever(self, stop: threading.Event, poll_seconds: float = 0.25) -> None:
        """Poll until ``stop`` is set. A poll is one indexed query on the pending-deadline partial index."""
        log.info("SLA scheduler started")
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("SLA scheduler round failed; retrying")
            stop.wait(poll_seconds)
        log.info("SLA scheduler stopped")


def _escalation_target(units: dict[str, Unit], deadline: Deadline) -> str:
    """The rung above a unit: a street, town or district bureau answers to its district government; a city
    bureau or a company answers to its own head (局长 / 总经理)."""
    unit = units.get(deadline.unit_code or "")
    seen = 0
    while unit is not None and unit.kind in ESCALATE_TO_DISTRICT and unit.parent_code and seen < 5:
        unit = units.get(unit.parent_code)
        seen += 1
    return unit.code if unit is not None else (deadline.unit_code or "hotline.center")
