"""consent child_heard

From 12 a child is heard before parents or barnevernet consent for them (R6): the consent
records whether they were. Consents recorded before this have none (unknown, not "not heard").

Revision ID: c0003
Revises: c0002
Create Date: 2026-12-06 22:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c0003"
down_revision = "c0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent_consent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("child_heard", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_consent", schema=None) as batch_op:
        batch_op.drop_column("child_heard")
