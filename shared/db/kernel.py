"""Tables every service has: outbox, inbox, command replies, and the append-only audit log."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, service_registry

kernel_registry = service_registry()


class KernelBase(SQLModel, registry=kernel_registry):
    """Base of the kernel tables."""


class OutboxMessage(KernelBase, table=True):
    """An event written in the same transaction as the change that caused it."""

    __tablename__ = "kernel_outbox"
    __table_args__ = (
        Index(
            "ix_kernel_outbox_unpublished",
            "seq",
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    seq: int | None = Field(
        default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True)
    )
    message_id: uuid.UUID = Field(unique=True)
    subject: str = Field(max_length=255)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProcessedMessage(KernelBase, table=True):
    """Inbox: a message id a consumer has applied, written with the state change it caused."""

    __tablename__ = "kernel_inbox"

    consumer: str = Field(primary_key=True, max_length=128)
    message_id: uuid.UUID = Field(primary_key=True)
    processed_at: datetime = Field(sa_type=UTCDateTime)


class CommandReply(KernelBase, table=True):
    """The reply given to a command with an idempotency key, returned again on a retry."""

    __tablename__ = "kernel_command_reply"

    command: str = Field(primary_key=True, max_length=128)
    request_id: uuid.UUID = Field(primary_key=True)
    reply: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)


class AuditRecord(KernelBase, table=True):
    """Who did or read what, when, in which case. Append-only: the database refuses changes."""

    __tablename__ = "kernel_audit"

    seq: int | None = Field(
        default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True)
    )
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    org: str = Field(max_length=63)
    actor_kind: str = Field(max_length=16)
    actor_id: str = Field(max_length=128)
    action: str = Field(max_length=128)
    case_id: uuid.UUID | None = Field(default=None, index=True)
    outcome: str = Field(sa_column=Column(String(64), nullable=False))
    detail: str | None = Field(default=None, max_length=500)
