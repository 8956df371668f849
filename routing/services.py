"""The service layer: one method per use case, each one transaction, events published after commit."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel import metrics
from routing.commands import CallbackCommand, IntakeCommand
from routing.dispatch import Routing
from routing.domain.enums import CaseType, Urgency
from routing.domain.errors import InvalidInput
from routing.domain.model import Actor, Target, WorkOrder
from routing.orm import Category, work_orders
from routing.repository import NumberAllocator, WorkOrderRepository
from routing.service_base import RoutingContext
from routing.service_rulings import Rulings

__all__ = ["RoutingContext", "WorkOrderService"]

log = logging.getLogger(__name__)


class WorkOrderService(Rulings):
    """Every change to a case goes through here: validated, audited, committed, then announced. Returns,
    objections, negotiation and requests are in :class:`routing.service_rulings.Rulings`."""

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
        with self._unit_of_work() as (session, repo, touched):
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

    # ---- the rest of the lifecycle -------------------------------------------------------------
    def dispatch(self, number: str, actor: Actor, targets: list[Target] | None = None) -> WorkOrder:
        if targets is not None:
            self._check_units_now(targets)

        def change(order: WorkOrder) -> None:
            now = self.ctx.clock.now()
            chosen = targets
            note = "座席指定承办单位"
            if chosen is None:
                routing = self.dispatcher_at(now)[0].route(
                    order.category_id, order.district, order.description, order.location_text
                )
                chosen, note = routing.targets, "；".join(routing.reasons)
            check = self.dispatch_check(order.category_id, order.district, now)
            order.dispatch(actor, now, chosen, self.ctx.policy, self.ctx.calendar, note, check)

        return self._change(number, change)

    def acknowledge(self, number: str, actor: Actor, unit_code: str) -> WorkOrder:
        return self._change(number, lambda o: o.acknowledge(actor, self.ctx.clock.now(), unit_code))

    def start_work(self, number: str, actor: Actor, unit_code: str, note: str = "") -> WorkOrder:
        return self._change(number, lambda o: o.start_work(actor, self.ctx.clock.now(), unit_code, note))

    def add_progress_note(self, number: str, actor: Actor, unit_code: str, note: str) -> WorkOrder:
        return self._change(
            number, lambda o: o.add_progress_note(actor, self.ctx.clock.now(), unit_code, note)
        )

    def resolve(self, number: str, actor: Actor, unit_code: str, reply: str) -> WorkOrder:
        return self._change(number, lambda o: o.resolve(actor, self.ctx.clock.now(), unit_code, reply))

    def record_callback(self, number: str, actor: Actor, cmd: CallbackCommand) -> WorkOrder:
        return self._change(
            number,
            lambda o: o.record_callback(
                actor,
                self.ctx.clock.now(),
                cmd.outcome,
                cmd.solved,
                cmd.rating,
                cmd.note,
                self.ctx.policy,
                self.ctx.calendar,
                cmd.recording_ref,
            ),
        )

    def reopen(self, number: str, actor: Actor, reason: str) -> WorkOrder:
        return self._change(
            number,
            lambda o: o.reopen(actor, self.ctx.clock.now(), reason, self.ctx.policy, self.ctx.calendar),
        )

    def acknowledge_supervision(
        self, number: str, actor: Actor, supervision_number: str, unit_code: str
    ) -> WorkOrder:
        return self._change(
            number,
            lambda o: o.acknowledge_supervision(actor, self.ctx.clock.now(), supervision_number, unit_code),
        )

    def link_call(self, number: str, actor: Actor, call_id: str) -> WorkOrder:
        return self._change(number, lambda o: o.link_call(actor, self.ctx.clock.now(), call_id))

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
