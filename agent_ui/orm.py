"""Tables of the web desk: user accounts and the access audit (who saw an unmasked number or a recording)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, UTCDateTime


class User(Base):
    """A person who works in the web desk. Department roles belong to one unit (``unit_code``)."""

    __tablename__ = "ui_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Raised at log-out (and password reset): every session cookie issued before stops working.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class LoginThrottle(Base):
    """Failed log-ins for names that are not accounts, counted exactly as an account's own counter
    (``ui_users.failed_attempts``/``locked_until``), so that answers never tell which names exist."""

    __tablename__ = "ui_login_throttle"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AccessAudit(Base):
    """Append-only record of every view of personal data: an unmasked phone number, a recording,
    and of security events (log-in, failed log-in, lock-out, password reset)."""

    __tablename__ = "access_audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(48))  # view_phone, view_recording, login, login_failed ...
    subject: Mapped[str] = mapped_column(String(128), default="")  # order number, recording id, username
    detail: Mapped[str] = mapped_column(Text, default="")
    client: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (Index("ix_access_audit_at", "at"), Index("ix_access_audit_subject", "subject"))
