"""agent_ui: session revocation and log-in throttling for names that are not accounts

Revision ID: u0002sec
Revises: u0001
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.db

revision: str = "u0002sec"
down_revision: str | Sequence[str] | None = "u0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ui_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "ui_login_throttle",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_ui_login_throttle")),
    )
    with op.batch_alter_table("ui_login_throttle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ui_login_throttle_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ui_login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ui_login_throttle_updated_at"))
    op.drop_table("ui_login_throttle")
    with op.batch_alter_table("ui_users", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
