"""suggest: what the agent kept or changed of each value the order form filled itself with

Revision ID: s0002
Revises: s0001
Create Date: 2026-12-02 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.db

revision: str = "s0002"
down_revision: str | Sequence[str] | None = "s0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assist_field_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("suggested", sa.Text(), nullable=False),
        sa.Column("final", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assist_field_choices")),
    )
    with op.batch_alter_table("assist_field_choices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assist_field_choices_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_assist_field_choices_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assist_field_choices_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assist_field_choices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assist_field_choices_order_id"))
        batch_op.drop_index(batch_op.f("ix_assist_field_choices_call_id"))
        batch_op.drop_index(batch_op.f("ix_assist_field_choices_at"))

    op.drop_table("assist_field_choices")
