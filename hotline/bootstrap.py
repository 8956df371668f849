"""The composition root: builds every adapter from settings. The CLI, the web app and the tests call it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from kernel.bus import EventBus
from kernel.clock import Clock, SystemClock
from kernel.db import make_engine, make_session_factory
from kernel.settings import Settings, load_settings
from routing.calendar import ChineseWorkCalendar
from routing.domain.sla import SlaPolicy, WorkCalendar
from routing.orm import UrgentClass, map_domain
from routing.reference import data_file, load_sla_policy
from routing.scheduler import SlaScheduler
from routing.services import RoutingContext, WorkOrderService

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    write_session_factory: sessionmaker[Session]
    clock: Clock
    bus: EventBus
    calendar: WorkCalendar
    policy: SlaPolicy
    work_orders: WorkOrderService
    scheduler: SlaScheduler
    policy_file: Path
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def routing(self) -> RoutingContext:
        return self.work_orders.ctx

    def reload_reference(self) -> None:
        """After the directory, categories or urgent classes changed: rebuild the dispatcher and policy."""
        self.policy = _policy(self.session_factory, self.policy_file)
        self.work_orders.ctx.policy = self.policy
        self.work_orders.reference_changed()

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    bus: EventBus | None = None,
    calendar: WorkCalendar | None = None,
    sla_policy_file: Path | None = None,
) -> App:
    settings = settings or load_settings()
    map_domain()
    engine = make_engine(settings.resolved_database_url)
    factory = make_session_factory(engine)
    write_factory = make_session_factory(engine, for_writing=True)
    clock = clock or SystemClock()
    bus = bus or EventBus()
    calendar = calendar or ChineseWorkCalendar()
    policy_file = sla_policy_file or data_file("sla_policies.yaml")
    policy = _policy(factory, policy_file)
    ctx = RoutingContext(factory, write_factory, clock, bus, policy, calendar)
    return App(
        settings=settings,
        engine=engine,
        session_factory=factory,
        write_session_factory=write_factory,
        clock=clock,
        bus=bus,
        calendar=calendar,
        policy=policy,
        work_orders=WorkOrderService(ctx),
        scheduler=SlaScheduler(ctx, batch_size=settings.scheduler_batch_size),
        policy_file=policy_file,
    )


def _policy(factory: sessionmaker[Session], path: Path) -> SlaPolicy:
    """SLA policy from the YAML file, with each urgent class's own response time from the database."""
    urgent: list[tuple[str, int]] = []
    try:
        with factory() as session:
            urgent = [(u.code, u.response_minutes) for u in session.scalars(select(UrgentClass))]
    except DBAPIError:  # before the first migration there is no table yet
        log.debug("urgent classes not loaded yet")
    return load_sla_policy(path, urgent)
