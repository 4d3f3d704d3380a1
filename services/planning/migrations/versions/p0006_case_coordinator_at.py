"""planning case coordinator_at

When the latest appointment or stop of coordination that set the case's coordinator happened:
a coordinator whose coordination stopped (R4, R7) no longer reads or edits the plan, and an
older appointment or stop told late changes nothing.

Revision ID: p0006
Revises: p0005
Create Date: 2026-12-06 08:40:00
"""

import sqlalchemy as sa
from alembic import op

from shared.db.types import UTCDateTime

revision = "p0006"
down_revision = "p0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("planning_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coordinator_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("planning_case", schema=None) as batch_op:
        batch_op.drop_column("coordinator_at")
