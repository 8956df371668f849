"""The service layer: one method per use case, each one transaction, events published after commit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from kernel import metrics
from kernel.bus import EventBus
from kernel.clock import Clock
from kernel.outbox import Outbox
from routing.commands import CallbackCommand, IntakeCommand
from routing.dispatch import CategoryInfo, Dispatcher, KeywordRule, Routing, UnitInfo, UrgentInfo
from routing.domain.enums import CaseType, RequestKind, Urgency
from routing.domain.errors import Conflict, InvalidInput
from routing.domain.model import Actor, Target, WorkOrder
from routing.domain.sla import SlaPolicy, WorkCalendar
from routing.orm import Category, DispatchRule, Unit, UrgentClass, work_orders
from routing.repository import NumberAllocator, WorkOrderRepository

log = logging.getLogger(__name__)
T = TypeVar("T")


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


def load_dispatcher(session: Session) -> Dispatcher:
    categories = [
        CategoryInfo(
            c.id, c.path, c.level1, c.case_type, c.urgent, c.lead_unit, tuple(c.assist_units), c.district_lead
        )
        for c in session.scalars(select(Category))
    ]
    rules = [
        KeywordRule(r.name, tuple(r.keywords), r.level1, r.lead_unit, tuple(r.assist_units))
        for r in session.scalars(select(DispatchRule).order_by(DispatchRule.priority))
    ]
    urgent = [
        UrgentInfo(u.code, u.name, tuple(u.keywords), u.lead_unit, u.response_minutes)
        for u in session.scalars(select(UrgentClass))
    ]
    units = [
        UnitInfo(u.code, u.name, u.kind, u.district, u.parent_code, tuple(u.keywords))
        for u in session.scalars(select(Unit).where(Unit.active.is_(True)))
    ]
    return Dispatcher(categories, rules, urgent, units)


class WorkOrderService:
    """Every change to a case goes through here: validated, audited, committed, then announced."""

    def __init__(self, ctx: RoutingContext) -> None:
        self.ctx = ctx
        self._dispatcher: Dispatcher | None = None

    # ---- plumbing --------------------------------------------------------------------------------
    @property
    def dispatcher(self) -> Dispatcher:
        return self._load_dispatcher()

    def _load_dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            with self.ctx.session_factory() as session:
                self._dispatcher = load_dispatcher(session)
        return self._dispatcher

    def reference_changed(self) -> None:
        self._dispatcher = None

    @contextmanager
    def _unit_of_work(self) -> Iterator[tuple[Session, WorkOrderRepository, list[WorkOrder]]]:
        self._load_dispatcher()  # outside the write transaction: SQLite has one writer at a time
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
        with self._unit_of_work() as (session, repo, touched):
            category = self._category(session, cmd)
            routing = self.dispatcher.route(
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

    # ---- the rest of the lifecycle -------------------------------------------------------------
    def dispatch(self, number: str, actor: Actor, targets: list[Target] | None = None) -> WorkOrder:
        if targets is not None:
            self._check_units_now(targets)

        def change(order: WorkOrder) -> None:
            chosen = targets
            note = "座席指定承办单位"
            if chosen is None:
                routing = self.dispatcher.route(
                    order.category_id, order.district, order.description, order.location_text
                )
                chosen, note = routing.targets, "；".join(routing.reasons)
            order.dispatch(actor, self.ctx.clock.now(), chosen, self.ctx.policy, self.ctx.calendar, note)

        return self._change(number, change)

    def _check_units_now(self, targets: list[Target]) -> None:
        with self.ctx.session_factory() as session:
            self._check_units(session, targets)

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

    def request_return(self, number: str, actor: Actor, unit_code: str, reason: str) -> WorkOrder:
        return self._change(
            number, lambda o: o.request_return(actor, self.ctx.clock.now(), unit_code, reason)
        )

    def rule_on_return(
        self, number: str, actor: Actor, approve: bool, note: str, targets: list[Target] | None = None
    ) -> WorkOrder:
        if targets:
            self._check_units_now(targets)
        return self._change(
            number,
            lambda o: o.rule_on_return(
                actor, self.ctx.clock.now(), approve, note, targets, self.ctx.policy, self.ctx.calendar
            ),
        )

    def request_extension(
        self, number: str, actor: Actor, unit_code: str, days: int, reason: str
    ) -> WorkOrder:
        return self._change(
            number, lambda o: o.request_extension(actor, self.ctx.clock.now(), unit_code, days, reason)
        )

    def request_appeal(
        self, number: str, actor: Actor, unit_code: str, target: str, reason: str
    ) -> WorkOrder:
        return self._change(
            number, lambda o: o.request_appeal(actor, self.ctx.clock.now(), unit_code, target, reason)
        )

    def decide_request(
        self,
        number: str,
        actor: Actor,
        kind: RequestKind,
        approve: bool,
        note: str,
        request_id: int | None = None,
    ) -> WorkOrder:
        return self._change(
            number,
            lambda o: o.decide_request(
                actor, self.ctx.clock.now(), request_id, kind, approve, note, self.ctx.calendar
            ),
        )

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


def _is_retryable(exc: DBAPIError) -> bool:
    # PostgreSQL: 40001 serialization failure, 40P01 deadlock, 55P03 lock not available.
    # SQLite: "database is locked" when the busy timeout ran out.
    code = getattr(exc.orig, "sqlstate", None)
    return code in {"40001", "40P01", "55P03"} or "database is locked" in str(exc.orig)
