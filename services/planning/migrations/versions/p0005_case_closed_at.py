"""planning case closed_at, ip_refused_at and outgoing_coordinator_id

closed_at: a closed case gets no plan, and its plan closes with it. outgoing_coordinator_id:
during a handover's overlap the coordinator handing over still reads and edits the plan (R11).
ip_refused_at: the latest decision on IP refused it (R3), so no plan is drafted and a plan freezes.

Revision ID: p0005
Revises: p0004
Create Date: 2026-12-06 02:45:00
"""

import sqlalchemy as sa
from alembic import op

from shared.db.types import UTCDateTime

revision = "p0005"
down_revision = "p0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("planning_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("ip_refused_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("ip_decided_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("outgoing_coordinator_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("handover_done_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("planning_case", schema=None) as batch_op:
        batch_op.drop_column("handover_done_id")
        batch_op.drop_column("outgoing_coordinator_id")
        batch_op.drop_column("ip_decided_at")
        batch_op.drop_column("ip_refused_at")
        batch_op.drop_column("closed_at")
