"""planning consent valid_from

A consent recorded to start later does not count before then: no plan is made on it, and it
does not stand in for one that ends (R5, R7); consent.consent_in_force says when it starts.

Revision ID: p0007
Revises: p0006
Create Date: 2026-12-06 08:50:00
"""

import sqlalchemy as sa
from alembic import op

from shared.db.types import UTCDateTime

revision = "p0007"
down_revision = "p0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("planning_consent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("valid_from", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("planning_consent", schema=None) as batch_op:
        batch_op.drop_column("valid_from")
