"""assignment ended consents

The coordinator consents assignment was told have ended (R7), looked up under the lock so a
gate answer overtaken by the consent's end never starts coordination.

Revision ID: a0004
Revises: a0003
Create Date: 2026-12-07 02:40:00
"""

import sqlalchemy as sa
from alembic import op

from shared.db.types import UTCDateTime

revision = "a0004"
down_revision = "a0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignment_ended_consent",
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consent_id", name=op.f("pk_assignment_ended_consent")),
    )
    with op.batch_alter_table("assignment_ended_consent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignment_ended_consent_case_id"), ["case_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assignment_ended_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_ended_consent_case_id"))
    op.drop_table("assignment_ended_consent")
