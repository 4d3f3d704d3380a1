"""case coordinator: the latest decision on a coordinator (R4)

A refused coordinator decision may reach notifications before an older "case awaiting
coordinator" event; remembering the latest decision keeps that stale event from telling the KE
and from bringing its reminder back.

Revision ID: n0004
Revises: n0003
Create Date: 2026-12-06 05:30:00
"""

import sqlalchemy as sa
from alembic import op

from shared.db.types import UTCDateTime

revision = "n0004"
down_revision = "n0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications_case_coordinator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coordinator_decided_at", UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "coordinator_refused", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications_case_coordinator", schema=None) as batch_op:
        batch_op.drop_column("coordinator_refused")
        batch_op.drop_column("coordinator_decided_at")
