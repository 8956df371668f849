"""The work order aggregate and its children.

Every change goes through :meth:`WorkOrder._record`, which appends an :class:`AuditEvent` (who, when, what,
before/after) to the order's history. The history is persisted with the order in the same transaction, so
no state change can exist without its audit record. Deadlines are durable children too: a restart loses no
clock, and the scheduler fires each deadline exactly once (see ``routing.scheduler``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from routing.domain import events as ev
from routing.domain.enums import (
    OPEN_STATES,
    AlarmKind,
    AssignmentRole,
    CallbackOutcome,
    CaseType,
    Channel,
    DeadlineKind,
    OrderState,
    RequestKind,
    RequestStatus,
    SupervisionState,
    Urgency,
)
from routing.domain.errors import Conflict, IllegalTransition, InvalidInput
from routing.domain.sla import SlaPolicy, WorkCalendar, add_working_days


@dataclass(frozen=True)
class Actor:
    """Who did something: a user id and role, or a system component such as ``system:scheduler``."""

    name: str
    role: str
    unit_code: str | None = None

    @classmethod
    def system(cls, component: str) -> Actor:
        return cls(name=f"system:{component}", role="system")


@dataclass(frozen=True)
class Target:
    """A unit to dispatch to, with its role in joint handling."""

    unit_code: str
    role: AssignmentRole = AssignmentRole.LEAD


@dataclass(eq=False)
class AuditEvent:
    seq: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    before: dict[str, Any]
    after: dict[str, Any]
    note: str = ""
    id: int | None = None


@dataclass(eq=False)
class Assignment:
    unit_code: str
    role: AssignmentRole
    assigned_at: datetime
    round: int  # 1 for the first dispatch, +1 for each redo/re-dispatch
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    active: bool = True
    id: int | None = None


@dataclass(eq=False)
class Deadline:
    kind: DeadlineKind
    due_at: datetime
    unit_code: str | None
    level: int = 0  # rung of the escalation ladder this deadline leads to
    supervision_number: str | None = None
    created_at: datetime | None = None
    fired_at: datetime | None = None
    cancelled_at: datetime | None = None
    id: int | None = None
    order_id: int | None = None

    @property
    def pending(self) -> bool:
        return self.fired_at is None and self.cancelled_at is None


@dataclass(eq=False)
class Alarm:
    kind: AlarmKind
    level: int
    raised_at: datetime
    unit_code: str | None
    addressed_to: str  # the unit code or role that must see it ("hotline", a unit head, ...)
    message_zh: str
    message_en: str
    cleared_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class OrderRequest:
    kind: RequestKind
    unit_code: str
    requested_at: datetime
    requested_by: str
    reason: str
    status: RequestStatus = RequestStatus.PENDING
    extend_days: int | None = None
    appeal_target: str | None = None  # what an appeal contests: "callback" or "response_breach"
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str = ""
    id: int | None = None


@dataclass(eq=False)
class CallbackRecord:
    at: datetime
    by: str
    by_role: str  # agent, auto (IVR survey), department_head
    outcome: CallbackOutcome
    solved: bool | None
    rating: int | None  # 1..5 where the survey asked for it
    note: str = ""
    recording_ref: str | None = None
    unit_code: str | None = None  # the lead unit at the time; counts in its scores
    excluded_from_scores: bool = False  # set when an appeal against it is approved
    id: int | None = None


@dataclass(eq=False)
class SupervisionOrder:
    """督办件: a tracked order of its own, issued when a unit does not respond or resolve in time."""

    number: str
    unit_code: str
    issued_at: datetime
    reason: str
    state: SupervisionState = SupervisionState.ISSUED
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    referred_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class WorkOrder:
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
    state: OrderState = OrderState.ACCEPTED
    reply: str = ""
    resolution_kind: str | None = None
    redo_count: int = 0
    escalation_level: int = 0
    dispatch_round: int = 0
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
    history: list[AuditEvent] = field(default_factory=list)
    id: int | None = None
    version: int = 1

    def __post_init__(self) -> None:
        self.events: list[ev.Event] = []

    # ---- reading -------------------------------------------------------------------------------------
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

    # ---- the audit record ----------------------------------------------------------------------------
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

    # ---- intake --------------------------------------------------------------------------------------
    def open(self, actor: Actor, now: datetime) -> None:
        """The first audit record: the case as accepted."""
        self._record(actor, now, "accept", {}, self.snapshot())
        self.events.append(ev.WorkOrderAccepted(self.number, self.channel.value, self.urgency.value, now))

    def answer_on_the_spot(self, actor: Actor, now: datetime, answer: str) -> None:
        """A consultation answered by the agent from the knowledge base: closed without a dispatch."""
        self._require("answer_on_the_spot", OrderState.ACCEPTED)
        _require_text(answer, "答复内容", "answer")
        self._set_state(
            OrderState.CLOSED,
            actor,
            now,
            "answer_on_the_spot",
            reply=answer,
            resolution_kind="on_the_spot",
            closed_at=now,
            resolved_at=now,
        )
        self.events.append(ev.WorkOrderClosed(self.number, "on_the_spot", now))

    # ---- dispatch ------------------------------------------------------------------------------------
    def dispatch(
        self,
        actor: Actor,
        now: datetime,
        targets: list[Target],
        policy: SlaPolicy,
        calendar: WorkCalendar,
        note: str = "",
    ) -> None:
        self._require("dispatch", OrderState.ACCEPTED)
        self._dispatch_round(
            actor, now, targets, policy, calendar, reopened=False, action="dispatch", note=note
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
    ) -> None:
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
        before_units = [a.unit_code for a in self.active_assignments]
        for a in self.active_assignments:
            a.active = False
        for d in self.pending_deadlines():
            if d.kind in (DeadlineKind.RESPONSE, DeadlineKind.RESOLUTION, DeadlineKind.ESCALATION):
                d.cancelled_at = now
        self.dispatch_round += 1
        terms = policy.terms_for(self.case_type, self.urgency, self.urgent_class, reopened=reopened)
        response_due = now + timedelta(minutes=terms.response_minutes)
        resolution_due = add_working_days(now, terms.resolution_working_days, calendar)
        for t in targets:
            self.assignments.append(Assignment(t.unit_code, t.role, now, self.dispatch_round))
            self.deadlines.append(
                Deadline(DeadlineKind.RESPONSE, response_due, t.unit_code, level=1, created_at=now)
            )
        self.deadlines.append(
            Deadline(DeadlineKind.RESOLUTION, resolution_due, leads[0].unit_code, created_at=now)
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
        self.events.append(
            ev.WorkOrderDispatched(
                self.number,
                leads[0].unit_code,
                [t.unit_code for t in targets if t.role is AssignmentRole.ASSIST],
                response_due,
                now,
            )
        )

    # ---- the unit's work -----------------------------------------------------------------------------
    def acknowledge(self, actor: Actor, now: datetime, unit_code: str) -> None:
        """签收: the unit responds. Stops that unit's response clock and any escalation running for it."""
        self._require("acknowledge", OrderState.DISPATCHED, OrderState.ACKNOWLEDGED, OrderState.IN_PROGRESS)
        assignment = self._require_unit(actor, unit_code)
        if assignment.acknowledged_at is not None:
            raise Conflict(f"单位 {unit_code} 已签收", f"unit {unit_code} has already acknowledged")
        assignment.acknowledged_at = now
        assignment.acknowledged_by = actor.name
        for d in self.pending_deadlines():
            if d.unit_code == unit_code and d.kind in (DeadlineKind.RESPONSE, DeadlineKind.ESCALATION):
                d.cancelled_at = now
        for alarm in self.alarms:
            if (
                alarm.unit_code == unit_code
                and alarm.cleared_at is None
                and alarm.kind in (AlarmKind.RESPONSE_BREACH, AlarmKind.ESCALATED)
            ):
                alarm.cleared_at = now
        if assignment.role is AssignmentRole.LEAD and self.state is OrderState.DISPATCHED:
            self._set_state(
                OrderState.ACKNOWLEDGED, actor, now, "acknowledge", responded_at=self.responded_at or now
            )
        else:
            self._record(
                actor,
                now,
                "acknowledge",
                {"unit": unit_code, "acknowledged": False},
                {"unit": unit_code, "acknowledged": True},
            )
        self.events.append(ev.WorkOrderAcknowledged(self.number, unit_code, now))

    def start_work(self, actor: Actor, now: datetime, unit_code: str, note: str = "") -> None:
        self._require("start_work", OrderState.ACKNOWLEDGED)
        self._require_lead(actor, unit_code)
        self._set_state(OrderState.IN_PROGRESS, actor, now, "start_work", note)

    def add_progress_note(self, actor: Actor, now: datetime, unit_code: str, note: str) -> None:
        self._require("add_progress_note", OrderState.ACKNOWLEDGED, OrderState.IN_PROGRESS)
        self._require_unit(actor, unit_code)
        _require_text(note, "办理进展", "progress note")
        self._record(actor, now, "progress_note", {}, {"unit": unit_code}, note)

    def resolve(self, actor: Actor, now: datetime, unit_code: str, reply: str) -> None:
        """办结: the lead unit resolves with its reply to the citizen. A callback is now due."""
        self._require("resolve", OrderState.ACKNOWLEDGED, OrderState.IN_PROGRESS)
        self._require_lead(actor, unit_code)
        _require_text(reply, "办理结果答复", "reply")
        for d in self.pending_deadlines(DeadlineKind.RESOLUTION):
            d.cancelled_at = now
        self._close_supervisions(now)
        self._set_state(
            OrderState.RESOLVED,
            actor,
            now,
            "resolve",
            reply=reply,
            resolved_at=now,
            resolution_kind="resolved",
        )
        self.events.append(ev.WorkOrderResolved(self.number, unit_code, now))

    def _require_lead(self, actor: Actor, unit_code: str) -> None:
        assignment = self._require_unit(actor, unit_code)
        if assignment.role is not AssignmentRole.LEAD:
            raise IllegalTransition(
                f"只有主办单位可以执行此操作（{unit_code} 为协办）",
                f"only the lead unit may do this ({unit_code} assists)",
            )

    # ---- returns (退单) and arbitration --------------------------------------------------------------
    def request_return(self, actor: Actor, now: datetime, unit_code: str, reason: str) -> None:
        self._require("return", OrderState.DISPATCHED, OrderState.ACKNOWLEDGED)
        self._require_lead(actor, unit_code)
        _require_text(reason, "退单理由", "return reason")
        self.requests.append(OrderRequest(RequestKind.RETURN, unit_code, now, actor.name, reason))
        # The hotline holds the clock while the arbitrator rules: the unit's clocks stop.
        for d in self.pending_deadlines():
            if d.kind in (DeadlineKind.RESPONSE, DeadlineKind.ESCALATION, DeadlineKind.RESOLUTION):
                d.cancelled_at = now
        self._set_state(OrderState.RETURNED, actor, now, "return", reason)
        self.events.append(ev.WorkOrderReturned(self.number, unit_code, reason, now))

    def rule_on_return(
        self,
        actor: Actor,
        now: datetime,
        approve: bool,
        note: str,
        targets: list[Target] | None,
        policy: SlaPolicy,
        calendar: WorkCalendar,
    ) -> None:
        """The hotline arbitrator rules: approve and re-dispatch elsewhere, or reject and send it back."""
        self._require("rule_on_return", OrderState.RETURNED)
        request = self.pending_request(RequestKind.RETURN)
        assert request is not None  # RETURNED always has one
        if approve:
            if not targets:
                raise InvalidInput("同意退单须指定新的承办单位", "approving a return needs the new unit(s)")
            if request.unit_code in [t.unit_code for t in targets if t.role is AssignmentRole.LEAD]:
                raise InvalidInput(
                    "同意退单后不能再派给原单位主办",
                    "an approved return cannot go back to the same lead unit",
                )
        else:
            targets = [Target(a.unit_code, a.role) for a in self.active_assignments]
        request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        request.decided_at = now
        request.decided_by = actor.name
        request.decision_note = note
        self._dispatch_round(
            actor,
            now,
            targets,
            policy,
            calendar,
            reopened=False,
            action="return_approved" if approve else "return_rejected",
            note=note,
        )

    # ---- extension (延期) and appeal (申诉) requests ------------------------------------------------
    def request_extension(self, actor: Actor, now: datetime, unit_code: str, days: int, reason: str) -> None:
        self._require("request_extension", OrderState.ACKNOWLEDGED, OrderState.IN_PROGRESS)
        self._require_lead(actor, unit_code)
        if not 1 <= days <= 30:
            raise InvalidInput(
                "延期天数须在 1 至 30 个工作日之间", "extension must be 1 to 30 working days", days=days
            )
        _require_text(reason, "延期理由", "extension reason")
        if self.pending_request(RequestKind.EXTENSION):
            raise Conflict("已有待审批的延期申请", "an extension request is already pending")
        self.requests.append(
            OrderRequest(RequestKind.EXTENSION, unit_code, now, actor.name, reason, extend_days=days)
        )
        self._record(actor, now, "request_extension", {}, {"days": days}, reason)

    def request_appeal(self, actor: Actor, now: datetime, unit_code: str, target: str, reason: str) -> None:
        if target not in ("callback", "response_breach"):
            raise InvalidInput(
                "申诉对象须为回访评价或超时记录",
                "appeal target must be callback or response_breach",
                target=target,
            )
        if not any(a.unit_code == unit_code for a in self.assignments):
            raise IllegalTransition(
                f"单位 {unit_code} 未承办此工单", f"unit {unit_code} never handled this order"
            )
        _require_text(reason, "申诉理由", "appeal reason")
        if self.pending_request(RequestKind.APPEAL):
            raise Conflict("已有待审批的申诉", "an appeal is already pending")
        self.requests.append(
            OrderRequest(RequestKind.APPEAL, unit_code, now, actor.name, reason, appeal_target=target)
        )
        self._record(actor, now, "request_appeal", {}, {"target": target}, reason)

    def decide_request(
        self,
        actor: Actor,
        now: datetime,
        request_id: int | None,
        kind: RequestKind,
        approve: bool,
        note: str,
        calendar: WorkCalendar,
    ) -> None:
        """A supervisor approves or rejects a pending extension or appeal."""
        if kind is RequestKind.RETURN:
            raise InvalidInput("退单请走裁定流程", "returns are ruled on by arbitration")
        request = self.pending_request(kind)
        if request is None or (request_id is not None and request.id != request_id):
            raise Conflict("没有待审批的此类申请", f"no pending {kind.value} request")
        request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        request.decided_at = now
        request.decided_by = actor.name
        request.decision_note = note
        before: dict[str, Any] = {"request": kind.value, "status": "pending"}
        after: dict[str, Any] = {"request": kind.value, "status": request.status.value}
        if approve and kind is RequestKind.EXTENSION and request.extend_days:
            pending = self.pending_deadlines(DeadlineKind.RESOLUTION)
            base = self.resolution_due_at or now
            new_due = add_working_days(base, request.extend_days, calendar)
            for d in pending:
                d.cancelled_at = now
            if self.is_open:
                self.deadlines.append(
                    Deadline(DeadlineKind.RESOLUTION, new_due, request.unit_code, created_at=now)
                )
            before["resolution_due_at"] = self.resolution_due_at
            after["resolution_due_at"] = new_due
            self.resolution_due_at = new_due
        if approve and kind is RequestKind.APPEAL and request.appeal_target == "callback":
            for cb in reversed(self.callbacks):
                if cb.unit_code == request.unit_code and not cb.excluded_from_scores:
                    cb.excluded_from_scores = True
                    break
        self._record(actor, now, f"{kind.value}_{'approved' if approve else 'rejected'}", before, after, note)

    # ---- satisfaction callback (回访) ----------------------------------------------------------------
    def record_callback(
        self,
        actor: Actor,
        now: datetime,
        outcome: CallbackOutcome,
        solved: bool | None,
        rating: int | None,
        note: str,
        policy: SlaPolicy,
        calendar: WorkCalendar,
        recording_ref: str | None = None,
    ) -> None:
        """Satisfied closes the case; not solved or unsatisfied reopens it to the same unit (重办)."""
        self._require("record_callback", OrderState.RESOLVED)
        if rating is not None and not 1 <= rating <= 5:
            raise InvalidInput("满意度评分须为 1 至 5", "rating must be 1 to 5", rating=rating)
        record = CallbackRecord(
            now,
            actor.name,
            actor.role,
            outcome,
            solved,
            rating,
            note,
            recording_ref,
            unit_code=self.lead_unit,
        )
        self.callbacks.append(record)
        if outcome is CallbackOutcome.UNREACHABLE:
            self._record(actor, now, "callback_unreachable", {}, {"attempt": len(self.callbacks)}, note)
            return
        if solved is False or outcome is CallbackOutcome.UNSATISFIED:
            lead = self.lead_unit
            targets = [Target(a.unit_code, a.role) for a in self.active_assignments]
            self.redo_count += 1
            self._dispatch_round(
                actor,
                now,
                targets,
                policy,
                calendar,
                reopened=True,
                action="reopen",
                note=note or "回访不满意，重办",
            )
            self.events.append(ev.WorkOrderReopened(self.number, lead or "", now))
            return
        self._set_state(OrderState.CLOSED, actor, now, "close", note, closed_at=now)
        self.events.append(ev.WorkOrderClosed(self.number, outcome.value, now))

    def reopen(
        self, actor: Actor, now: datetime, reason: str, policy: SlaPolicy, calendar: WorkCalendar
    ) -> None:
        """A supervisor reopens a closed case (e.g. the citizen calls again about the same problem)."""
        self._require("reopen", OrderState.CLOSED)
        _require_text(reason, "重办理由", "reason")
        targets = [Target(a.unit_code, a.role) for a in self.active_assignments]
        if not targets:
            raise IllegalTransition(
                "当场答复的工单没有承办单位，请新建工单",
                "an order answered on the spot has no unit; open a new order",
            )
        self.redo_count += 1
        self._dispatch_round(
            actor, now, targets, policy, calendar, reopened=True, action="reopen", note=reason
        )
        self.events.append(ev.WorkOrderReopened(self.number, self.lead_unit or "", now))

    def link_call(self, actor: Actor, now: datetime, call_id: str) -> None:
        if call_id in self.call_ids:
            return
        self.call_ids = [*self.call_ids, call_id]
        self._record(actor, now, "link_call", {}, {"call_id": call_id})

    # ---- SLA breaches and the escalation ladder ------------------------------------------------------
    def fire_deadline(
        self,
        deadline: Deadline,
        now: datetime,
        policy: SlaPolicy,
        calendar: WorkCalendar,
        escalation_target: str,
        supervision_number: Callable[[], str],
    ) -> None:
        """Called once per due deadline by the scheduler, in the transaction that marks it fired."""
        if not deadline.pending:
            return
        deadline.fired_at = now
        actor = Actor.system("sla")
        unit = deadline.unit_code or ""
        esc = policy.escalation
        if deadline.kind is DeadlineKind.RESPONSE:
            self._alarm(
                actor,
                now,
                AlarmKind.RESPONSE_BREACH,
                1,
                unit,
                unit,
                f"工单 {self.number} 超过响应时限未签收，已通知 {unit} 负责人",
                f"work order {self.number}: no response from {unit} in time; its head is notified",
            )
            self._alarm(
                actor,
                now,
                AlarmKind.RESPONSE_BREACH,
                1,
                unit,
                "hotline",
                f"工单 {self.number} 响应超时（{unit}）",
                f"work order {self.number}: response overdue ({unit})",
                audit=False,
            )
            self.deadlines.append(
                Deadline(
                    DeadlineKind.ESCALATION,
                    deadline.due_at + timedelta(minutes=esc.district_or_bureau_head_minutes),
                    unit,
                    level=2,
                    created_at=now,
                )
            )
            self.escalation_level = max(self.escalation_level, 1)
        elif deadline.kind is DeadlineKind.ESCALATION and deadline.level == 2:
            self._alarm(
                actor,
                now,
                AlarmKind.ESCALATED,
                2,
                unit,
                escalation_target,
                f"工单 {self.number} 仍未响应，已升级至 {escalation_target} 主要负责人",
                f"work order {self.number} still unanswered; escalated to the head of {escalation_target}",
            )
            self.deadlines.append(
                Deadline(
                    DeadlineKind.ESCALATION,
                    deadline.due_at
                    + timedelta(minutes=esc.supervision_order_minutes - esc.district_or_bureau_head_minutes),
                    unit,
                    level=3,
                    created_at=now,
                )
            )
            self.escalation_level = max(self.escalation_level, 2)
        elif deadline.kind is DeadlineKind.ESCALATION:
            self._issue_supervision(
                actor, now, unit, "响应超时经升级仍未签收", policy, calendar, supervision_number
            )
        elif deadline.kind is DeadlineKind.RESOLUTION:
            self._alarm(
                actor,
                now,
                AlarmKind.RESOLUTION_BREACH,
                1,
                unit,
                unit,
                f"工单 {self.number} 超过办结时限",
                f"work order {self.number} is past its resolution deadline",
            )
            if self.open_supervision() is None:
                self._issue_supervision(
                    actor, now, unit, "超过办结时限", policy, calendar, supervision_number
                )
        else:  # a supervision order's own deadline
            self._refer_to_discipline(actor, now, deadline)

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

    def _issue_supervision(
        self,
        actor: Actor,
        now: datetime,
        unit: str,
        reason: str,
        policy: SlaPolicy,
        calendar: WorkCalendar,
        allocate_number: Callable[[], str],
    ) -> None:
        number = allocate_number()
        sup = SupervisionOrder(number, unit, now, reason)
        self.supervisions.append(sup)
        terms = policy.supervision
        self.deadlines.append(
            Deadline(
                DeadlineKind.SUPERVISION_ACK,
                now + timedelta(minutes=terms.acknowledge_minutes),
                unit,
                level=4,
                supervision_number=number,
                created_at=now,
            )
        )
        self.deadlines.append(
            Deadline(
                DeadlineKind.SUPERVISION_RESOLUTION,
                add_working_days(now, terms.resolution_working_days, calendar),
                unit,
                level=4,
                supervision_number=number,
                created_at=now,
            )
        )
        self.escalation_level = max(self.escalation_level, 3)
        self._alarm(
            actor,
            now,
            AlarmKind.SUPERVISION_ISSUED,
            3,
            unit,
            unit,
            f"已对 {unit} 下发督办件 {number}：{reason}",
            f"supervision order {number} issued to {unit}: {reason}",
        )
        self.events.append(ev.SupervisionIssued(self.number, number, unit, now))

    def acknowledge_supervision(self, actor: Actor, now: datetime, number: str, unit_code: str) -> None:
        sup = self._supervision(number)
        if sup.unit_code != unit_code:
            raise IllegalTransition(
                f"督办件 {number} 不是下发给 {unit_code} 的", f"{number} is not addressed to {unit_code}"
            )
        if sup.state is not SupervisionState.ISSUED:
            raise IllegalTransition(
                f"督办件 {number} 当前不能签收", f"supervision order {number} is {sup.state.value}"
            )
        sup.state = SupervisionState.ACKNOWLEDGED
        sup.acknowledged_at = now
        for d in self.pending_deadlines(DeadlineKind.SUPERVISION_ACK):
            if d.supervision_number == number:
                d.cancelled_at = now
        self._record(
            actor,
            now,
            "acknowledge_supervision",
            {"supervision": number, "state": "issued"},
            {"supervision": number, "state": "acknowledged"},
        )

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

    def _refer_to_discipline(self, actor: Actor, now: datetime, deadline: Deadline) -> None:
        sup = self._supervision(deadline.supervision_number or "")
        if sup.state is SupervisionState.REFERRED:
            return
        for d in self.pending_deadlines():
            if d.supervision_number == sup.number:
                d.cancelled_at = now
        before = sup.state
        sup.state = SupervisionState.REFERRED
        sup.referred_at = now
        self.escalation_level = 4
        self._alarm(
            actor,
            now,
            AlarmKind.DISCIPLINE_REFERRAL,
            4,
            sup.unit_code,
            "city.discipline",
            f"督办件 {sup.number} 逾期未办，移送市纪委监委监督",
            f"supervision order {sup.number} overdue; referred to the discipline inspection commission",
        )
        self.history[-1].before["supervision_state"] = before
        self.history[-1].after["supervision_state"] = sup.state

    # ---- snapshots for the audit record --------------------------------------------------------------
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


STATE_LABELS_ZH = {
    OrderState.ACCEPTED: "已受理",
    OrderState.DISPATCHED: "已派单",
    OrderState.ACKNOWLEDGED: "已签收",
    OrderState.IN_PROGRESS: "办理中",
    OrderState.RETURNED: "退单待裁定",
    OrderState.RESOLVED: "已办结待回访",
    OrderState.CLOSED: "已归档",
}

ACTION_LABELS_ZH = {
    "dispatch": "派单",
    "acknowledge": "签收",
    "start_work": "开始办理",
    "resolve": "办结",
    "return": "退单",
    "rule_on_return": "裁定退单",
    "request_extension": "申请延期",
    "record_callback": "登记回访",
    "reopen": "重办",
    "answer_on_the_spot": "当场答复",
    "add_progress_note": "填写进展",
}
