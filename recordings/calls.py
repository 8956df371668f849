"""A read-only port onto telephony's call records (``tel_calls``, ``tel_call_legs``, ``tel_call_work_orders``).

When a call ends, ingest takes the call's metadata from here: who called, which queue, which agent
answered, every channel that took part (legs), the outcome, and whether MixMonitor was started at all
(the dialplan's ``HotlineQueueJoin`` user event names the recording file, which telephony keeps in
``tel_calls.recording``). Recordings imports nothing from telephony: it reads the tables, as orders.py does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import column, inspect, select, table
from sqlalchemy.orm import Session, sessionmaker

from kernel.db import UTCDateTime

_calls = table(
    "tel_calls",
    column("call_id"),
    column("caller_number"),
    column("queue"),
    column("agent"),
    column("outcome"),
    column("started_at", UTCDateTime),
    column("queued_at", UTCDateTime),
    column("answered_at", UTCDateTime),
    column("ended_at", UTCDateTime),
    column("recording"),
)
_legs = table(
    "tel_call_legs",
    column("id"),
    column("call_id"),
    column("channel_id"),
    column("channel_name"),
    column("role"),
    column("agent"),
    column("created_at", UTCDateTime),
    column("answered_at", UTCDateTime),
    column("ended_at", UTCDateTime),
    column("dial_status"),
    column("hangup_cause"),
)
_orders = table("tel_call_work_orders", column("call_id"), column("work_order_number"))


@dataclass(frozen=True)
class CallLeg:
    role: str  # caller | agent | callback | transfer
    channel: str
    agent: str | None
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    dial_status: str = ""
    hangup_cause: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "channel": self.channel,
            "agent": self.agent,
            "created_at": self.created_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "dial_status": self.dial_status,
            "hangup_cause": self.hangup_cause,
        }


@dataclass(frozen=True)
class CallInfo:
    call_id: str
    caller_number: str
    queue: str | None
    agent: str | None
    outcome: str  # answered | abandoned | callback_requested | ivr_only | in_progress ...
    started_at: datetime
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    recording: str | None = None  # MixMonitor's mixed file as the switch sees it; None: none started
    legs: tuple[CallLeg, ...] = ()
    order_numbers: tuple[str, ...] = field(default=())

    @property
    def recording_started(self) -> bool:
        return bool(self.recording)


class CallLookup(Protocol):
    def call(self, call_id: str) -> CallInfo | None:
        """The call as telephony recorded it, or None when telephony knows no such call."""
        ...


class SqlCallLookup:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory
        self._present: bool | None = None

    def _tables_present(self, session: Session) -> bool:
        if self._present is None:
            self._present = inspect(session.connection()).has_table("tel_calls")
        return self._present

    def call(self, call_id: str) -> CallInfo | None:
        with self.session_factory() as session:
            if not self._tables_present(session):
                return None
            c = _calls.c
            row = session.execute(select(_calls).where(c.call_id == call_id)).first()
            if row is None:
                return None
            legs = session.execute(
                select(_legs).where(_legs.c.call_id == call_id).order_by(_legs.c.created_at, _legs.c.id)
            ).all()
            numbers = session.scalars(
                select(_orders.c.work_order_number)
                .where(_orders.c.call_id == call_id)
                .order_by(_orders.c.work_order_number)
            ).all()
        return CallInfo(
            call_id=row.call_id,
            caller_number=row.caller_number or "",
            queue=row.queue,
            agent=row.agent,
            outcome=str(row.outcome or ""),
            started_at=row.started_at,
            queued_at=row.queued_at,
            answered_at=row.answered_at,
            ended_at=row.ended_at,
            recording=row.recording,
            legs=tuple(
                CallLeg(
                    str(leg.role),
                    str(leg.channel_name),
                    leg.agent,
                    leg.created_at,
                    leg.answered_at,
                    leg.ended_at,
                    leg.dial_status or "",
                    leg.hangup_cause or "",
                )
                for leg in legs
            ),
            order_numbers=tuple(str(n) for n in numbers),
        )
