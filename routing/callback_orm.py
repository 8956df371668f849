"""Tables of the satisfaction-callback campaign (routing/callback_campaign.py), on routing's migration branch.

A *task* is one callback owed for one resolution of a work order (``order_number`` + ``resolved_at``: a
reopened and again resolved order owes a new one). An *attempt* is one call, automated or by a person;
the evaluation itself is the order's own callback record, written through ``WorkOrderService``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, UTCDateTime

TASK_STATES = ("due", "calling", "manual", "done", "cancelled")


class CallbackTask(Base):
    """``state``: due (the campaign will call at ``next_attempt_at``), calling (claimed by a campaign
    worker until ``claimed_at`` + lease), manual (on the agents' manual callback list), done, cancelled."""

    __tablename__ = "callback_tasks"
    __table_args__ = (
        UniqueConstraint("order_number", "resolved_at"),
        Index("ix_callback_tasks_due", "state", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(32), index=True)
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unit_code: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the lead unit evaluated
    phone: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="due")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result: Mapped[str] = mapped_column(String(24), default="")  # closed, reopened, manual, superseded
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CallbackAttempt(Base):
    """One call. ``mode`` auto (the IVR survey) or manual (an agent, QA, or a department head on duty);
    ``by_unit`` is the caller's own unit (a department head's), ``evaluated_unit`` the unit whose work the
    evaluation counts for (the order's lead unit)."""

    __tablename__ = "callback_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("callback_tasks.id", ondelete="CASCADE"), index=True)
    order_number: Mapped[str] = mapped_column(String(32), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(8))
    by: Mapped[str] = mapped_column(String(64))
    by_role: Mapped[str] = mapped_column(String(32))
    by_unit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    evaluated_unit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    call_status: Mapped[str] = mapped_column(String(16), default="")  # answered, no_answer, busy, failed
    solved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome: Mapped[str] = mapped_column(String(24))  # closed, reopened, unreachable, no_response, superseded
    recording: Mapped[str | None] = mapped_column(String(300), nullable=True)
    channel_id: Mapped[str] = mapped_column(String(64), default="")
    hangup_cause: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str] = mapped_column(String(300), default="")
