"""routing: merged orders (并单) and the indexes the published views count by day

Revision ID: rm001
Revises:
Create Date: 2026-12-04

A branch of its own (``routing_merges``), so that it does not fork the ``routing`` branch that other
work extends at the same time; it depends on routing's first revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rm001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("routing_merges",)
depends_on: str | Sequence[str] | None = "r0001"


def upgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_work_orders_merged_into"), ["merged_into"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_resolved_at"), ["resolved_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_closed_at"), ["closed_at"], unique=False)
    with op.batch_alter_table("order_deadlines", schema=None) as batch_op:
        batch_op.create_index("ix_order_deadlines_due_at", ["due_at"], unique=False)
    with op.batch_alter_table("order_callbacks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_callbacks_at"), ["at"], unique=False)
    with op.batch_alter_table("order_assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_assignments_assigned_at"), ["assigned_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_assignments_assigned_at"))
    with op.batch_alter_table("order_callbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_callbacks_at"))
    with op.batch_alter_table("order_deadlines", schema=None) as batch_op:
        batch_op.drop_index("ix_order_deadlines_due_at")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_orders_closed_at"))
        batch_op.drop_index(batch_op.f("ix_work_orders_resolved_at"))
        batch_op.drop_index(batch_op.f("ix_work_orders_merged_into"))
        batch_op.drop_column("merged_into")
