"""Notifications' tables: the in-app inbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, service_registry

registry = service_registry()


class NotificationsBase(SQLModel, registry=registry):
    """Base of notifications' tables."""


class Notification(NotificationsBase, table=True):
    """A notice in a recipient's inbox. One per (trigger event, recipient): never twice."""

    __tablename__ = "notifications_notification"
    __table_args__ = (UniqueConstraint("trigger_event_id", "recipient_id", "kind"),)

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    recipient_kind: str = Field(
        default="coordinator",
        max_length=16,
        sa_column_kwargs={"server_default": "coordinator"},
        description="coordinator; ke (recipient_id is ke_inbox(org)); or person (then "
        "recipient_id is the person's case).",
    )
    recipient_id: uuid.UUID = Field(index=True)
    case_id: uuid.UUID | None = Field(default=None, index=True)
    kind: str = Field(max_length=64)
    text: str = Field(max_length=500)
    trigger_event_id: uuid.UUID
    created_at: datetime = Field(sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CaseCoordinator(NotificationsBase, table=True):
    """Who coordinates a case now, from assignment's events: the recipient of case notices."""

    __tablename__ = "notifications_case_coordinator"

    case_id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    coordinator_id: uuid.UUID | None = None
