"""Kernel tables: outbox, inbox, command replies, append-only audit.

Revision ID: k0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from shared.db.types import UTCDateTime

revision = "k0001"
down_revision = None
branch_labels = ("kernel",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_outbox",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_kernel_outbox"),
        sa.UniqueConstraint("message_id", name="uq_kernel_outbox_message_id"),
    )
    op.create_index(
        "ix_kernel_outbox_unpublished",
        "kernel_outbox",
        ["seq"],
        sqlite_where=sa.text("published_at IS NULL"),
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "kernel_inbox",
        sa.Column("consumer", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "message_id", name="pk_kernel_inbox"),
    )
    op.create_table(
        "kernel_command_reply",
        sa.Column("command", sa.String(length=128), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("command", "request_id", name="pk_kernel_command_reply"),
    )
    op.create_table(
        "kernel_audit",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("org", sa.String(length=63), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=128), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_kernel_audit"),
    )
    op.create_index("ix_kernel_audit_at", "kernel_audit", ["at"])
    op.create_index("ix_kernel_audit_case_id", "kernel_audit", ["case_id"])

    # Append-only is enforced by the database itself, not by convention.
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER kernel_audit_no_{verb.lower()} BEFORE {verb} ON kernel_audit "
                "BEGIN SELECT RAISE(ABORT, 'kernel_audit is append-only'); END"
            )
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION kernel_audit_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'kernel_audit is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER kernel_audit_append_only BEFORE UPDATE OR DELETE ON kernel_audit "
            "FOR EACH ROW EXECUTE FUNCTION kernel_audit_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS kernel_audit_no_update")
        op.execute("DROP TRIGGER IF EXISTS kernel_audit_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS kernel_audit_append_only ON kernel_audit")
        op.execute("DROP FUNCTION IF EXISTS kernel_audit_append_only()")
    op.drop_table("kernel_audit")
    op.drop_table("kernel_command_reply")
    op.drop_table("kernel_inbox")
    op.drop_table("kernel_outbox")
