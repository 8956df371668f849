"""Merged orders (并单, required by 国办函〔2025〕66号): repeat complaints about one problem are merged under a
master order. The unit handles and answers the master once; when it resolves, every merged order is
resolved with the same reply, so every caller hears the result and gets the satisfaction callback.

A merged order keeps its caller, history and assignments, but its own clocks stop (the master's run for
all of them). Unmerging restarts its clocks with a new dispatch round to the same units.
"""

from __future__ import annotations

from datetime import datetime

from routing.domain import events as ev
from routing.domain.enums import AlarmKind, OrderState
from routing.domain.errors import IllegalTransition, InvalidInput
from routing.domain.order_base import WorkOrderBase, _require_text
from routing.domain.records import Actor, Target
from routing.domain.sla import SlaPolicy, WorkCalendar

MERGEABLE = (
    OrderState.ACCEPTED,
    OrderState.DISPATCHED,
    OrderState.ACKNOWLEDGED,
    OrderState.IN_PROGRESS,
)


class Merging(WorkOrderBase):
    def absorb(self, actor: Actor, now: datetime, members: list[str]) -> None:
        """This order becomes the master of ``members`` (recorded on the master's history)."""
        self._require("merge", *MERGEABLE)
        if self.merged_into is not None:
            raise IllegalTransition(
                f"工单 {self.number} 已并入 {self.merged_into}，不能作为主单",
                f"work order {self.number} is merged into {self.merged_into}; it cannot be a master",
            )
        if not members or self.number in members:
            raise InvalidInput("并单须选择主单以外的工单", "choose orders other than the master to merge")
        self._record(actor, now, "merge_master", {}, {"members": sorted(members)})

    def merge_into(self, actor: Actor, now: datetime, master: str) -> None:
        """Stop this order's own clocks; the master's unit answers for it."""
        self._require("merge", *MERGEABLE)
        if self.merged_into is not None:
            raise IllegalTransition(
                f"工单 {self.number} 已并入 {self.merged_into}",
                f"work order {self.number} is already merged into {self.merged_into}",
            )
        for d in self.pending_deadlines():
            d.cancelled_at = now
        for alarm in self.alarms:
            if alarm.cleared_at is None and alarm.kind in (AlarmKind.RESPONSE_BREACH, AlarmKind.ESCALATED):
                alarm.cleared_at = now
        self.merged_into = master
        self._record(actor, now, "merge_into", {"merged_into": None}, {"merged_into": master})

    def resolve_as_merged(self, actor: Actor, now: datetime, master: str, reply: str) -> None:
        """The master was resolved: this caller gets the same reply, and a callback is now due."""
        if self.merged_into != master:
            raise IllegalTransition(
                f"工单 {self.number} 未并入 {master}", f"work order {self.number} is not merged into {master}"
            )
        self._require("resolve", *MERGEABLE)
        _require_text(reply, "办理结果答复", "reply")
        self._set_state(
            OrderState.RESOLVED,
            actor,
            now,
            "resolve_merged",
            f"随主单 {master} 办结",
            reply=reply,
            resolved_at=now,
            resolution_kind="merged",
        )
        self.events.append(ev.WorkOrderResolved(self.number, self.lead_unit or "", now))

    def unmerge(
        self, actor: Actor, now: datetime, reason: str, policy: SlaPolicy, calendar: WorkCalendar
    ) -> None:
        """Take the order out of its master: its own clocks start again for the same units."""
        if self.merged_into is None:
            raise IllegalTransition(f"工单 {self.number} 未并单", f"work order {self.number} is not merged")
        self._require("unmerge", *MERGEABLE)
        _require_text(reason, "取消并单理由", "reason")
        master = self.merged_into
        self.merged_into = None
        self._record(actor, now, "unmerge", {"merged_into": master}, {"merged_into": None}, reason)
        targets = [Target(a.unit_code, a.role) for a in self.active_assignments]
        if targets:
            self._dispatch_round(
                actor, now, targets, policy, calendar, reopened=False, action="dispatch", note=reason
            )

    def release(self, actor: Actor, now: datetime, member: str, reason: str) -> None:
        """The master's side of an unmerge (recorded on the master's history)."""
        self._record(actor, now, "unmerge_member", {"member": member}, {}, reason)
