"""Telephony tables: agents (SIP accounts, skills, state), calls, call legs and the work orders of a call.

A *call* is one citizen's contact, keyed by the Asterisk UNIQUEID of the caller's channel (also
``HOTLINE_CALL_ID`` in the dialplan and the recording's file name). Each channel taking part is a *leg*:
the caller, every agent rung by the queue (answered or not), callbacks and transfer targets.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, JSONType, UTCDateTime


class AgentRow(Base):
    """An agent's softphone account. ``state``: logged_out, available, paused, wrap_up (telephony/agents.py)."""

    __tablename__ = "tel_agents"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    sip_password: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    state: Mapped[str] = mapped_column(String(16), default="logged_out")
    pause_reason: Mapped[str] = mapped_column(String(64), default="")
    contact: Mapped[str | None] = mapped_column(String(200), nullable=True)
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CallRow(Base):
    """One citizen's call. ``outcome``: answered, abandoned (left the queue), ivr_abandoned (hung up before the
    IVR was done), callback_requested, ivr_only (served by the IVR: an order's state, a goodbye), failed.
    ``ivr_route``: where the IVR sent the call (HOTLINE_ROUTE), None when it never finished."""

    __tablename__ = "tel_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    caller_number: Mapped[str] = mapped_column(String(32), index=True, default="")
    dialed: Mapped[str] = mapped_column(String(32), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    queue: Mapped[str | None] = mapped_column(String(32), nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    ivr_choices: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    queue_wait_seconds: Mapped[float | None] = mapped_column(nullable=True)
    talk_seconds: Mapped[float | None] = mapped_column(nullable=True)
    outcome: Mapped[str] = mapped_column(String(24), default="in_progress")
    hangup_cause: Mapped[str] = mapped_column(String(64), default="")
    recording: Mapped[str | None] = mapped_column(String(300), nullable=True)
    ivr_route: Mapped[str | None] = mapped_column(String(24), nullable=True)


class CallLegRow(Base):
    """One channel of a call. ``role``: caller, agent, callback, transfer. ``dial_status`` from app_queue/Dial."""

    __tablename__ = "tel_call_legs"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("tel_calls.call_id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(String(64), unique=True)
    channel_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    number: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    dial_status: Mapped[str] = mapped_column(String(24), default="")
    hangup_cause: Mapped[str] = mapped_column(String(64), default="")


class CallWorkOrderRow(Base):
    """A work order taken during (or because of) a call."""

    __tablename__ = "tel_call_work_orders"
    __table_args__ = (UniqueConstraint("call_id", "work_order_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("tel_calls.call_id", ondelete="CASCADE"), index=True)
    work_order_number: Mapped[str] = mapped_column(String(32), index=True)


class QueueCallbackRow(Base):
    """A citizen the hotline calls back (telephony/queue_callback.py): they asked for it, or missed us.

    ``source``: queue (pressed * while waiting), ivr (took the IVR's callback offer, at night), abandoned_queue
    or abandoned_ivr (a missed call: hung up while waiting or in the IVR; telephony/missed_calls.py).
    ``state``: waiting (a placeholder goes into the queue at ``next_attempt_at``), placed (the placeholder
    holds the place in app_queue), connecting (an agent took it; the citizen's phone rings), done (talked),
    manual (not reached after ``attempts``: the agents call back by hand), cancelled (``last_result`` says why:
    answered_inbound, the citizen got through on a later call). ``due_by``: the hotline's promise, the call
    back due within the configured time of the first calling moment. ``missed_calls``: the calls it answers
    (several missed calls of one number make one callback).
    """

    __tablename__ = "tel_queue_callbacks"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)  # the caller's channel (UNIQUEID)
    phone: Mapped[str] = mapped_column(String(32))
    queue: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)  # where they left the queue
    language: Mapped[str] = mapped_column(String(8), default="zh")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    placeholder: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_result: Mapped[str] = mapped_column(String(24), default="")
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16), default="queue", index=True)
    due_by: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    missed_calls: Mapped[int] = mapped_column(Integer, default=1)


class CallbackAttemptRow(Base):
    """One call of a callback: the agent app_queue gave it, the citizen's phone, how it ended.

    ``result``: connected, busy, no_answer, failed (the citizen's line), agent_hung_up (the agent gave up
    before the citizen answered), cancelled (no longer owed when an agent took it)."""

    __tablename__ = "tel_callback_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("tel_queue_callbacks.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    result: Mapped[str] = mapped_column(String(24), default="")
    dial_status: Mapped[str] = mapped_column(String(24), default="")
    hangup_cause: Mapped[int | None] = mapped_column(Integer, nullable=True)


class EmergencyTransferRow(Base):
    """A transfer or three-way call of a citizen's call with an emergency line (110/119/120/122,
    国办发〔2022〕12号), made from the desk: who, when, which line and number, and whether the switch did it."""

    __tablename__ = "tel_emergency_transfers"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    line: Mapped[str] = mapped_column(String(8))
    dialled: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16))  # transfer | conference
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(default=False)
    detail: Mapped[str] = mapped_column(String(200), default="")
