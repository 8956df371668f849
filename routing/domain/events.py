"""Domain events: what happened to a case, published on the bus after the transaction commits.

The UI (alarms, wallboard), telephony (callbacks) and recordings listen to these; none of them reaches into
the work order itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kernel.events import wire


@dataclass(frozen=True)
class Event:
    order_number: str


@wire("routing.work_order_accepted")
@dataclass(frozen=True)
class WorkOrderAccepted(Event):
    channel: str
    urgency: str
    at: datetime


@wire("routing.work_order_dispatched")
@dataclass(frozen=True)
class WorkOrderDispatched(Event):
    lead_unit: str
    assisting_units: list[str]
    response_due_at: datetime
    at: datetime


@wire("routing.work_order_acknowledged")
@dataclass(frozen=True)
class WorkOrderAcknowledged(Event):
    unit_code: str
    at: datetime


@wire("routing.work_order_returned")
@dataclass(frozen=True)
class WorkOrderReturned(Event):
    unit_code: str
    reason: str
    at: datetime


@wire("routing.work_order_resolved")
@dataclass(frozen=True)
class WorkOrderResolved(Event):
    """A callback is now due (by an agent, a department head on duty, or the automated IVR survey)."""

    unit_code: str
    at: datetime


@wire("routing.work_order_reopened")
@dataclass(frozen=True)
class WorkOrderReopened(Event):
    unit_code: str
    at: datetime


@wire("routing.work_order_closed")
@dataclass(frozen=True)
class WorkOrderClosed(Event):
    outcome: str
    at: datetime


@wire("routing.sla_alarm_raised")
@dataclass(frozen=True)
class SlaAlarmRaised(Event):
    kind: str
    level: int
    unit_code: str
    addressed_to: str
    message_zh: str
    at: datetime


@wire("routing.supervision_issued")
@dataclass(frozen=True)
class SupervisionIssued(Event):
    supervision_number: str
    unit_code: str
    at: datetime


@wire("routing.card_issued")
@dataclass(frozen=True)
class CardIssued(Event):
    """A yellow card (the deadline is near) or a red card (it was missed) for a unit."""

    color: str
    clock: str
    unit_code: str
    due_at: datetime
    at: datetime
