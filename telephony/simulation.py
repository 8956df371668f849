"""Writing synthetic call records (demo history, benchmarks) into telephony's own tables.

Rows look like the ones :class:`~telephony.records.CallRecorder` writes from ARI events, with a call id
that starts with :data:`DEMO_CALL_PREFIX` instead of an Asterisk UNIQUEID, so they can be told apart and
removed (:func:`delete_demo_calls`). Only telephony writes these tables; the demo generator calls here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from telephony.orm import CallLegRow, CallRow, CallWorkOrderRow

DEMO_CALL_PREFIX = "demo-"


@dataclass(frozen=True)
class SimulatedCall:
    call_id: str
    caller_number: str
    started_at: datetime
    ended_at: datetime
    outcome: str  # answered, abandoned, ivr_only, callback_requested
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    queue: str | None = None
    agent: str | None = None
    queue_wait_seconds: float | None = None
    talk_seconds: float | None = None
    ivr_choices: str = ""
    language: str = "zh"
    dialed: str = "12345"
    priority: int = 0


def insert_calls(session: Session, calls: Sequence[SimulatedCall]) -> int:
    """Insert calls with their caller leg (and the agent's leg when answered); returns rows written."""
    if not calls:
        return 0
    for call in calls:
        if not call.call_id.startswith(DEMO_CALL_PREFIX):
            raise ValueError("synthetic call ids must start with the demo prefix")
    session.execute(insert(CallRow), [{**asdict(c), "hangup_cause": "Normal Clearing"} for c in calls])
    legs = [
        {
            "call_id": c.call_id,
            "channel_id": c.call_id,
            "channel_name": f"PJSIP/citizens-{c.call_id[-8:]}",
            "role": "caller",
            "agent": None,
            "number": c.caller_number,
            "created_at": c.started_at,
            "answered_at": c.started_at,
            "ended_at": c.ended_at,
            "dial_status": "",
            "hangup_cause": "Normal Clearing",
        }
        for c in calls
    ]
    legs += [
        {
            "call_id": c.call_id,
            "channel_id": f"{c.call_id}-a",
            "channel_name": f"PJSIP/{c.agent}-{c.call_id[-8:]}",
            "role": "agent",
            "agent": c.agent,
            "number": "",
            "created_at": c.answered_at,
            "answered_at": c.answered_at,
            "ended_at": c.ended_at,
            "dial_status": "ANSWER",
            "hangup_cause": "Normal Clearing",
        }
        for c in calls
        if c.answered_at is not None and c.agent
    ]
    session.execute(insert(CallLegRow), legs)
    return len(calls) + len(legs)


def link_orders(session: Session, links: Sequence[tuple[str, str]]) -> int:
    """(call id, work order number) pairs: orders taken during those calls."""
    if not links:
        return 0
    session.execute(insert(CallWorkOrderRow), [{"call_id": c, "work_order_number": n} for c, n in links])
    return len(links)


def delete_demo_calls(session: Session) -> int:
    for table in (CallWorkOrderRow, CallLegRow):
        session.execute(delete(table).where(table.call_id.startswith(DEMO_CALL_PREFIX)))
    result = session.execute(delete(CallRow).where(CallRow.call_id.startswith(DEMO_CALL_PREFIX)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
