"""The work order's children: who acted, assignments, deadlines, alarms, requests, callbacks, supervision orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from routing.domain.enums import (
    AlarmKind,
    AssignmentRole,
    CallbackOutcome,
    CardColor,
    DeadlineKind,
    RequestKind,
    RequestStatus,
    SupervisionState,
)


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
    proposed_unit: str | None = None  # an objection's or return's suggestion of the right unit
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str = ""
    id: int | None = None

    def decide(self, approve: bool, by: str, at: datetime, note: str) -> None:
        self.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        self.decided_at, self.decided_by, self.decision_note = at, by, note


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
class Card:
    """黄牌/红牌: a yellow card before a unit's deadline, a red card when the deadline is missed."""

    color: CardColor
    clock: DeadlineKind  # RESPONSE or RESOLUTION: the deadline it is about
    unit_code: str
    due_at: datetime  # that deadline's due time
    issued_at: datetime
    cleared_at: datetime | None = None  # a yellow card is cleared when the unit meets the deadline
    id: int | None = None


@dataclass(eq=False)
class Negotiation:
    """协商: when the responsible unit is unclear, the hotline consults the units and agrees a lead (主办)
    and co-handlers (协办) before dispatching; who took part and what was agreed stays on the order."""

    at: datetime
    by: str
    participants: list[str]
    lead_unit: str
    assist_units: list[str]
    note: str
    id: int | None = None
