"""telephony: transfers and three-way calls with the emergency lines (110/119/120/122)

Revision ID: t0004
Revises: t0003
Create Date: 2026-11-24 12:00:00

国办发〔2022〕12号: one key on the desk puts the caller through to 110, 119, 120 or 122, or opens a three-way
call; each one is kept with the call (who, when, which line, whether the switch did it) and recorded on the
call's work order (routing's audit).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.db

revision: str = "t0004"
down_revision: str | Sequence[str] | None = "t0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tel_emergency_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("line", sa.String(length=8), nullable=False),
        sa.Column("dialled", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tel_emergency_transfers")),
    )
    with op.batch_alter_table("tel_emergency_transfers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tel_emergency_transfers_call_id"), ["call_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tel_emergency_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tel_emergency_transfers_call_id"))
    op.drop_table("tel_emergency_transfers")
