"""Persistence of the routing component: reference data (declarative) and the work-order aggregate
(classically mapped onto the pure domain dataclasses, so the domain imports no SQLAlchemy)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy import event as sa_event
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel.db import Base, JSONType, UTCDateTime, mapper_registry, metadata
from routing.domain import enums
from routing.domain.model import (
    Alarm,
    Assignment,
    AuditEvent,
    CallbackRecord,
    Card,
    Deadline,
    Negotiation,
    OrderRequest,
    SupervisionOrder,
    WorkOrder,
)


def _enum(cls: type[StrEnum]) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


# ---- reference data ------------------------------------------------------------------------------------
class Unit(Base):
    """A city bureau, district, district bureau, street/town, utility or public company."""

    __tablename__ = "units"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    kind: Mapped[str] = mapped_column(String(32))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), nullable=True)
    district: Mapped[str | None] = mapped_column(String(16), nullable=True)
    head_title: Mapped[str] = mapped_column(String(32), default="")
    duty_phone: Mapped[str] = mapped_column(String(32), default="")
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    duties: Mapped[list[Duty]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", order_by="Duty.id"
    )


class Duty(Base):
    """One line of a unit's duty catalogue (职责清单)."""

    __tablename__ = "duties"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    unit: Mapped[Unit] = relationship(back_populates="duties")


class Category(Base):
    """A leaf of the three-level complaint taxonomy with the Haikou unit(s) responsible for it."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    level1: Mapped[str] = mapped_column(String(64))
    level2: Mapped[str] = mapped_column(String(64))
    level3: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(200), unique=True)
    case_type: Mapped[str] = mapped_column(String(32), default="complaint")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    lead_unit: Mapped[str] = mapped_column(ForeignKey("units.code"))
    assist_units: Mapped[list[str]] = mapped_column(JSONType, default=list)
    district_lead: Mapped[str | None] = mapped_column(String(96), nullable=True)


class DispatchRule(Base):
    """Keyword rule: a description or address with one of these words goes to this unit."""

    __tablename__ = "dispatch_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    keywords: Mapped[list[str]] = mapped_column(JSONType)
    level1: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lead_unit: Mapped[str] = mapped_column(ForeignKey("units.code"))
    assist_units: Mapped[list[str]] = mapped_column(JSONType, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=100)


class UrgentClass(Base):
    """One of the eight classes of urgent cases with a prepared handling plan (e.g. power cut)."""

    __tablename__ = "urgent_classes"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(96), default="")
    keywords: Mapped[list[str]] = mapped_column(JSONType)
    lead_unit: Mapped[str] = mapped_column(ForeignKey("units.code"))
    response_minutes: Mapped[int] = mapped_column(Integer)


class DispatchCatalogue(Base):
    """One edition of the dispatch catalogue (派单目录): which unit handles each category, and the keyword
    rules, from ``effective_from`` until the next edition takes over. Editions are never changed once in
    force; a correction is a new edition."""

    __tablename__ = "dispatch_catalogues"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    loaded_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    entries: Mapped[list[CatalogueEntry]] = relationship(
        back_populates="catalogue", cascade="all, delete-orphan", order_by="CatalogueEntry.id"
    )
    rules: Mapped[list[CatalogueRule]] = relationship(
        back_populates="catalogue", cascade="all, delete-orphan", order_by="CatalogueRule.priority"
    )


class CatalogueEntry(Base):
    """A category's responsible unit(s) in one catalogue edition."""

    __tablename__ = "dispatch_catalogue_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    catalogue_id: Mapped[int] = mapped_column(
        ForeignKey("dispatch_catalogues.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    lead_unit: Mapped[str] = mapped_column(ForeignKey("units.code"))
    assist_units: Mapped[list[str]] = mapped_column(JSONType, default=list)
    district_lead: Mapped[str | None] = mapped_column(String(96), nullable=True)
    catalogue: Mapped[DispatchCatalogue] = relationship(back_populates="entries")
    __table_args__ = (UniqueConstraint("catalogue_id", "category_id"),)


class CatalogueRule(Base):
    """A keyword rule in one catalogue edition."""

    __tablename__ = "dispatch_catalogue_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    catalogue_id: Mapped[int] = mapped_column(
        ForeignKey("dispatch_catalogues.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    keywords: Mapped[list[str]] = mapped_column(JSONType)
    level1: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lead_unit: Mapped[str] = mapped_column(ForeignKey("units.code"))
    assist_units: Mapped[list[str]] = mapped_column(JSONType, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    catalogue: Mapped[DispatchCatalogue] = relationship(back_populates="rules")


class ApiClientRow(Base):
    """An integration that calls the REST or Open311 API with a key (only its SHA-256 is kept)."""

    __tablename__ = "api_clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # An integration sees citizens' full phone numbers only when its key was granted them.
    phone_access: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


# ---- the work-order aggregate ----------------------------------------------------------------------------
work_orders = Table(
    "work_orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("case_type", _enum(enums.CaseType), nullable=False),
    Column("channel", _enum(enums.Channel), nullable=False),
    Column("urgency", _enum(enums.Urgency), nullable=False),
    Column("urgent_class", String(32)),
    Column("category_id", ForeignKey("categories.id")),
    Column("category_path", String(200), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("citizen_name", String(64), nullable=False, default=""),
    Column("citizen_phone", String(32), nullable=False, index=True),
    Column("location_text", String(500), nullable=False),
    Column("district", String(16)),
    Column("external_ref", String(64), index=True),
    Column("confidential", Boolean, nullable=False, default=False, server_default=false()),
    Column("catalogue_version", String(32)),
    Column("state", _enum(enums.OrderState), nullable=False, index=True),
    Column("reply", Text, nullable=False, default=""),
    Column("resolution_kind", String(32)),
    Column("redo_count", Integer, nullable=False, default=0),
    Column("escalation_level", Integer, nullable=False, default=0),
    Column("dispatch_round", Integer, nullable=False, default=0),
    Column("merged_into", String(32), index=True),
    Column("accepted_at", UTCDateTime, nullable=False, index=True),
    Column("accepted_by", String(64), nullable=False),
    Column("first_dispatched_at", UTCDateTime),
    Column("responded_at", UTCDateTime),
    Column("resolved_at", UTCDateTime, index=True),  # the KPIs count resolutions and closures per day
    Column("closed_at", UTCDateTime, index=True),
    Column("response_due_at", UTCDateTime),
    Column("resolution_due_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    Column("call_ids", JSONType, nullable=False, default=list),
    Column("version", Integer, nullable=False),
    # Idempotent intake: one order per client (the accepting actor, e.g. ``api:wechat``) and reference.
    UniqueConstraint("accepted_by", "external_ref", name="uq_work_orders_intake_ref"),
)

order_assignments = Table(
    "order_assignments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("work_orders.id"), nullable=False, index=True),
    Column("unit_code", ForeignKey("units.code"), nullable=False),
    Column("role", _enum(enums.AssignmentRole), nullable=False),
    Column("assigned_at", UTCDateTime, nullable=False, index=True),
    Column("round", Integer, nullable=False),
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", String(64)),
    Column("active", Boolean, nullable=False),
    Index("ix_order_assignments_unit_active", "unit_code", "active"),
)

order_deadlines = Table(
    "order_deadlines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("work_orders.id"), nullable=False, index=True),
    Column("kind", _enum(enums.DeadlineKind), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("unit_code", String(64)),
    Column("level", Integer, nullable=False, default=0),
    Column("supervision_number", String(32)),
    Column("created_at", UTCDateTime),
    Column("fired_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    Index("ix_order_deadlines_due_at", "due_at"),  # the KPIs count settled deadlines by the day due
    # The scheduler's only query: pending deadlines by due time. A partial index keeps it small.
    Index(
        "ix_order_deadlines_pending_due",
        "due_at",
        postgresql_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
        sqlite_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
    ),
)

order_alarms = Table(
    "order_alarms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("work_orders.id"), nullable=False, index=True),
    Column("kind", _enum(enums.AlarmKind), nullable=False),
    Column("level", Integer, nullable=False),
    Column("raised_at", UTCDateTime, nullable=False, index=True),
    Column("unit_code", String(64)),
    Column("addressed_to", String(64), nullable=False),
    Column("message_zh", Text, nullable=False),
    Column("message_en", Text, nullable=False),
    Column("cleared_at", UTCDateTime),
)

order_requests = Table(
    "order_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("work_orders.id"), nullable=False, index=True),
    Column("kind", _enum(enums.RequestKind), nullable=False),
    Column("unit_code", String(64), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", _enum(enums.RequestStatus), nullable=False, index=True),
    Column("extend_days", Integer),
    Column("appeal_target", String(32)),
    Column("proposed_unit", String(64)),
    Column("decided_at", UTCDateTime),
    Column("decided_by", String(64)),
    Column("decision_note", Text, nullable=False, default=""),
)

order_callbacks = Table(
    "order_callbacks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("work_orders.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("by", String(64), nullable=False),
    Column("by_role", String(32), nullable=False),
    Column("outcome", _enum(enums.CallbackOutcome), nullable=False),
    Column("solved", Boolean),
    Column("rating", Integer),
    Column("note", Text, nullable=False, default=""),
    Column("recording_ref", String(128)),
    Column("unit_code", String(64)),
    Column("excluded_from_scores", Boolean, nullable=False, default=False),
)

order_supervisions = Table(
    "order_supervisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("work_orders.id"), nullable=False, index=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("unit_code", String(64), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", _enum(enums.SupervisionState), nullable=False),
    Column("acknowledged_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("referred_at", UTCDateTime),
)

order_cards = Table(
    "order_cards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("work_orders.id"), nullable=False, index=True),
    Column("color", _enum(enums.CardColor), nullable=False),
    Column("clock", _enum(enums.DeadlineKind), nullable=False),
    Column("unit_code", String(64), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("cleared_at", UTCDateTime),
    Index("ix_order_cards_unit_issued", "unit_code", "issued_at"),
)

order_negotiations = Table(
    "order_negotiations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("work_orders.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("by", String(64), nullable=False),
    Column("participants", JSONType, nullable=False),
    Column("lead_unit", String(64), nullable=False),
    Column("assist_units", JSONType, nullable=False),
    Column("note", Text, nullable=False),
)

# Append-only: the migration installs triggers that refuse UPDATE and DELETE on this table.
order_audit = Table(
    "order_audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("work_orders.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("action", String(48), nullable=False),
    Column("before", JSONType, nullable=False),
    Column("after", JSONType, nullable=False),
    Column("note", Text, nullable=False, default=""),
    UniqueConstraint("order_id", "seq"),
)

# Order numbers: a sequence on PostgreSQL, a counter row on SQLite; see routing.repository.NumberAllocator.
number_sequence = Sequence("hotline_number_seq", metadata=metadata)
number_counters = Table(
    "number_counters",
    metadata,
    Column("prefix", String(24), primary_key=True),
    Column("value", Integer, nullable=False),
)

_mapped = False


def map_domain() -> None:
    """Map the domain dataclasses onto the tables (once per process)."""
    global _mapped
    if _mapped:
        return
    _mapped = True
    mapper_registry.map_imperatively(Assignment, order_assignments)
    mapper_registry.map_imperatively(Deadline, order_deadlines)
    mapper_registry.map_imperatively(Alarm, order_alarms)
    mapper_registry.map_imperatively(OrderRequest, order_requests)
    mapper_registry.map_imperatively(CallbackRecord, order_callbacks)
    mapper_registry.map_imperatively(SupervisionOrder, order_supervisions)
    mapper_registry.map_imperatively(AuditEvent, order_audit)
    mapper_registry.map_imperatively(Card, order_cards)
    mapper_registry.map_imperatively(Negotiation, order_negotiations)

    def children(cls: type, order_by: Column[int]) -> object:
        return relationship(cls, order_by=order_by, cascade="all, delete-orphan", lazy="selectin")

    mapper_registry.map_imperatively(
        WorkOrder,
        work_orders,
        version_id_col=work_orders.c.version,
        properties={
            "assignments": children(Assignment, order_assignments.c.id),
            "deadlines": children(Deadline, order_deadlines.c.id),
            "alarms": children(Alarm, order_alarms.c.id),
            "requests": children(OrderRequest, order_requests.c.id),
            "callbacks": children(CallbackRecord, order_callbacks.c.id),
            "supervisions": children(SupervisionOrder, order_supervisions.c.id),
            "cards": children(Card, order_cards.c.id),
            "negotiations": children(Negotiation, order_negotiations.c.id),
            "history": children(AuditEvent, order_audit.c.id),
        },
    )

    @sa_event.listens_for(WorkOrder, "load")
    def _fresh_event_list(order: WorkOrder, _context: object) -> None:
        # Loaded orders skip __init__/__post_init__; domain events are per unit of work, never stored.
        order.events = []
