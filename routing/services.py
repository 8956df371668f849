"""The service layer: intake, and one handler for every lifecycle command; each one transaction, events
published after commit through the outbox."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from datetime import datetime
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel import metrics
from routing.commands import IntakeCommand
from routing.dispatch import Routing
from routing.domain.enums import CaseType, Urgency
from routing.domain.errors import InvalidInput
from routing.domain.model import Actor, Target, WorkOrder
from routing.intake_store import IntakeStore, NewOrderWork
from routing.lifecycle import Apply, Command, Resolve
from routing.orm import Category, work_orders
from routing.repository import NumberAllocator, WorkOrderRepository
from routing.service_base import RoutingContext, ServiceBase

__all__ = ["RoutingContext", "WorkOrderService"]

log = logging.getLogger(__name__)


class WorkOrderService(ServiceBase):
    """Every change to a case goes through here: validated, audited, committed, then announced. Intake has
    its own path; every other change is a command (``routing/lifecycle.py``) run by :meth:`handle`."""

    # ---- intake ------------------------------------------------------------------------------------
    def intake(self, cmd: IntakeCommand, actor: Actor) -> WorkOrder:
        return self.submit(cmd, actor)[0]

    def submit(self, cmd: IntakeCommand, actor: Actor) -> tuple[WorkOrder, bool]:
        """Intake, idempotent per client and ``external_ref``: the same reference from the same client
        returns the order it made before (False: not created now). A client that lost the answer to a
        crash or a timeout retries without filing the case twice; the unique constraint settles a race."""
        if cmd.external_ref:
            existing = self._by_reference(actor.name, cmd.external_ref)
            if existing is not None:
                return existing, False
        try:
            return self._intake(cmd, actor), True
        except IntegrityError:
            existing = self._by_reference(actor.name, cmd.external_ref) if cmd.external_ref else None
            if existing is None:
                raise
            return existing, False

    def _by_reference(self, client: str, external_ref: str) -> WorkOrder | None:
        with self.ctx.session_factory() as session:
            number = session.scalar(
                select(work_orders.c.number).where(
                    work_orders.c.accepted_by == client, work_orders.c.external_ref == external_ref
                )
            )
            return None if number is None else WorkOrderRepository(session).get(number, for_update=False)

    def _intake(self, cmd: IntakeCommand, actor: Actor) -> WorkOrder:
        now = self.ctx.clock.now()
        dispatcher, _edition = self.dispatcher_at(now)
        with self._new_order_work() as (session, repo, touched):
            category = self._category(session, cmd)
            routing = dispatcher.route(
                category.id if category else None, cmd.district, cmd.description, cmd.location_text
            )
            case_type = cmd.case_type or CaseType(category.case_type if category else "consultation")
            urgency = cmd.urgency or (
                Urgency.URGENT if routing.urgent_class or (category and category.urgent) else Urgency.NORMAL
            )
            order = WorkOrder(
                number=NumberAllocator(session).next("HK", now),
                case_type=case_type,
                channel=cmd.channel,
                urgency=urgency,
                urgent_class=routing.urgent_class,
                category_id=category.id if category else None,
                category_path=category.path if category else "",
                title=cmd.title or _title_from(cmd.description),
                description=cmd.description,
                citizen_phone=cmd.citizen_phone,
                citizen_name=cmd.citizen_name,
                location_text=cmd.location_text,
                district=cmd.district or routing.district,
                accepted_at=now,
                accepted_by=actor.name,
                external_ref=cmd.external_ref,
                call_ids=[cmd.call_id] if cmd.call_id else [],
                confidential=cmd.confidential,
            )
            order.open(actor, now)
            if cmd.answer_on_the_spot:
                order.answer_on_the_spot(actor, now, cmd.answer_on_the_spot)
            elif cmd.dispatch:
                targets = self._targets(session, cmd, routing)
                order.dispatch(
                    actor,
                    now,
                    targets,
                    self.ctx.policy,
                    self.ctx.calendar,
                    note="；".join(routing.reasons) if cmd.targets is None else "座席指定承办单位",
                    check=self.dispatch_check(order.category_id, order.district, now),
                )
            repo.add(order)
            touched.append(order)
        metrics.ORDERS_ACCEPTED.labels(cmd.channel.value).inc()
        return order

    # PostgreSQL writes a new order in one statement (routing.intake_store); tests switch it off to hold
    # the ORM's unit of work to the same rows.
    one_statement_intake = True

    @cached_property
    def _intake_store(self) -> IntakeStore | None:
        return IntakeStore.for_factory(self.ctx.write_session_factory, self.ctx.outbox)

    def _new_order_work(self) -> AbstractContextManager[NewOrderWork]:
        if self.one_statement_intake and self._intake_store is not None:
            return self._intake_store.unit_of_work()
        return self._unit_of_work()

    def _category(self, session: Session, cmd: IntakeCommand) -> Category | None:
        if cmd.category_id is not None:
            category = session.get(Category, cmd.category_id)
        elif cmd.category_path:
            category = session.scalars(select(Category).where(Category.path == cmd.category_path)).first()
        else:
            return None
        if category is None:
            raise InvalidInput(
                "分类不存在", "unknown category", category=cmd.category_id or cmd.category_path
            )
        return category

    def _targets(self, session: Session, cmd: IntakeCommand, routing: Routing) -> list[Target]:
        if cmd.targets is None:
            return routing.targets
        targets = [Target(t.unit_code, t.role) for t in cmd.targets]
        self._check_units(session, targets)
        return targets

    # ---- every other change: one command, one handler --------------------------------------------
    def handle(self, command: Command, actor: Actor) -> WorkOrder:
        """Run one lifecycle command (routing/lifecycle.py) in its own transaction: the units it brings in
        must exist, the domain decides whether the change is allowed, the audit and the events go with it."""
        units = command.units()
        if units:
            self._check_units_now(units)
        if isinstance(command, Resolve):
            return self._resolve_with_merged(command, actor)

        def change(order: WorkOrder) -> None:
            now = self.ctx.clock.now()
            command.apply(order, actor, self._apply(now))

        return self._change(command.number, change)

    def _apply(self, now: datetime) -> Apply:
        def route(order: WorkOrder) -> tuple[list[Target], str]:
            routing = self.dispatcher_at(now)[0].route(
                order.category_id, order.district, order.description, order.location_text
            )
            return routing.targets, "；".join(routing.reasons)

        return Apply(
            now=now,
            policy=self.ctx.policy,
            calendar=self.ctx.calendar,
            route=route,
            check=lambda order: self.dispatch_check(order.category_id, order.district, now),
        )

    def _resolve_with_merged(self, command: Resolve, actor: Actor) -> WorkOrder:
        """办结. Orders merged under this one (并单) are resolved with the same reply in the same transaction,
        so every caller gets the answer and a satisfaction callback."""

        def attempt() -> WorkOrder:
            with self._unit_of_work() as (_session, repo, touched):
                now = self.ctx.clock.now()
                order = repo.get(command.number)
                command.apply(order, actor, self._apply(now))
                touched.append(order)
                for member in repo.merged_into(command.number):
                    if member.is_open:
                        member.resolve_as_merged(actor, now, command.number, command.reply)
                        touched.append(member)
            return order

        return self._retrying(attempt)

    def merge(self, master: str, members: list[str], actor: Actor) -> WorkOrder:
        """并单: merge repeat complaints under ``master``; each order's history records it."""
        members = sorted({m.strip().upper() for m in members if m.strip()} - {master})

        def attempt() -> WorkOrder:
            with self._unit_of_work() as (_session, repo, touched):
                now = self.ctx.clock.now()
                head = repo.get(master)
                head.absorb(actor, now, members)
                touched.append(head)
                for number in members:
                    member = repo.get(number)
                    member.merge_into(actor, now, master)
                    touched.append(member)
            return head

        return self._retrying(attempt)

    def unmerge(self, number: str, actor: Actor, reason: str) -> WorkOrder:
        """Take one order out of its master; its own clocks start again."""

        def attempt() -> WorkOrder:
            with self._unit_of_work() as (_session, repo, touched):
                now = self.ctx.clock.now()
                order = repo.get(number)
                master = order.merged_into
                order.unmerge(actor, now, reason, self.ctx.policy, self.ctx.calendar)
                touched.append(order)
                if master:
                    head = repo.get(master)
                    head.release(actor, now, number, reason)
                    touched.append(head)
            return order

        return self._retrying(attempt)

    def get(self, number: str) -> WorkOrder:
        with self.ctx.session_factory() as session:
            return WorkOrderRepository(session).get(number, for_update=False)

    def suggest_routing(
        self, category_id: int | None, district: str | None, description: str, location_text: str = ""
    ) -> Routing:
        return self.dispatcher.route(category_id, district, description, location_text)


def _title_from(description: str) -> str:
    first = description.strip().splitlines()[0] if description.strip() else ""
    return first[:40] + ("…" if len(first) > 40 else "")
