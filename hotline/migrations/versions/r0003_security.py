"""routing: idempotent intake per client and reference; phone-number grants for integration keys

Revision ID: r0003sec
Revises: r0002
Create Date: 2026-11-23 09:00:00

A client that retries an intake after a lost answer (a timeout, a crash) sends the same ``external_ref``;
the unique constraint on (accepted_by, external_ref) makes the second attempt find the first order.
Orders filed twice before this revision keep their reference on the first one only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0003sec"
down_revision: str | Sequence[str] | None = "r0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE work_orders SET external_ref = NULL WHERE external_ref IS NOT NULL AND id NOT IN "
        "(SELECT MIN(id) FROM work_orders WHERE external_ref IS NOT NULL GROUP BY accepted_by, external_ref)"
    )
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_work_orders_intake_ref", ["accepted_by", "external_ref"])
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone_access", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.drop_column("phone_access")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_constraint("uq_work_orders_intake_ref", type_="unique")
