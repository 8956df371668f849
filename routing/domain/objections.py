"""Contesting a dispatch, and settling who handles a case: returns (退单), dispatch objections (派单异议) and
negotiation of the lead and co-handlers (协商确定主办、协办).

国办函〔2025〕66号 asks for a review of dispatch objections and defined return and re-dispatch rules. Here:

- A **dispatch objection** is any assigned unit saying its part in a dispatch is wrong. It must be raised
  within ``policy.objection.window_hours`` of the unit's assignment; afterwards the unit must handle the
  case (or ask for an extension). The hotline must rule within ``review_hours`` (a durable deadline; past
  it the hotline gets an alarm). On approval the hotline re-dispatches.
- The **lead unit's** objection is the **return (退单)**: the whole case goes back to the hotline, the
  unit's clocks stop, and an approved return is re-dispatched to another lead (``rule_on_return``).
- An **assisting unit's** objection (``RequestKind.OBJECTION``) concerns only its own part: the case goes
  on with the lead; an approved objection takes the unit off the case (optionally putting another unit
  in its place); a rejected one restarts its response clock.
- When the responsible unit is unclear, the hotline **negotiates**: it consults the units, records who took
  part and what was agreed, and dispatches to the agreed lead and co-handlers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from routing.domain import events as ev
from routing.domain.catalogue import DispatchCheck
from routing.domain.enums import AssignmentRole, DeadlineKind, OrderState, RequestKind, RequestStatus
from routing.domain.errors import Conflict, IllegalTransition, InvalidInput
from routing.domain.order_base import UNIT_CLOCKS, WorkOrderBase, _require_text
from routing.domain.records import Actor, Assignment, Deadline, Negotiation, OrderRequest, Target
from routing.domain.sla import SlaPolicy, WorkCalendar


class Objections(WorkOrderBase):
    def _within_objection_window(self, assignment: Assignment, now: datetime, policy: SlaPolicy) -> None:
        hours = policy.objection.window_hours
        if now - assignment.assigned_at > timedelta(hours=hours):
            raise IllegalTransition(
                f"已超过派单异议期限（派单后 {hours} 小时内），请继续办理或申请延期",
                f"the objection window ({hours} h after dispatch) has passed; handle the case or ask "
                "for an extension",
                window_hours=hours,
            )

    def _review_deadline(self, unit_code: str, now: datetime, policy: SlaPolicy) -> None:
        due = now + timedelta(hours=policy.objection.review_hours)
        self.deadlines.append(Deadline(DeadlineKind.OBJECTION_REVIEW, due, unit_code, created_at=now))

    def _end_review(self, unit_code: str, now: datetime) -> None:
        for d in self.pending_deadlines(DeadlineKind.OBJECTION_REVIEW):
            if d.unit_code == unit_code:
                d.cancelled_at = now

    # ---- the lead's objection: the return (退单) -------------------------------------------------------
    def request_return(
        self,
        actor: Actor,
        now: datetime,
        unit_code: str,
        reason: str,
        policy: SlaPolicy | None = None,
        proposed_unit: str | None = None,
    ) -> None:
        self._require("return", OrderState.DISPATCHED, OrderState.ACKNOWLEDGED)
        self._require_lead(actor, unit_code)
        _require_text(reason, "退单理由", "return reason")
        if policy is not None:
            self._within_objection_window(self._require_unit(actor, unit_code), now, policy)
        self.requests.append(
            OrderRequest(RequestKind.RETURN, unit_code, now, actor.name, reason, proposed_unit=proposed_unit)
        )
        # The hotline holds the clock while the arbitrator rules: the unit's clocks stop.
        for d in self.pending_deadlines():
            if d.kind in UNIT_CLOCKS:
                d.cancelled_at = now
        if policy is not None:
            self._review_deadline(unit_code, now, policy)
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
        check: DispatchCheck | None = None,
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
            check = None  # the same units again: nothing to check
        request.decide(approve, actor.name, now, note)
        self._end_review(request.unit_code, now)
        self._dispatch_round(
            actor,
            now,
            targets,
            policy,
            calendar,
            reopened=False,
            action="return_approved" if approve else "return_rejected",
            note=note,
            check=check,
        )

    # ---- an assisting unit's objection ---------------------------------------------------------------
    def object_to_dispatch(
        self,
        actor: Actor,
        now: datetime,
        unit_code: str,
        reason: str,
        policy: SlaPolicy,
        proposed_unit: str | None = None,
    ) -> None:
        """派单异议 of an assisting unit. (The lead's objection is the return, :meth:`request_return`.)"""
        self._require("object", OrderState.DISPATCHED, OrderState.ACKNOWLEDGED, OrderState.IN_PROGRESS)
        assignment = self._require_unit(actor, unit_code)
        if assignment.role is AssignmentRole.LEAD:
            raise IllegalTransition(
                "主办单位对派单有异议请申请退单", "the lead unit contests a dispatch by returning it"
            )
        _require_text(reason, "异议理由", "objection reason")
        self._within_objection_window(assignment, now, policy)
        if any(
            r.kind is RequestKind.OBJECTION and r.status is RequestStatus.PENDING and r.unit_code == unit_code
            for r in self.requests
        ):
            raise Conflict("已有待审核的派单异议", "an objection of this unit is already pending")
        self.requests.append(
            OrderRequest(
                RequestKind.OBJECTION, unit_code, now, actor.name, reason, proposed_unit=proposed_unit
            )
        )
        # Objecting is the unit's response: its response clock stops while the hotline reviews.
        self._stop_response_clock(unit_code, now)
        self._review_deadline(unit_code, now, policy)
        self._record(actor, now, "object", {}, {"unit": unit_code, "proposed_unit": proposed_unit}, reason)

    def rule_on_objection(
        self,
        actor: Actor,
        now: datetime,
        unit_code: str,
        approve: bool,
        note: str,
        policy: SlaPolicy,
        calendar: WorkCalendar,
        replacement: str | None = None,
        check: DispatchCheck | None = None,
    ) -> None:
        """Approve: the unit leaves the case (``replacement`` assists in its place). Reject: it stays, with a
        fresh response clock if it had not acknowledged."""
        request = next(
            (
                r
                for r in self.requests
                if r.kind is RequestKind.OBJECTION
                and r.status is RequestStatus.PENDING
                and r.unit_code == unit_code
            ),
            None,
        )
        if request is None:
            raise Conflict(f"{unit_code} 没有待审核的派单异议", f"no pending objection from {unit_code}")
        if not self.is_open:
            raise IllegalTransition("工单已办结，异议不再审核", "the order is no longer open")
        active = {a.unit_code for a in self.active_assignments}
        if approve and replacement is not None and replacement in active:
            raise InvalidInput(
                f"单位 {replacement} 已在办理此工单", f"{replacement} already handles this order"
            )
        request.decide(approve, actor.name, now, note)
        self._end_review(unit_code, now)
        assignment = next(a for a in self.active_assignments if a.unit_code == unit_code)
        terms = policy.terms_for(
            self.case_type, self.urgency, self.urgent_class, reopened=self.redo_count > 0
        )
        fresh: list[str] = []
        if approve:
            assignment.active = False
            for d in self.pending_deadlines():
                if d.unit_code == unit_code and d.kind in UNIT_CLOCKS:
                    d.cancelled_at = now
            if replacement:
                if check is not None:
                    check.refuse_push_down([Target(replacement, AssignmentRole.ASSIST)])
                self.assignments.append(
                    Assignment(replacement, AssignmentRole.ASSIST, now, self.dispatch_round)
                )
                fresh.append(replacement)
        elif assignment.acknowledged_at is None:
            fresh.append(unit_code)
        for code in fresh:
            due = now + timedelta(minutes=terms.response_minutes)
            self.deadlines.append(Deadline(DeadlineKind.RESPONSE, due, code, level=1, created_at=now))
            self._plan_yellow_card(DeadlineKind.RESPONSE, due, code, terms, calendar, now)
        self._record(
            actor,
            now,
            "objection_approved" if approve else "objection_rejected",
            {"unit": unit_code, "units": sorted(active)},
            {
                "unit": unit_code,
                "replacement": replacement,
                "units": sorted(a.unit_code for a in self.active_assignments),
            },
            note,
        )

    # ---- negotiation (协商) ----------------------------------------------------------------------------
    def negotiate(
        self,
        actor: Actor,
        now: datetime,
        participants: list[str],
        targets: list[Target],
        note: str,
        policy: SlaPolicy,
        calendar: WorkCalendar,
        check: DispatchCheck | None = None,
    ) -> None:
        """The hotline consulted ``participants`` and agreed on ``targets``: recorded, then dispatched. On a
        returned order this settles the return (approved when the lead changes)."""
        self._require(
            "negotiate",
            OrderState.ACCEPTED,
            OrderState.DISPATCHED,
            OrderState.ACKNOWLEDGED,
            OrderState.RETURNED,
        )
        _require_text(note, "协商结果说明", "negotiation note")
        consulted = list(dict.fromkeys(p for p in participants if p))
        if len(consulted) < 2:
            raise InvalidInput("协商须至少有两个参与单位", "a negotiation needs at least two units")
        outsiders = [t.unit_code for t in targets if t.unit_code not in consulted]
        if outsiders:
            raise InvalidInput(
                f"承办单位须参加协商：{'、'.join(outsiders)}",
                f"every unit dispatched to must have taken part: {', '.join(outsiders)}",
                units=outsiders,
            )
        leads = [t.unit_code for t in targets if t.role is AssignmentRole.LEAD]
        assists = [t.unit_code for t in targets if t.role is AssignmentRole.ASSIST]
        if len(leads) != 1:
            raise InvalidInput("协商须确定一个主办单位", "a negotiation agrees exactly one lead unit")
        if check is not None:
            check.refuse_push_down(targets)
        self.negotiations.append(Negotiation(now, actor.name, consulted, leads[0], assists, note))
        self._record(
            actor,
            now,
            "negotiate",
            {"units": [a.unit_code for a in self.active_assignments]},
            {"participants": consulted, "lead": leads[0], "assist": assists},
            note,
        )
        if self.state is OrderState.RETURNED:
            request = self.pending_request(RequestKind.RETURN)
            assert request is not None
            request.decide(leads[0] != request.unit_code, actor.name, now, note)
            self._end_review(request.unit_code, now)
        self._dispatch_round(
            actor,
            now,
            targets,
            policy,
            calendar,
            reopened=False,
            action="dispatch",
            note="协商派单",
            check=check,
        )
