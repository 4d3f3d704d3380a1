"""assignment case coordinator_refused_at, duty result

coordinator_refused_at: the KE decided against a coordinator (R4). result: what a duty found
(mapping children as next of kin and siblings, R12).

Revision ID: a0003
Revises: a0002
Create Date: 2026-12-06 02:55:00
"""

import sqlalchemy as sa
from alembic import op

from shared.db.types import UTCDateTime

revision = "a0003"
down_revision = "a0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignment_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coordinator_refused_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("coordinator_decided_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("assignment_duty", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignment_duty", schema=None) as batch_op:
        batch_op.drop_column("result")
    with op.batch_alter_table("assignment_case", schema=None) as batch_op:
        batch_op.drop_column("coordinator_decided_at")
        batch_op.drop_column("coordinator_refused_at")
