"""What the agent did with a suggestion (accepted it, or changed it): the material the models learn from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, JSONType, UTCDateTime


class SuggestionFeedback(Base):
    __tablename__ = "suggest_feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    agent: Mapped[str] = mapped_column(String(64), default="")
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    order_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    suggested: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the Suggestions shown, as sent to the desk
    chosen_level1: Mapped[str] = mapped_column(String(64))
    chosen_path: Mapped[str | None] = mapped_column(String(200), nullable=True)
    chosen_unit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # accepted | changed


class AssistFieldChoice(Base):
    """What the agent did with one value the order form filled itself with (智能填单), per field and order:
    ``accepted`` (confirmed it), ``kept`` (filed it unchanged), ``changed``, ``cleared``. The measure of the
    assist (fields kept) and material for retraining the extractors."""

    __tablename__ = "assist_field_choices"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    agent: Mapped[str] = mapped_column(String(64), default="")
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    order_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    field: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16), default="")  # screen_pop | speech | model
    suggested: Mapped[str] = mapped_column(Text, default="")
    final: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16))
