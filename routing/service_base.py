"""What every use case of the work-order service stands on: the context, units of work with retries, the
dispatcher of the catalogue edition in force, and the check a dispatch must pass."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from kernel import metrics
from kernel.bus import EventBus
from kernel.clock import Clock
from kernel.outbox import Outbox
from routing.catalogue import editions, load_dispatcher
from routing.dispatch import Dispatcher
from routing.domain.catalogue import CatalogueEdition, DispatchCheck, edition_in_force
from routing.domain.errors import Conflict, InvalidInput
from routing.domain.model import Target, WorkOrder
from routing.domain.sla import SlaPolicy, WorkCalendar
from routing.orm import Unit
from routing.repository import WorkOrderRepository

T = TypeVar("T")
EDITIONS_CACHE_SECONDS = 30.0  # another process may load an edition; this one sees it within that time


@dataclass
class RoutingContext:
    session_factory: sessionmaker[Session]
    write_session_factory: sessionmaker[Session]
    clock: Clock
    bus: EventBus
    policy: SlaPolicy
    calendar: WorkCalendar
    outbox: Outbox

    @contextmanager
    def unit_of_work(self) -> Iterator[tuple[Session, list[WorkOrder]]]:
        """One write transaction; the touched orders' events are written to the outbox inside it and
        published after the commit (never for a change that rolled back)."""
        touched: list[WorkOrder] = []
        with self.write_session_factory() as session:
            with session.begin():
                yield session, touched
                staged = self.outbox.stage(session, [e for order in touched for e in order.events])
            for order in touched:
                order.events.clear()
        self.outbox.publish(staged)


class ServiceBase:
    def __init__(self, ctx: RoutingContext) -> None:
        self.ctx = ctx
        self._dispatchers: dict[int | None, Dispatcher] = {}
        self._editions: tuple[float, list[CatalogueEdition]] | None = None

    # ---- the catalogue in force -------------------------------------------------------------------
    def edition_at(self, now: datetime) -> CatalogueEdition | None:
        cached = self._editions
        if cached is None or time.monotonic() - cached[0] > EDITIONS_CACHE_SECONDS:
            with self.ctx.session_factory() as session:
                cached = (time.monotonic(), editions(session))
            self._editions = cached
        return edition_in_force(cached[1], now)

    def dispatcher_at(self, now: datetime) -> tuple[Dispatcher, CatalogueEdition | None]:
        edition = self.edition_at(now)
        key = edition.id if edition else None
        dispatcher = self._dispatchers.get(key)
        if dispatcher is None:
            with self.ctx.session_factory() as session:
                dispatcher = load_dispatcher(session, key)
            self._dispatchers[key] = dispatcher
        return dispatcher, edition

    @property
    def dispatcher(self) -> Dispatcher:
        return self.dispatcher_at(self.ctx.clock.now())[0]

    def reference_changed(self) -> None:
        self._dispatchers.clear()
        self._editions = None

    def dispatch_check(self, category_id: int | None, district: str | None, now: datetime) -> DispatchCheck:
        dispatcher, edition = self.dispatcher_at(now)
        return DispatchCheck(
            catalogue_version=edition.version if edition else None,
            matter_owner=dispatcher.matter_owner(category_id, district),
            unit_kinds={code: u.kind for code, u in dispatcher.units.items()},
        )

    # ---- units of work ------------------------------------------------------------------------------
    @contextmanager
    def _unit_of_work(self) -> Iterator[tuple[Session, WorkOrderRepository, list[WorkOrder]]]:
        self.dispatcher_at(self.ctx.clock.now())  # outside the write transaction: SQLite has one writer
        with self.ctx.unit_of_work() as (session, touched):
            yield session, WorkOrderRepository(session), touched

    def _retrying(self, attempt: Callable[[], T], tries: int = 5) -> T:
        """Retry when another transaction changed the same order first (version check, lock timeout)."""
        for i in range(tries):
            try:
                return attempt()
            except (StaleDataError, DBAPIError) as exc:
                if isinstance(exc, IntegrityError) or i == tries - 1:
                    raise
                if isinstance(exc, DBAPIError) and not _is_retryable(exc):
                    raise
                time.sleep(0.01 * (i + 1))
        raise AssertionError("unreachable")

    def _change(self, number: str, change: Callable[[WorkOrder], None]) -> WorkOrder:
        def attempt() -> WorkOrder:
            with self._unit_of_work() as (_s, repo, touched):
                order = repo.get(number)
                change(order)
                touched.append(order)
            return order

        metrics.ORDER_CHANGES.inc()
        try:
            return self._retrying(attempt)
        except StaleDataError as exc:
            raise Conflict(
                "工单已被他人修改，请刷新后重试", "the work order changed meanwhile; reload and retry"
            ) from exc

    def _check_units(self, session: Session, targets: list[Target]) -> None:
        codes = [t.unit_code for t in targets]
        known = set(session.scalars(select(Unit.code).where(Unit.code.in_(codes), Unit.active.is_(True))))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise InvalidInput(
                f"承办单位不存在：{'、'.join(unknown)}",
                f"unknown unit(s): {', '.join(unknown)}",
                units=unknown,
            )

    def _check_units_now(self, targets: list[Target]) -> None:
        with self.ctx.session_factory() as session:
            self._check_units(session, targets)


def _is_retryable(exc: DBAPIError) -> bool:
    # PostgreSQL: 40001 serialization failure, 40P01 deadlock, 55P03 lock not available.
    # SQLite: "database is locked" when the busy timeout ran out.
    code = getattr(exc.orig, "sqlstate", None)
    return code in {"40001", "40P01", "55P03"} or "database is locked" in str(exc.orig)
