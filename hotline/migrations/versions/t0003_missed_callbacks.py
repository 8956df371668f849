"""telephony: missed-call callbacks (漏接电话回拨) and every callback attempt

Revision ID: t0003
Revises: t0002
Create Date: 2026-11-24 09:00:00

A call abandoned in the IVR or a queue becomes a callback request like one the citizen asked for
(``source``), due within the configured time (``due_by``); several missed calls of one number make one
callback (``missed_calls``). Each call of a callback is a row of ``tel_callback_attempts``. The IVR's route
is kept on the call, so that a caller who hung up before it was done is told from one it served.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.db

revision: str = "t0003"
down_revision: str | Sequence[str] | None = "t0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tel_queue_callbacks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=16), nullable=False, server_default="queue"))
        batch_op.add_column(sa.Column("due_by", kernel.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("missed_calls", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_index(batch_op.f("ix_tel_queue_callbacks_source"), ["source"], unique=False)
    with op.batch_alter_table("tel_calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ivr_route", sa.String(length=24), nullable=True))
    op.create_table(
        "tel_callback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("result", sa.String(length=24), nullable=False),
        sa.Column("dial_status", sa.String(length=24), nullable=False),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["tel_queue_callbacks.id"],
            name=op.f("fk_tel_callback_attempts_request_id_tel_queue_callbacks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tel_callback_attempts")),
    )
    with op.batch_alter_table("tel_callback_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tel_callback_attempts_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tel_callback_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tel_callback_attempts_request_id"))
    op.drop_table("tel_callback_attempts")
    with op.batch_alter_table("tel_calls", schema=None) as batch_op:
        batch_op.drop_column("ivr_route")
    with op.batch_alter_table("tel_queue_callbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tel_queue_callbacks_source"))
        batch_op.drop_column("missed_calls")
        batch_op.drop_column("due_by")
        batch_op.drop_column("source")
