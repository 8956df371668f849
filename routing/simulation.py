"""Replaying scripted case histories through the real domain, for demo data and benchmarks.

A :class:`CaseScript` says what happens to one case and when (accepted, the unit answers after N minutes or
never, returns it, asks for an extension, resolves, the citizen is called back and is satisfied or not).
:func:`replay` runs it through the same code a live case goes through — the dispatcher's rules, the
aggregate's methods with their ``now``, and the SLA ladder as the scheduler fires it (each deadline at the
moment it falls due, before the next scripted step) — so late responses, escalations, supervision orders,
returns, redo and callbacks come out as they would live, audit trail included. Only persistence differs:
a day of cases is written with multi-row inserts in one transaction instead of one unit of work per step
(a year of Haikou is ~1.9 million cases), and no bus events are published (this is history).

Demo rows carry ``external_ref`` starting with :data:`DEMO_REF`; :func:`delete_demo_orders` removes them.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy.orm import Session

from routing.dispatch import Dispatcher
from routing.domain.enums import (
    AssignmentRole,
    CallbackOutcome,
    CaseType,
    Channel,
    DeadlineKind,
    RequestKind,
    Urgency,
)
from routing.domain.errors import DomainError
from routing.domain.model import Actor, Deadline, Target, WorkOrder
from routing.domain.sla import HAIKOU, SlaPolicy, WorkCalendar
from routing.orm import (
    Category,
    Unit,
    number_counters,
    number_sequence,
    order_alarms,
    order_assignments,
    order_audit,
    order_callbacks,
    order_cards,
    order_deadlines,
    order_negotiations,
    order_requests,
    order_supervisions,
    work_orders,
)
from routing.scheduler import _escalation_target

DEMO_REF = "demo:"


@dataclass(frozen=True)
class CaseScript:
    accepted_at: datetime
    channel: Channel
    category_path: str
    description: str
    location_text: str
    district: str | None
    phone: str
    accepted_by: str
    external_ref: str
    call_id: str | None = None
    case_type: CaseType | None = None
    on_the_spot: str | None = None  # a consultation answered from the knowledge base
    ack_minutes: float | None = None  # each unit acknowledges this long after dispatch; None: never
    return_after_minutes: float | None = None  # the lead unit asks to return the case (退单)
    return_approved: bool = False
    extension_days: int | None = None
    resolve_hours: float | None = None  # after acknowledgement; None: still in hand
    callback_hours: float = 24.0  # after resolution
    callback_outcome: CallbackOutcome | None = None  # None: no callback yet
    callback_solved: bool | None = True


@dataclass
class ReplayResult:
    numbers: list[str] = field(default_factory=list)  # in script order
    rows: int = 0
    errors: int = 0


class Replayer:
    """Holds what every replay needs: the dispatcher, the SLA policy and calendar, units and categories."""

    def __init__(
        self, session: Session, dispatcher: Dispatcher, policy: SlaPolicy, calendar: WorkCalendar
    ) -> None:
        self.dispatcher = dispatcher
        self.policy = policy
        self.calendar = calendar
        self.units = {u.code: u for u in session.scalars(select(Unit))}
        self.categories = {c.path: (c.id, c.case_type) for c in session.scalars(select(Category))}
        self.district_unit = {u.district: u.code for u in self.units.values() if u.kind == "district"}

    def replay(self, session: Session, scripts: Sequence[CaseScript], now: datetime) -> ReplayResult:
        result = ReplayResult()
        numbers = _NumberBlock(session, len(scripts) * 2)
        orders: list[WorkOrder] = []
        for script in scripts:
            try:
                order = self._run(script, now, numbers)
            except DomainError:
                result.errors += 1
                result.numbers.append("")
                continue
            orders.append(order)
            result.numbers.append(order.number)
        result.rows = _persist(session, orders)
        return result

    # ---- one case ------------------------------------------------------------------------------
    def _run(self, s: CaseScript, now: datetime, numbers: _NumberBlock) -> WorkOrder:
        cat = self.categories.get(s.category_path)
        t0 = s.accepted_at
        agent = Actor(s.accepted_by, "agent")
        routing = self.dispatcher.route(cat[0] if cat else None, s.district, s.description, s.location_text)
        case_type = s.case_type or CaseType(cat[1] if cat else "consultation")
        urgent = routing.urgent_class is not None
        order = WorkOrder(
            number=numbers.next("HK", t0),
            case_type=case_type,
            channel=s.channel,
            urgency=Urgency.URGENT if urgent else Urgency.NORMAL,
            urgent_class=routing.urgent_class,
            category_id=cat[0] if cat else None,
            category_path=s.category_path if cat else "",
            title=s.description.split("，", 1)[0][:40],
            description=s.description,
            citizen_phone=s.phone,
            location_text=s.location_text,
            district=s.district or routing.district,
            accepted_at=t0,
            accepted_by=s.accepted_by,
            external_ref=s.external_ref,
            call_ids=[s.call_id] if s.call_id else [],
        )
        order.open(agent, t0)
        if s.on_the_spot:
            order.answer_on_the_spot(agent, t0, s.on_the_spot)
            return order
        order.dispatch(agent, t0, routing.targets, self.policy, self.calendar, "；".join(routing.reasons))
        sup = Actor("demo:supervisor", "supervisor")
        t = t0
        if s.return_after_minutes is not None:
            t = t0 + timedelta(minutes=s.return_after_minutes)
            if not self._at(order, t, now, numbers):
                return order
            lead = order.lead_unit or ""
            order.request_return(_unit(lead), t, lead, "经核实，该事项不属于本单位职责范围")
            t += timedelta(minutes=60)
            if not self._at(order, t, now, numbers):
                return order
            targets = None
            if s.return_approved:
                new = self.district_unit.get(order.district or "", "district.longhua")
                if new == lead:
                    new = "city.enforcement"
                targets = [Target(new, AssignmentRole.LEAD)]
            order.rule_on_return(
                sup,
                t,
                s.return_approved,
                "经核定改派" if s.return_approved else "属本单位职责，退回承办",
                targets,
                self.policy,
                self.calendar,
            )
        if s.ack_minutes is None:
            self._at(order, now, now, numbers)
            return order
        # Urgent classes have a 10-15 minute clock and a prepared plan: units answer them faster.
        speed = 0.4 if urgent else 1.0
        acked = t + timedelta(minutes=s.ack_minutes * speed)
        if not self._acknowledge(order, acked, now, numbers):
            return order
        lead = order.lead_unit or ""
        if s.extension_days:
            at = acked + timedelta(hours=2)
            if not self._at(order, at, now, numbers):
                return order
            order.request_extension(_unit(lead), at, lead, s.extension_days, "需协调多个部门现场核查")
            at += timedelta(hours=3)
            if not self._at(order, at, now, numbers):
                return order
            order.decide_request(sup, at, None, RequestKind.EXTENSION, True, "同意延期", self.calendar)
        if s.resolve_hours is None:
            self._at(order, now, now, numbers)
            return order
        resolved = acked + timedelta(hours=s.resolve_hours * (0.25 if urgent else 1.0))
        if not self._at(order, resolved, now, numbers):
            return order
        order.resolve(
            _unit(lead), resolved, lead, "已安排工作人员到现场核实处理，问题已解决，并已电话告知市民。"
        )
        if s.callback_outcome is None:
            return order
        called = resolved + timedelta(hours=s.callback_hours)
        if not self._at(order, called, now, numbers):
            return order
        qa = Actor("demo:qa", "agent")
        order.record_callback(
            qa, called, s.callback_outcome, s.callback_solved, None, "", self.policy, self.calendar
        )
        if order.state.value == "dispatched":  # reopened (重办): the unit tries again, faster
            again = called + timedelta(minutes=min(s.ack_minutes, 15))
            if not self._acknowledge(order, again, now, numbers):
                return order
            done = again + timedelta(hours=max(2.0, s.resolve_hours / 2))
            if not self._at(order, done, now, numbers):
                return order
            order.resolve(_unit(lead), done, lead, "重新安排处理，问题已解决。")
            called = done + timedelta(hours=s.callback_hours)
            if self._at(order, called, now, numbers):
                order.record_callback(
                    qa,
                    called,
                    CallbackOutcome.BASICALLY_SATISFIED,
                    True,
                    None,
                    "",
                    self.policy,
                    self.calendar,
                )
        return order

    def _acknowledge(self, order: WorkOrder, at: datetime, now: datetime, numbers: _NumberBlock) -> bool:
        if not self._at(order, at, now, numbers):
            return False
        for a in order.active_assignments:
            if a.acknowledged_at is None:
                order.acknowledge(_unit(a.unit_code), at, a.unit_code)
        for sup in list(order.supervisions):
            if sup.state.value == "issued":
                order.acknowledge_supervision(_unit(sup.unit_code), at, sup.number, sup.unit_code)
        return True

    def _at(self, order: WorkOrder, t: datetime, now: datetime, numbers: _NumberBlock) -> bool:
        """Fire the deadlines due up to ``t`` (or ``now``) as the scheduler would; False when ``t`` is
        still in the future (the script stops there: that step has not happened yet)."""
        horizon = min(t, now)
        while True:
            due = [d for d in order.pending_deadlines() if d.due_at <= horizon]
            if not due:
                break
            deadline = min(due, key=lambda d: d.due_at)
            if deadline.kind is DeadlineKind.SUPERVISION_ACK and self._cooperates(deadline):
                # Most units sign a supervision order well within its hour: acknowledged, not referred.
                sup = order._supervision(deadline.supervision_number or "")
                at = sup.issued_at + timedelta(minutes=10 + zlib.crc32(sup.number.encode()) % 40)
                order.acknowledge_supervision(_unit(sup.unit_code), at, sup.number, sup.unit_code)
                continue
            order.fire_deadline(
                deadline,
                deadline.due_at,
                self.policy,
                self.calendar,
                escalation_target=self._escalation(deadline),
                supervision_number=partial(numbers.next, "DB", deadline.due_at),
            )
        return t <= now

    @staticmethod
    def _cooperates(deadline: Deadline) -> bool:
        return zlib.crc32((deadline.supervision_number or "").encode()) % 100 < 96

    def _escalation(self, deadline: Deadline) -> str:
        return _escalation_target(self.units, deadline)


def _unit(code: str) -> Actor:
    return Actor(f"demo:{code}", "department", code)


class _NumberBlock:
    """Order and supervision numbers drawn in blocks from routing's one counter (see NumberAllocator)."""

    def __init__(self, session: Session, size: int) -> None:
        self.session = session
        self.size = max(size, 1)
        self._values: list[int] = []

    def next(self, kind: str, at: datetime) -> str:
        if not self._values:
            self._values = _draw(self.session, self.size)
        return f"{kind}{at.astimezone(HAIKOU):%Y%m%d}{self._values.pop(0):07d}"


def _draw(session: Session, n: int) -> list[int]:
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            select(number_sequence.next_value()).select_from(text(f"generate_series(1, {int(n)})"))
        )
        return [int(v) for (v,) in rows]
    top = session.execute(
        update(number_counters)
        .where(number_counters.c.prefix == "all")
        .values(value=number_counters.c.value + n)
        .returning(number_counters.c.value)
    ).scalar_one_or_none()
    if top is None:
        session.execute(insert(number_counters).values(prefix="all", value=n))
        top = n
    return list(range(top - n + 1, top + 1))


# ---- persistence ------------------------------------------------------------------------------------
_CHILDREN: tuple[tuple[str, Table], ...] = (
    ("assignments", order_assignments),
    ("deadlines", order_deadlines),
    ("alarms", order_alarms),
    ("requests", order_requests),
    ("callbacks", order_callbacks),
    ("supervisions", order_supervisions),
    ("cards", order_cards),
    ("negotiations", order_negotiations),
    ("history", order_audit),
)


def _values(obj: Any, table: Table, **fixed: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in table.c:
        if column.name == "id":
            continue
        row[column.name] = fixed[column.name] if column.name in fixed else getattr(obj, column.name, None)
    return row


def _persist(session: Session, orders: list[WorkOrder]) -> int:
    if not orders:
        return 0
    rows = [_values(o, work_orders, version=1) for o in orders]
    ids = (
        session.execute(insert(work_orders).returning(work_orders.c.id, sort_by_parameter_order=True), rows)
        .scalars()
        .all()
    )
    total = len(rows)
    for attr, table in _CHILDREN:
        child_rows = [
            _values(child, table, order_id=order_id)
            for order, order_id in zip(orders, ids, strict=True)
            for child in getattr(order, attr)
        ]
        if child_rows:
            session.execute(insert(table), child_rows)
            total += len(child_rows)
    return total


def delete_demo_orders(session: Session, prefix: str = DEMO_REF) -> int:
    """Remove every order the demo generator wrote, with its children and audit trail.

    The audit table refuses DELETE (append-only triggers); for demo rows only, the trigger is switched off
    inside this transaction and on again before it commits, so no real record can be removed on the way.
    """
    ids = select(work_orders.c.id).where(work_orders.c.external_ref.startswith(prefix)).scalar_subquery()
    dialect = session.get_bind().dialect.name
    _audit_guard(session, dialect, enable=False)
    for _attr, table in reversed(_CHILDREN):
        session.execute(delete(table).where(table.c.order_id.in_(ids)))
    result = session.execute(delete(work_orders).where(work_orders.c.external_ref.startswith(prefix)))
    count = getattr(result, "rowcount", 0)
    _audit_guard(session, dialect, enable=True)
    return int(count or 0)


def _audit_guard(session: Session, dialect: str, *, enable: bool) -> None:
    if dialect == "postgresql":
        verb = "ENABLE" if enable else "DISABLE"
        session.execute(text(f"ALTER TABLE order_audit {verb} TRIGGER order_audit_no_change"))
    elif enable:
        session.execute(
            text(
                "CREATE TRIGGER order_audit_no_delete BEFORE DELETE ON order_audit "
                "BEGIN SELECT RAISE(ABORT, 'order_audit is append-only (DELETE refused)'); END"
            )
        )
    else:
        session.execute(text("DROP TRIGGER IF EXISTS order_audit_no_delete"))


def replayer_for(session: Session, policy: SlaPolicy, calendar: WorkCalendar) -> Replayer:
    """A replayer with the dispatcher built from the reference data in the database."""
    from routing.catalogue import load_dispatcher

    return Replayer(session, load_dispatcher(session), policy, calendar)
