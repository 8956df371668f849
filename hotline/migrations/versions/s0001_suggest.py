"""suggest: the agents' feedback on category and unit suggestions

Revision ID: s0001
Revises:
Create Date: 2026-11-22 02:56:27.786391
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kernel.db

revision: str = "s0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("suggest",)
depends_on: str | Sequence[str] | None = "r0001"


def upgrade() -> None:
    op.create_table(
        "suggest_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "suggested",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("chosen_level1", sa.String(length=64), nullable=False),
        sa.Column("chosen_path", sa.String(length=200), nullable=True),
        sa.Column("chosen_unit", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggest_feedback")),
    )
    with op.batch_alter_table("suggest_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suggest_feedback_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_suggest_feedback_call_id"), ["call_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("suggest_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suggest_feedback_call_id"))
        batch_op.drop_index(batch_op.f("ix_suggest_feedback_at"))

    op.drop_table("suggest_feedback")
