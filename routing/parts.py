"""Routing's parts, built once per process by the composition root: the work-order service, the SLA
scheduler, the knowledge base and the suggestion engine, over the kernel's ``Core``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from kernel.core import Core, UsesCore
from routing.calendar import ChineseWorkCalendar
from routing.domain.sla import SlaPolicy, WorkCalendar
from routing.kb.service import KnowledgeBase
from routing.orm import UrgentClass, map_domain
from routing.reference import data_file, load_sla_policy
from routing.scheduler import SlaScheduler
from routing.services import RoutingContext, WorkOrderService
from routing.suggest.holder import EngineHolder

log = logging.getLogger(__name__)


@dataclass
class RoutingParts(UsesCore):
    core: Core
    calendar: WorkCalendar
    policy_file: Path
    work_orders: WorkOrderService
    scheduler: SlaScheduler
    kb: KnowledgeBase
    suggestions: EngineHolder

    @property
    def policy(self) -> SlaPolicy:
        return self.work_orders.ctx.policy

    @property
    def routing(self) -> RoutingContext:
        return self.work_orders.ctx

    def reload_reference(self) -> None:
        """After the directory, categories or urgent classes changed: rebuild the dispatcher and policy."""
        self.work_orders.ctx.policy = sla_policy(self.session_factory, self.policy_file)
        self.work_orders.reference_changed()


def build(
    core: Core, *, calendar: WorkCalendar | None = None, sla_policy_file: Path | None = None
) -> RoutingParts:
    map_domain()
    calendar = calendar or ChineseWorkCalendar()
    policy_file = sla_policy_file or core.settings.sla_policy_file or data_file("sla_policies.yaml")
    ctx = RoutingContext(
        core.session_factory,
        core.write_session_factory,
        core.clock,
        core.bus,
        sla_policy(core.session_factory, policy_file),
        calendar,
        core.outbox,
    )
    kb = KnowledgeBase(core.session_factory, core.clock)
    return RoutingParts(
        core=core,
        calendar=calendar,
        policy_file=policy_file,
        work_orders=WorkOrderService(ctx),
        scheduler=SlaScheduler(ctx, batch_size=core.settings.scheduler_batch_size),
        kb=kb,
        suggestions=EngineHolder(core.session_factory, core.clock, core.settings.data_dir),
    )


def sla_policy(factory: sessionmaker[Session], path: Path) -> SlaPolicy:
    """SLA policy from the YAML file, with each urgent class's own response time from the database."""
    urgent: list[tuple[str, int]] = []
    try:
        with factory() as session:
            urgent = [(u.code, u.response_minutes) for u in session.scalars(select(UrgentClass))]
    except DBAPIError:  # before the first migration there is no table yet
        log.debug("urgent classes not loaded yet")
    return load_sla_policy(path, urgent)
