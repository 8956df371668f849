"""Events the telephony edge publishes on the hotline's EventBus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kernel.events import wire


@dataclass(frozen=True)
class PreviousCall:
    call_id: str
    started_at: datetime
    outcome: str
    agent: str | None
    queue: str | None


@dataclass(frozen=True)
class WorkOrderSummary:
    number: str
    title: str
    state: str
    accepted_at: datetime


@wire("telephony.call_answered")
@dataclass(frozen=True)
class CallAnswered:
    """The screen pop: an agent answered; everything the desk shows before the citizen speaks."""

    call_id: str
    caller_number: str
    agent: str
    queue: str | None
    ivr_choices: tuple[str, ...]
    previous_calls: tuple[PreviousCall, ...]
    work_orders: tuple[WorkOrderSummary, ...]
    answered_at: datetime


@wire("telephony.call_ended")
@dataclass(frozen=True)
class CallEnded:
    """``wrapup_seconds``: the wrap-up app_queue now gives the agent (the queue's wrapuptime), None when no
    queue agent took the call."""

    call_id: str
    caller_number: str
    outcome: str
    agent: str | None
    ended_at: datetime
    wrapup_seconds: float | None = None
