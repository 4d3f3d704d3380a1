"""Notifications' tables: the inbox, deliveries through channels, recipients' preferences,
the organisation's policy, reminders on the clock, and the projections they need."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, service_registry

registry = service_registry()


class NotificationsBase(SQLModel, registry=registry):
    """Base of notifications' tables."""


class Notification(NotificationsBase, table=True):
    """A notice in a recipient's inbox. One per (trigger, recipient, kind): never twice."""

    __tablename__ = "notifications_notification"
    __table_args__ = (
        UniqueConstraint("trigger_event_id", "recipient_id", "kind"),
        sa.Index("ix_notifications_notification_unread", "org", "important", "read_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    recipient_kind: str = Field(
        default="coordinator",
        max_length=16,
        sa_column_kwargs={"server_default": "coordinator"},
        description="coordinator; ke (recipient_id is ke_inbox(org)); member (a service's "
        "inbox); person (recipient_id is the case); next_of_kin; staff.",
    )
    recipient_id: uuid.UUID = Field(index=True)
    case_id: uuid.UUID | None = Field(default=None, index=True)
    case_ref: str | None = Field(default=None, max_length=16)
    kind: str = Field(max_length=64)
    text: str = Field(max_length=500)
    trigger_event_id: uuid.UUID
    created_at: datetime = Field(sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    read_by: str | None = Field(default=None, max_length=128)
    important: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    problem: str | None = Field(default=None, max_length=300)


class Delivery(NotificationsBase, table=True):
    """One notice (or a day's digest) through one channel to one recipient.

    pending → sending → sent; a failure goes back to pending with the channel's backoff, and
    after the last try (or at once when retrying cannot help) to dead, which also puts it in
    the dead-letter stream. held_digest waits for the recipient's daily digest; skipped: the
    notice was read first, or the recipient has no address for the channel.
    """

    __tablename__ = "notifications_delivery"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        sa.Index("ix_notifications_delivery_due", "status", "next_attempt_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    notification_id: uuid.UUID | None = Field(default=None, index=True)
    recipient_id: uuid.UUID = Field(index=True)
    channel: str = Field(max_length=40)
    kind: str = Field(max_length=64)
    status: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=300)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    count: int = 1
    digest_id: uuid.UUID | None = Field(default=None, index=True)
    digest_day: date | None = None


class Recipient(NotificationsBase, table=True):
    """A recipient's own preferences and addresses (personal data: never logged, shown
    masked). Absent fields fall back to the organisation's policy."""

    __tablename__ = "notifications_recipient"

    recipient_id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    kind: str = Field(max_length=16)
    case_id: uuid.UUID | None = Field(default=None, index=True)
    relative: str | None = Field(default=None, max_length=60)
    addresses: str = Field(default="{}", description="JSON: channel → address.")
    channels: str | None = Field(default=None, description="JSON list; None: the org default.")
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    quiet_off: bool = False
    digest: bool = False
    last_digest_on: date | None = None
    updated_at: datetime = Field(sa_type=UTCDateTime)
    updated_by: str = Field(max_length=128)


class OrgPolicy(NotificationsBase, table=True):
    """The organisation's defaults (shared.contracts.notifications.Policy as JSON)."""

    __tablename__ = "notifications_policy"

    org: str = Field(primary_key=True, max_length=63)
    policy: str
    updated_at: datetime = Field(sa_type=UTCDateTime)
    updated_by: str = Field(max_length=128)


class Reminder(NotificationsBase, table=True):
    """Something on the clock: a date of a plan, a meeting, a 16th birthday, an appeal
    deadline, a case waiting for a coordinator. ``fired`` lists the stages already told."""

    __tablename__ = "notifications_reminder"
    __table_args__ = (sa.Index("ix_notifications_reminder_next", "active", "next_fire_at"),)

    id: uuid.UUID = Field(primary_key=True, description="uuid5 of the source key")
    org: str = Field(max_length=63)
    kind: str = Field(max_length=32)
    case_id: uuid.UUID | None = Field(default=None, index=True)
    case_ref: str = Field(max_length=16)
    source: uuid.UUID | None = Field(
        default=None, index=True, description="The plan, meeting, decision ... it comes from."
    )
    item_id: str | None = Field(default=None, max_length=16)
    due_at: datetime = Field(sa_type=UTCDateTime)
    shown_on: date | None = Field(default=None, description="The date the notice names.")
    recipients: str = Field(
        default="[]", description='JSON: [{"kind": ..., "id": ...}] named beyond the audience.'
    )
    active: bool = True
    next_fire_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    fired: str = Field(default="", max_length=32, description="Comma-separated stages told.")
    updated_at: datetime = Field(sa_type=UTCDateTime)


class CaseCoordinator(NotificationsBase, table=True):
    """Who coordinates a case now, from assignment's events: the recipient of case notices."""

    __tablename__ = "notifications_case_coordinator"

    case_id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    coordinator_id: uuid.UUID | None = None
    coordinator_decided_at: datetime | None = Field(
        default=None,
        sa_type=UTCDateTime,
        description="When the latest decision on a coordinator was made (R4).",
    )
    coordinator_refused: bool = Field(
        default=False,
        sa_column_kwargs={"server_default": sa.false()},
        description="The latest decision refused a coordinator: the case waits for nobody.",
    )


class ParentConsent(NotificationsBase, table=True):
    """Consents given by parents (R6): whether a case needs renewal at 16."""

    __tablename__ = "notifications_parent_consent"

    consent_id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_id: uuid.UUID = Field(index=True)
    active: bool = True
