"""federation outgoing close_on and case_closed_at: a moved case closes on the moving day

Revision ID: f0002
Revises: f0001
Create Date: 2026-12-06 03:15:00
"""

import sqlalchemy as sa
from alembic import op

from shared.db.types import UTCDateTime

revision = "f0002"
down_revision = "f0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("federation_outgoing", schema=None) as batch_op:
        batch_op.add_column(sa.Column("close_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("case_closed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("federation_outgoing", schema=None) as batch_op:
        batch_op.drop_column("case_closed_at")
        batch_op.drop_column("close_on")
