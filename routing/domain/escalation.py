"""SLA breaches and the escalation ladder: alarms, the district head or bureau chief, supervision orders (督办件),
and referral to the discipline commission (纪委)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from routing.domain import events as ev
from routing.domain.cards import Cards
from routing.domain.enums import (
    CLOCK_OF_WARNING,
    AlarmKind,
    CardColor,
    DeadlineKind,
    SupervisionState,
)
from routing.domain.errors import IllegalTransition
from routing.domain.records import Actor, Deadline, SupervisionOrder
from routing.domain.sla import SlaPolicy, WorkCalendar, add_working_days


class Escalation(Cards):
    """Called by the scheduler once per due deadline; climbs the ladder one rung at a time."""

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
        if deadline.kind in CLOCK_OF_WARNING:
            self._fire_warning(deadline, now, actor)
        elif deadline.kind is DeadlineKind.OBJECTION_REVIEW:
            self._alarm(
                actor,
                now,
                AlarmKind.OBJECTION_OVERDUE,
                1,
                unit,
                "hotline",
                f"工单 {self.number} 的派单异议（{unit}）超过审核时限，请尽快裁定",
                f"work order {self.number}: the dispatch objection of {unit} is past its review limit",
            )
        elif deadline.kind is DeadlineKind.RESPONSE:
            self._issue_card(CardColor.RED, DeadlineKind.RESPONSE, unit, deadline.due_at, now, actor)
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
            self._issue_card(CardColor.RED, DeadlineKind.RESOLUTION, unit, deadline.due_at, now, actor)
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
