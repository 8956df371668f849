"""The work order aggregate and its children.

Every change goes through :meth:`WorkOrder._record`, which appends an :class:`AuditEvent` (who, when, what,
before/after) to the order's history. The history is persisted with the order in the same transaction, so
no state change can exist without its audit record. Deadlines are durable children too: a restart loses no
clock, and the scheduler fires each deadline exactly once (see ``routing.scheduler``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from routing.domain import events as ev
from routing.domain.catalogue import DispatchCheck
from routing.domain.enums import (
    AlarmKind,
    AssignmentRole,
    DeadlineKind,
    OrderState,
)
from routing.domain.errors import Conflict, IllegalTransition, InvalidInput
from routing.domain.escalation import Escalation
from routing.domain.labels import ACTION_LABELS_ZH, STATE_LABELS_ZH
from routing.domain.merging import Merging
from routing.domain.objections import Objections
from routing.domain.order_base import WorkOrderBase, _require_text
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
from routing.domain.sla import SlaPolicy, WorkCalendar
from routing.domain.unit_requests import UnitRequests

# Linkage with the emergency services (国办发〔2022〕12号): the lines, and a transfer or a three-way call.
EMERGENCY_LINES = ("110", "119", "120", "122")
EMERGENCY_MODES = ("transfer", "conference")

__all__ = [
    "ACTION_LABELS_ZH",
    "STATE_LABELS_ZH",
    "Actor",
    "Alarm",
    "Assignment",
    "AuditEvent",
    "CallbackRecord",
    "Card",
    "Deadline",
    "Negotiation",
    "OrderRequest",
    "SupervisionOrder",
    "Target",
    "WorkOrder",
    "WorkOrderBase",
]


@dataclass(eq=False)
class WorkOrder(Escalation, UnitRequests, Objections, Merging):
    """The aggregate: intake, dispatch and the unit's work here; requests and callbacks in
    :mod:`routing.domain.unit_requests`; returns, objections and negotiation in
    :mod:`routing.domain.objections`; deadlines, escalation and cards in :mod:`routing.domain.escalation`."""

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

    def dispatch(
        self,
        actor: Actor,
        now: datetime,
        targets: list[Target],
        policy: SlaPolicy,
        calendar: WorkCalendar,
        note: str = "",
        check: DispatchCheck | None = None,
    ) -> None:
        self._require("dispatch", OrderState.ACCEPTED)
        self._dispatch_round(
            actor, now, targets, policy, calendar, reopened=False, action="dispatch", note=note, check=check
        )

    def acknowledge(self, actor: Actor, now: datetime, unit_code: str) -> None:
        """签收: the unit responds. Stops that unit's response clock and any escalation running for it."""
        self._require("acknowledge", OrderState.DISPATCHED, OrderState.ACKNOWLEDGED, OrderState.IN_PROGRESS)
        assignment = self._require_unit(actor, unit_code)
        if assignment.acknowledged_at is not None:
            raise Conflict(f"单位 {unit_code} 已签收", f"unit {unit_code} has already acknowledged")
        assignment.acknowledged_at = now
        assignment.acknowledged_by = actor.name
        self._stop_response_clock(unit_code, now)
        self._clear_yellow_cards(DeadlineKind.RESPONSE, unit_code, now)
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
        if self.merged_into is not None:
            raise IllegalTransition(
                f"工单 {self.number} 已并入 {self.merged_into}，由主单统一办结",
                f"work order {self.number} is merged into {self.merged_into}; the master is resolved instead",
            )
        self._require_lead(actor, unit_code)
        _require_text(reply, "办理结果答复", "reply")
        for d in self.pending_deadlines():
            if d.kind in (DeadlineKind.RESOLUTION, DeadlineKind.RESOLUTION_WARNING):
                d.cancelled_at = now
        self._clear_yellow_cards(DeadlineKind.RESOLUTION, unit_code, now)
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

    def link_call(self, actor: Actor, now: datetime, call_id: str) -> None:
        if call_id in self.call_ids:
            return
        self.call_ids = [*self.call_ids, call_id]
        self._record(actor, now, "link_call", {}, {"call_id": call_id})

    def record_emergency_transfer(
        self, actor: Actor, now: datetime, *, line: str, dialled: str, mode: str, call_id: str, at: datetime
    ) -> None:
        """国办发〔2022〕12号: during call ``call_id`` the agent put the caller through to an emergency line
        (110 police, 119 fire, 120 ambulance, 122 traffic) or, when it was unclear whose matter it was, opened a
        three-way call with it. The order keeps who did it and when (``at``: the moment of the transfer)."""
        if mode not in EMERGENCY_MODES:
            raise InvalidInput(f"未知的转接方式 {mode}", f"unknown transfer mode {mode}")
        if line not in EMERGENCY_LINES:
            raise InvalidInput(f"未知的紧急热线 {line}", f"unknown emergency line {line}")
        zh = f"一键转接{line}" if mode == "transfer" else f"与{line}三方通话"
        after = {"line": line, "dialled": dialled, "mode": mode, "call_id": call_id, "at": at}
        self._record(actor, now, "emergency_transfer", {}, after, f"{zh}（{actor.name}）")
