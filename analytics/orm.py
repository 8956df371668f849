"""Analytics' own tables: the daily KPI roll-up, hot events, playbooks, report runs and demo runs.

Nothing here copies a citizen's name or number: hot events keep order numbers and a short summary only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, JSONType, UTCDateTime, metadata
from routing.views import ORDER_METRICS
from telephony.views import CALL_METRICS

# The additive counts kept per day (see routing.views.ORDER_METRICS and telephony.views.CALL_METRICS).
ROLLUP_METRICS = ORDER_METRICS + CALL_METRICS

kpi_daily = Table(
    "analytics_kpi_daily",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("day", Integer, nullable=False),  # local day index (days since 1970-01-01, Haikou time)
    Column("dim", String(16), nullable=False),  # all, district, unit, category, channel, agent
    Column("key", String(200), nullable=False),
    *(Column(name, BigInteger, nullable=False, default=0) for name in ROLLUP_METRICS),
    Column("refreshed_at", UTCDateTime, nullable=False),
    UniqueConstraint("dim", "day", "key", name="uq_analytics_kpi_daily_dim_day_key"),
)


class HotEventRow(Base):
    """A cluster of orders about one problem in one place within a short window (热点事件)."""

    __tablename__ = "analytics_hot_events"
    __table_args__ = (Index("ix_analytics_hot_events_state_detected", "state", "detected_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    signature: Mapped[str] = mapped_column(String(200), unique=True)  # place + first order: no duplicates
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    district: Mapped[str | None] = mapped_column(String(16), nullable=True)
    place: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(String(200))
    order_numbers: Mapped[list[str]] = mapped_column(JSONType)
    size: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open, merged, dismissed
    master_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class PlaybookRow(Base):
    """An event playbook (预案): a named event with its window, issues, announcement, articles, shortcuts."""

    __tablename__ = "analytics_playbooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issues: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    announcement_zh: Mapped[str] = mapped_column(Text, default="")
    announcement_en: Mapped[str] = mapped_column(Text, default="")
    kb_keys: Mapped[list[str]] = mapped_column(JSONType, default=list)
    shortcuts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    activated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deactivated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReportRunRow(Base):
    """A generated report (one per kind, period and format): the schedule claims the slot first."""

    __tablename__ = "analytics_report_runs"
    __table_args__ = (UniqueConstraint("kind", "period_start", "fmt", name="uq_analytics_report_runs_slot"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # daily, weekly, monthly
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    fmt: Mapped[str] = mapped_column(String(8))  # pdf, xlsx
    path: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class DemoRunRow(Base):
    """One run of the demo generator: its size, its speed and the hot events it planted (ground truth)."""

    __tablename__ = "analytics_demo_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    seed: Mapped[int] = mapped_column(Integer)
    days: Mapped[int] = mapped_column(Integer)
    scale: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[float] = mapped_column(Float)
    calls: Mapped[int] = mapped_column(Integer)
    orders: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(BigInteger)
    clusters: Mapped[dict[str, list[str]]] = mapped_column(JSONType)  # label -> order numbers
