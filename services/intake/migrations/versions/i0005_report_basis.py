"""report basis: why the hospital could pass a report of need on (consent or no objection)

Revision ID: i0005
Revises: i0004
Create Date: 2026-12-06 05:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "i0005"
down_revision = "i0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("intake_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reporter_basis", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intake_report", schema=None) as batch_op:
        batch_op.drop_column("reporter_basis")
