"""agent_ui: web desk user accounts and the access audit.

Revision ID: u0001
Revises:
Create Date: 2026-11-22 02:47:16
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.db

revision: str = "u0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("agent_ui",)
depends_on: str | Sequence[str] | None = "r0001"


def upgrade() -> None:
    op.create_table(
        "access_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_audit")),
    )
    with op.batch_alter_table("access_audit", schema=None) as batch_op:
        batch_op.create_index("ix_access_audit_at", ["at"], unique=False)
        batch_op.create_index("ix_access_audit_subject", ["subject"], unique=False)

    op.create_table(
        "ui_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"], name=op.f("fk_ui_users_unit_code_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ui_users")),
        sa.UniqueConstraint("username", name=op.f("uq_ui_users_username")),
    )


def downgrade() -> None:
    op.drop_table("ui_users")
    with op.batch_alter_table("access_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_access_audit_subject")
        batch_op.drop_index("ix_access_audit_at")
    op.drop_table("access_audit")
