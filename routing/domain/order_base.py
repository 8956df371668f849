"""The work order's state and the helpers every part of its lifecycle uses.

Every change goes through :meth:`WorkOrderBase._record`, which appends an :class:`AuditEvent` (who, when, what,
before/after) to the order's history, persisted with the order in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from routing.domain import events as ev
from routing.domain.catalogue import DispatchCheck
from routing.domain.enums import (
    OPEN_STATES,
    AlarmKind,
    AssignmentRole,
    CaseType,
    Channel,
    DeadlineKind,
    OrderState,
    RequestKind,
    RequestStatus,
    SupervisionState,
    Urgency,
)
from routing.domain.errors import IllegalTransition, InvalidInput
from routing.domain.labels import ACTION_LABELS_ZH, STATE_LABELS_ZH
from routing.domain.records import (
    Actor,
    Alarm,
    Assignment,
    AuditEvent,
    CallbackRecord,
    Card,
    Deadline,
    Negotiation,
    OrderRequest,
    SupervisionOrder,
    Target,
)
from routing.domain.sla import SlaPolicy, SlaTerms, WorkCalendar, add_working_days, yellow_card_at

# Roles that act for a unit (API keys and web desk accounts): they never see a confidential caller.
UNIT_ACTOR_ROLES = frozenset({"department", "department_head", "dept_handler", "dept_head"})

# The clocks a unit runs on while it holds an order: stopped together on re-dispatch and on a return.
UNIT_CLOCKS = (
    DeadlineKind.RESPONSE,
    DeadlineKind.RESOLUTION,
    DeadlineKind.ESCALATION,
    DeadlineKind.RESPONSE_WARNING,
    DeadlineKind.RESOLUTION_WARNING,
)


@dataclass(eq=False)
class WorkOrderBase:
    number: str
    case_type: CaseType
    channel: Channel
    urgency: Urgency
    category_id: int | None
    category_path: str
    title: str
    description: str
    citizen_phone: str
    location_text: str
    district: str | None
    accepted_at: datetime
    accepted_by: str
    citizen_name: str = ""
    urgent_class: str | None = None
    external_ref: str | None = None
    # GB/T 33358-2016: the caller asked that the units not learn who they are; name and number are then
    # shown to the hotline's own staff only (every view audited), never to a unit, not even on request.
    confidential: bool = False
    catalogue_version: str | None = None  # the dispatch catalogue (派单目录) edition of the last dispatch
    state: OrderState = OrderState.ACCEPTED
    reply: str = ""
    resolution_kind: str | None = None
    redo_count: int = 0
    escalation_level: int = 0
    dispatch_round: int = 0
    merged_into: str | None = None  # the master order's number when merged (并单)
    first_dispatched_at: datetime | None = None
    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    updated_at: datetime | None = None
    call_ids: list[str] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    requests: list[OrderRequest] = field(default_factory=list)
    callbacks: list[CallbackRecord] = field(default_factory=list)
    supervisions: list[SupervisionOrder] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    negotiations: list[Negotiation] = field(default_factory=list)
    history: list[AuditEvent] = field(default_factory=list)
    id: int | None = None
    version: int = 1

    def __post_init__(self) -> None:
        self.events: list[ev.Event] = []

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def lead_unit(self) -> str | None:
        for a in self.active_assignments:
            if a.role is AssignmentRole.LEAD:
                return a.unit_code
        return None

    @property
    def active_assignments(self) -> list[Assignment]:
        return [a for a in self.assignments if a.active]

    def pending_deadlines(self, kind: DeadlineKind | None = None) -> list[Deadline]:
        return [d for d in self.deadlines if d.pending and (kind is None or d.kind is kind)]

    def pending_request(self, kind: RequestKind) -> OrderRequest | None:
        for r in self.requests:
            if r.kind is kind and r.status is RequestStatus.PENDING:
                return r
        return None

    def open_supervision(self) -> SupervisionOrder | None:
        for s in self.supervisions:
            if s.state in (SupervisionState.ISSUED, SupervisionState.ACKNOWLEDGED):
                return s
        return None

    def _record(
        self,
        actor: Actor,
        now: datetime,
        action: str,
        before: dict[str, Any],
        after: dict[str, Any],
        note: str = "",
    ) -> None:
        self.history.append(
            AuditEvent(
                seq=len(self.history) + 1,
                at=now,
                actor=actor.name,
                actor_role=actor.role,
                action=action,
                before=_jsonable(before),
                after=_jsonable(after),
                note=note,
            )
        )
        self.updated_at = now

    def _set_state(
        self, new: OrderState, actor: Actor, now: datetime, action: str, note: str = "", **changes: Any
    ) -> None:
        before: dict[str, Any] = {"state": self.state}
        after: dict[str, Any] = {"state": new}
        for name, value in changes.items():
            before[name] = getattr(self, name)
            after[name] = value
            setattr(self, name, value)
        self.state = new
        self._record(actor, now, action, before, after, note)

    def _require(self, action: str, *allowed: OrderState) -> None:
        if self.state not in allowed:
            raise IllegalTransition(
                f"工单 {self.number} 当前状态为「{STATE_LABELS_ZH[self.state]}」，不能{ACTION_LABELS_ZH.get(action, action)}",
                f"work order {self.number} is {self.state.value}; cannot {action}",
                state=self.state.value,
                action=action,
            )

    def _require_unit(self, actor: Actor, unit_code: str) -> Assignment:
        for a in self.active_assignments:
            if a.unit_code == unit_code:
                return a
        raise IllegalTransition(
            f"单位 {unit_code} 不是工单 {self.number} 的承办单位",
            f"unit {unit_code} is not assigned to work order {self.number}",
            unit=unit_code,
            actor=actor.name,
        )

    def _require_lead(self, actor: Actor, unit_code: str) -> None:
        assignment = self._require_unit(actor, unit_code)
        if assignment.role is not AssignmentRole.LEAD:
            raise IllegalTransition(
                f"只有主办单位可以执行此操作（{unit_code} 为协办）",
                f"only the lead unit may do this ({unit_code} assists)",
            )

    def _dispatch_round(
        self,
        actor: Actor,
        now: datetime,
        targets: list[Target],
        policy: SlaPolicy,
        calendar: WorkCalendar,
        *,
        reopened: bool,
        action: str,
        note: str = "",
        check: DispatchCheck | None = None,
    ) -> None:
        """A new round: every unit's clocks restart. ``check`` (when the units change) holds the catalogue
        edition in force and refuses a functional department's matter led by a street or town."""
        leads = [t for t in targets if t.role is AssignmentRole.LEAD]
        if len(leads) != 1:
            raise InvalidInput(
                "派单须有且只有一个主办单位",
                "a dispatch needs exactly one lead unit",
                leads=[t.unit_code for t in leads],
            )
        codes = [t.unit_code for t in targets]
        if len(set(codes)) != len(codes):
            raise InvalidInput("同一单位不能重复派单", "a unit appears twice in the dispatch", units=codes)
        if check is not None:
            check.refuse_push_down(targets)
            self.catalogue_version = check.catalogue_version
        before_units = [a.unit_code for a in self.active_assignments]
        for a in self.active_assignments:
            a.active = False
        for d in self.pending_deadlines():
            if d.kind in UNIT_CLOCKS or d.kind is DeadlineKind.OBJECTION_REVIEW:
                d.cancelled_at = now
        for r in self.requests:  # a new round settles the assisting units' pending objections
            if r.kind is RequestKind.OBJECTION and r.status is RequestStatus.PENDING:
                r.decide(r.unit_code not in codes, actor.name, now, "随重新派单处理")
        self.dispatch_round += 1
        terms = policy.terms_for(self.case_type, self.urgency, self.urgent_class, reopened=reopened)
        response_due = now + timedelta(minutes=terms.response_minutes)
        resolution_due = add_working_days(now, terms.resolution_working_days, calendar)
        for t in targets:
            self.assignments.append(Assignment(t.unit_code, t.role, now, self.dispatch_round))
            self.deadlines.append(
                Deadline(DeadlineKind.RESPONSE, response_due, t.unit_code, level=1, created_at=now)
            )
            self._plan_yellow_card(DeadlineKind.RESPONSE, response_due, t.unit_code, terms, calendar, now)
        self.deadlines.append(
            Deadline(DeadlineKind.RESOLUTION, resolution_due, leads[0].unit_code, created_at=now)
        )
        self._plan_yellow_card(
            DeadlineKind.RESOLUTION, resolution_due, leads[0].unit_code, terms, calendar, now
        )
        if self.first_dispatched_at is None:
            self.first_dispatched_at = now
        self.escalation_level = 0
        self._set_state(
            OrderState.DISPATCHED,
            actor,
            now,
            action,
            note,
            response_due_at=response_due,
            resolution_due_at=resolution_due,
        )
        self.history[-1].before["units"] = before_units
        self.history[-1].after["units"] = [f"{t.unit_code}:{t.role.value}" for t in targets]
        if check is not None and check.catalogue_version:
            self.history[-1].after["catalogue"] = check.catalogue_version
        self.events.append(
            ev.WorkOrderDispatched(
                self.number,
                leads[0].unit_code,
                [t.unit_code for t in targets if t.role is AssignmentRole.ASSIST],
                response_due,
                now,
            )
        )

    def _plan_yellow_card(
        self,
        clock: DeadlineKind,
        due: datetime,
        unit: str,
        terms: SlaTerms,
        calendar: WorkCalendar,
        now: datetime,
    ) -> None:
        """A durable warning deadline beside the clock; the scheduler fires it once and a yellow card is
        shown (none when the clock is shorter than its warning)."""
        at = yellow_card_at(clock.value, due, terms, calendar, now)
        if at is not None:
            kind = (
                DeadlineKind.RESPONSE_WARNING
                if clock is DeadlineKind.RESPONSE
                else DeadlineKind.RESOLUTION_WARNING
            )
            self.deadlines.append(Deadline(kind, at, unit, created_at=now))

    def _stop_response_clock(self, unit: str, now: datetime) -> None:
        """The unit responded (acknowledged, or objected): its response clock, ladder and warning stop."""
        for d in self.pending_deadlines():
            if d.unit_code == unit and d.kind in (
                DeadlineKind.RESPONSE,
                DeadlineKind.ESCALATION,
                DeadlineKind.RESPONSE_WARNING,
            ):
                d.cancelled_at = now

    def _clear_yellow_cards(self, clock: DeadlineKind, unit: str, now: datetime) -> None:
        """The unit met the deadline it was warned about: its yellow card no longer shows."""
        for card in self.cards:
            if card.clock is clock and card.unit_code == unit and card.cleared_at is None:
                card.cleared_at = now

    def _alarm(
        self,
        actor: Actor,
        now: datetime,
        kind: AlarmKind,
        level: int,
        unit: str,
        to: str,
        zh: str,
        en: str,
        *,
        audit: bool = True,
    ) -> None:
        self.alarms.append(Alarm(kind, level, now, unit or None, to, zh, en))
        if audit:
            self._record(
                actor,
                now,
                f"alarm_{kind.value}",
                {"escalation_level": self.escalation_level},
                {"escalation_level": max(self.escalation_level, level), "to": to},
                zh,
            )
        self.events.append(ev.SlaAlarmRaised(self.number, kind.value, level, unit, to, zh, now))

    def _supervision(self, number: str) -> SupervisionOrder:
        for s in self.supervisions:
            if s.number == number:
                return s
        raise InvalidInput(f"没有督办件 {number}", f"no supervision order {number}")

    def _close_supervisions(self, now: datetime) -> None:
        for s in self.supervisions:
            if s.state in (SupervisionState.ISSUED, SupervisionState.ACKNOWLEDGED):
                s.state = SupervisionState.RESOLVED
                s.resolved_at = now
        for d in self.pending_deadlines():
            if d.kind in (DeadlineKind.SUPERVISION_ACK, DeadlineKind.SUPERVISION_RESOLUTION):
                d.cancelled_at = now

    def snapshot(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "state": self.state,
            "case_type": self.case_type,
            "channel": self.channel,
            "urgency": self.urgency,
            "urgent_class": self.urgent_class,
            "category": self.category_path,
            "title": self.title,
            "description": self.description,
            "citizen_phone": self.citizen_phone,
            "location": self.location_text,
            "district": self.district,
            "confidential": self.confidential,
        }


def _require_text(value: str, zh: str, en: str) -> None:
    if not value or not value.strip():
        raise InvalidInput(f"{zh}不能为空", f"{en} must not be empty")
    if len(value) > 5000:
        raise InvalidInput(f"{zh}过长（最多 5000 字）", f"{en} is too long (5000 characters at most)")


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
        elif hasattr(value, "value") and not isinstance(value, (int, float, str)):
            out[key] = value.value
        elif isinstance(value, str | int | float | bool | type(None) | list | dict):
            out[key] = value
        else:
            out[key] = str(value)
    return out
