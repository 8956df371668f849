"""Loading and saving work orders, and allocating their numbers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from routing.domain.errors import NotFound
from routing.domain.model import WorkOrder
from routing.domain.sla import HAIKOU
from routing.orm import number_counters, number_sequence, work_orders


class WorkOrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._locking = session.get_bind().dialect.name == "postgresql"

    def add(self, order: WorkOrder) -> None:
        self.session.add(order)

    def get(self, number: str, *, for_update: bool = True) -> WorkOrder:
        """The order by number. On PostgreSQL the row is locked for the rest of the transaction, so that
        the scheduler and a department handler changing the same order wait for each other."""
        stmt = select(WorkOrder).where(work_orders.c.number == number)
        if for_update and self._locking:
            stmt = stmt.with_for_update(of=work_orders)
        order = self.session.scalars(stmt).first()
        if order is None:
            raise NotFound(f"工单 {number} 不存在", f"work order {number} does not exist", number=number)
        return order

    def merged_into(self, master: str) -> list[WorkOrder]:
        """The orders merged under ``master`` (并单), locked like :meth:`get`."""
        stmt = select(WorkOrder).where(work_orders.c.merged_into == master).order_by(work_orders.c.id)
        if self._locking:
            stmt = stmt.with_for_update(of=work_orders)
        return list(self.session.scalars(stmt))

    def get_by_id(self, order_id: int, *, for_update: bool = True) -> WorkOrder:
        stmt = select(WorkOrder).where(work_orders.c.id == order_id)
        if for_update and self._locking:
            stmt = stmt.with_for_update(of=work_orders)
        order = self.session.scalars(stmt).first()
        if order is None:
            raise NotFound(f"工单 {order_id} 不存在", f"work order {order_id} does not exist")
        return order


# A counter value already drawn from the sequence for this session's next number (``Session.info`` key).
PREDRAWN_NUMBER = "routing.predrawn_number"


class NumberAllocator:
    """Human-readable unique numbers: ``HK202611220000123`` (kind, local date, a global counter).

    PostgreSQL draws the counter from a sequence, which takes no row lock, so concurrent intakes do not
    queue behind each other. SQLite has one writer at a time anyway and uses a counter row.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def next(self, kind: str, now: datetime) -> str:
        predrawn = self.session.info.pop(PREDRAWN_NUMBER, None)  # see routing.intake_store
        if predrawn is not None:
            value = int(predrawn)
        elif self.session.get_bind().dialect.name == "postgresql":
            value = int(self.session.execute(number_sequence.next_value()).scalar_one())
        else:
            value = (
                self.session.execute(
                    update(number_counters)
                    .where(number_counters.c.prefix == "all")
                    .values(value=number_counters.c.value + 1)
                    .returning(number_counters.c.value)
                ).scalar_one_or_none()
                or 0
            )
            if value == 0:
                self.session.execute(number_counters.insert().values(prefix="all", value=1))
                value = 1
        return f"{kind}{now.astimezone(HAIKOU):%Y%m%d}{value:07d}"
