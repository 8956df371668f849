"""Extensions (延期), appeals (申诉), satisfaction callbacks (回访), reopening. Returns (退单) and dispatch
objections are in :mod:`routing.domain.objections`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from routing.domain import events as ev
from routing.domain.enums import (
    CallbackOutcome,
    DeadlineKind,
    OrderState,
    RequestKind,
)
from routing.domain.errors import Conflict, Forbidden, IllegalTransition, InvalidInput
from routing.domain.order_base import UNIT_ACTOR_ROLES, WorkOrderBase, _require_text
from routing.domain.records import Actor, CallbackRecord, Deadline, OrderRequest, Target
from routing.domain.sla import SlaPolicy, WorkCalendar, add_working_days


class UnitRequests(WorkOrderBase):
    """What a unit asks of the hotline, and what the citizen says at the callback."""

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
        policy: SlaPolicy | None = None,
    ) -> None:
        """A supervisor approves or rejects a pending extension or appeal. An approved extension moves the
        resolution deadline and its yellow card (``policy`` says how long before)."""
        if kind in (RequestKind.RETURN, RequestKind.OBJECTION):
            raise InvalidInput(
                "退单和派单异议请走裁定流程", "returns and objections are ruled on by arbitration"
            )
        request = self.pending_request(kind)
        if request is None or (request_id is not None and request.id != request_id):
            raise Conflict("没有待审批的此类申请", f"no pending {kind.value} request")
        request.decide(approve, actor.name, now, note)
        before: dict[str, Any] = {"request": kind.value, "status": "pending"}
        after: dict[str, Any] = {"request": kind.value, "status": request.status.value}
        if approve and kind is RequestKind.EXTENSION and request.extend_days:
            base = self.resolution_due_at or now
            new_due = add_working_days(base, request.extend_days, calendar)
            for d in self.pending_deadlines():
                if d.kind in (DeadlineKind.RESOLUTION, DeadlineKind.RESOLUTION_WARNING):
                    d.cancelled_at = now
            self._clear_yellow_cards(DeadlineKind.RESOLUTION, request.unit_code, now)
            if self.is_open:
                self.deadlines.append(
                    Deadline(DeadlineKind.RESOLUTION, new_due, request.unit_code, created_at=now)
                )
                if policy is not None:
                    terms = policy.terms_for(
                        self.case_type, self.urgency, self.urgent_class, reopened=self.redo_count > 0
                    )
                    self._plan_yellow_card(
                        DeadlineKind.RESOLUTION, new_due, request.unit_code, terms, calendar, now
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
        if self.confidential and actor.role in UNIT_ACTOR_ROLES:
            raise Forbidden(
                "来电人要求对承办单位保密，此工单由热线回访",
                "the caller asked to stay unknown to the units; the hotline makes this callback",
            )
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
