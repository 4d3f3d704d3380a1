"""Notifications' public language: the inbox, preferences, the organisation's policy,
deliveries through channels, reminders on the clock."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .commands import Command, Query
from .envelope import Event, event_contract

SERVICE = "notifications"

RecipientKind = Literal["coordinator", "ke", "member", "person", "next_of_kin", "staff"]


def ke_inbox(org: str) -> uuid.UUID:
    """The recipient id of an organisation's KE inbox (notices for the unit as a whole)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"urn:kenett:{org}:ke")


def person_inbox(case_id: uuid.UUID) -> uuid.UUID:
    """The person's inbox is keyed by their case (no identity number anywhere in notices)."""
    return case_id


def next_of_kin_inbox(org: str, case_id: uuid.UUID, relative: str) -> uuid.UUID:
    """A relative named in the person's next-of-kin consent (R8), e.g. ``mor``."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"urn:kenett:{org}:case:{case_id}:nok:{relative}")


# --- The inbox --------------------------------------------------------------------------------


class ListInbox(Query):
    """A recipient's in-app inbox, newest first."""

    QUERY: ClassVar[str] = "inbox"

    recipient_id: uuid.UUID
    unread_only: bool = False
    limit: int = Field(200, ge=1, le=1000)


class NotificationView(BaseModel):
    """One notice; its text names a case reference, never a person."""

    notification_id: uuid.UUID
    case_id: uuid.UUID | None
    kind: str
    text: str
    created_at: datetime
    read_at: datetime | None
    important: bool = False
    escalated_at: datetime | None = None
    problem: str | None = None
    """What went wrong in making this notice, if anything (e.g. the case had no coordinator
    known, so the KE was told instead)."""


class Inbox(BaseModel):
    """Reply to ListInbox."""

    notifications: list[NotificationView]
    unread: int = 0


class MarkRead(Command):
    """Mark notices read (or unread again). Reading a notice also cancels what was still
    waiting to be sent about it (a deferred e-mail, a digest line)."""

    COMMAND: ClassVar[str] = "mark_read"

    recipient_id: uuid.UUID
    notification_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    read: bool = True
    by: str = Field(min_length=1, max_length=128, description="Staff id of the reader.")


class MarkReadResult(BaseModel):
    changed: int
    unread: int


class ListUnreadImportant(Query):
    """The KE's view: important notices (a case without coordinator, an overdue duty, ...)
    that nobody has read after ``older_than_hours`` (the org's escalation time if absent),
    oldest first, a page at a time (the reply's ``total`` counts them all)."""

    QUERY: ClassVar[str] = "unread_important"

    older_than_hours: float | None = Field(None, ge=0, le=24 * 365)
    limit: int = Field(200, ge=1, le=500, description="Notices per page.")
    offset: int = Field(0, ge=0, description="Notices to skip: the next_offset of a page.")


class UnreadNotice(BaseModel):
    notification_id: uuid.UUID
    recipient_id: uuid.UUID
    recipient_kind: str
    case_id: uuid.UUID | None
    kind: str
    created_at: datetime
    hours_unread: float
    escalated_at: datetime | None


class UnreadImportant(BaseModel):
    """Reply to ListUnreadImportant: one page, oldest first."""

    notices: list[UnreadNotice]
    total: int = Field(0, description="Notices on the list (all pages).")
    next_offset: int | None = Field(None, description="The offset of the next page, if any.")


# --- Preferences and the organisation's policy --------------------------------------------

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class QuietHours(BaseModel):
    """No e-mail or SMS between ``start`` and ``end`` (local time; may span midnight). What
    falls due then waits until ``end``; the inbox and webhooks are not held."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time
    end: time

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end are the same time: give a period, or no quiet hours")
        return self


class RecipientRef(BaseModel):
    """Whose preferences: a staff member or coordinator (``id``), the KE, a service's inbox,
    the person of a case, or a named relative of a case (R8)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: RecipientKind
    id: uuid.UUID | None = Field(None, description="coordinator, member, staff: their id.")
    case_id: uuid.UUID | None = Field(None, description="person, next_of_kin: the case.")
    relative: str | None = Field(
        None, min_length=1, max_length=60, description="next_of_kin: e.g. mor, as in the consent."
    )

    @model_validator(mode="after")
    def _complete(self) -> RecipientRef:
        if self.kind in ("person", "next_of_kin") and self.case_id is None:
            raise ValueError(f"a {self.kind} recipient is given by case_id")
        if self.kind == "next_of_kin" and not self.relative:
            raise ValueError("a next_of_kin recipient names the relative, as in the consent")
        if self.kind in ("coordinator", "member", "staff") and self.id is None:
            raise ValueError(f"a {self.kind} recipient is given by id")
        return self

    def recipient_id(self, org: str) -> uuid.UUID:
        if self.kind == "ke":
            return ke_inbox(org)
        if self.kind == "person":
            assert self.case_id is not None
            return person_inbox(self.case_id)
        if self.kind == "next_of_kin":
            assert self.case_id is not None and self.relative is not None
            return next_of_kin_inbox(org, self.case_id, self.relative)
        assert self.id is not None
        return self.id


class SetPreferences(Command):
    """A recipient's own choices, over the organisation's defaults: where to reach them (one
    address per channel), which channels to use (None: the org's default), quiet hours (None:
    the org's; ``quiet_hours_off``: none at all), and a daily digest instead of one message
    per notice."""

    COMMAND: ClassVar[str] = "set_preferences"

    recipient: RecipientRef
    addresses: dict[str, str] = Field(default_factory=dict, max_length=10)
    channels: list[str] | None = Field(None, max_length=10)
    quiet_hours: QuietHours | None = None
    quiet_hours_off: bool = False
    digest: bool = False


class GetPreferences(Query):
    """A recipient's preferences, and what applies after the org's defaults fill the gaps."""

    QUERY: ClassVar[str] = "preferences"

    recipient: RecipientRef


class Preferences(BaseModel):
    recipient_id: uuid.UUID
    kind: str
    channels: list[str]
    """Channels in use (own choice or the org's default), besides the inbox."""
    own_channels: list[str] | None
    addresses: dict[str, str]
    """Channel → address, shown masked (``o***@example.no``) to keep screens and logs clean."""
    quiet_hours: QuietHours | None
    digest: bool
    missing_addresses: list[str]
    """Channels in use for which no address is registered: those notices stay in the inbox."""


class LeadTimes(BaseModel):
    """How long before (or after) a date each reminder comes (R3, R6, R10-R12, R16)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    evaluation_days: int = Field(7, ge=0, le=365, description="Before an evaluation date (R16).")
    measure_deadline_days: int = Field(7, ge=0, le=365, description="Before a measure deadline.")
    meeting_hours: int = Field(24, ge=0, le=24 * 60, description="Before a group meeting.")
    consent_renewal_days: int = Field(
        30, ge=0, le=365, description="Before the 16th birthday, for parents' consents (R6)."
    )
    appeal_days: int = Field(7, ge=0, le=28, description="Before an appeal deadline (R3).")
    without_coordinator_days: int = Field(
        3, ge=0, le=365, description="A case still without coordinator after this (R11)."
    )


class Policy(BaseModel):
    """The organisation's defaults for notices."""

    model_config = ConfigDict(extra="forbid")

    default_channels: list[str] = Field(default_factory=list, max_length=10)
    quiet_hours: QuietHours | None = QuietHours(start=time(21, 0), end=time(7, 0))
    digest_at: time = Field(time(7, 30), description="When daily digests go out (local time).")
    lead_times: LeadTimes = LeadTimes()
    escalate_after_hours: float = Field(
        24, gt=0, le=24 * 60, description="Important notices unread this long escalate."
    )
    escalation_recipient: RecipientRef = RecipientRef(kind="ke")

    @field_validator("digest_at")
    @classmethod
    def _whole_minutes(cls, value: time) -> time:
        return value.replace(second=0, microsecond=0)


class SetPolicy(Command):
    """Replace the organisation's notice policy."""

    COMMAND: ClassVar[str] = "set_policy"

    policy: Policy


class GetPolicy(Query):
    QUERY: ClassVar[str] = "policy"


# --- Deliveries -----------------------------------------------------------------------------

DeliveryStatus = Literal["pending", "sending", "sent", "held_digest", "digested", "dead", "skipped"]


class ListDeliveries(Query):
    """Deliveries of one notice, of one recipient, or in one status (newest first)."""

    QUERY: ClassVar[str] = "deliveries"

    notification_id: uuid.UUID | None = None
    recipient_id: uuid.UUID | None = None
    status: DeliveryStatus | None = None
    limit: int = Field(100, ge=1, le=1000)


class DeliveryView(BaseModel):
    delivery_id: uuid.UUID
    notification_id: uuid.UUID | None
    recipient_id: uuid.UUID
    channel: str
    kind: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime
    count: int


class Deliveries(BaseModel):
    deliveries: list[DeliveryView]


class ResendDelivery(Command):
    """Send a dead (or sent) delivery again, e.g. from ``kenett dlq resend`` after the address
    was corrected. Attempts start again from the first."""

    COMMAND: ClassVar[str] = "resend"

    delivery_id: uuid.UUID


class SweepNotifications(Command):
    """Fire the reminders that are due, escalate unread important notices, send digests, and
    send what is waiting. The service does this by itself; the command runs it now."""

    COMMAND: ClassVar[str] = "sweep"


class SweepResult(BaseModel):
    reminders: int = 0
    """Notices made by reminders now due."""
    escalated: int = 0
    digests: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0


class ListChannels(Query):
    """The channels installed and enabled in this instance."""

    QUERY: ClassVar[str] = "channels"


class ChannelInfo(BaseModel):
    name: str
    title: str
    description: str
    respects_quiet_hours: bool
    attempts: int


class Channels(BaseModel):
    channels: list[ChannelInfo]


class ListReminders(Query):
    """Reminders on the clock for a case (or all, soonest first)."""

    QUERY: ClassVar[str] = "reminders"

    case_id: uuid.UUID | None = None
    limit: int = Field(200, ge=1, le=1000)


class ReminderView(BaseModel):
    reminder_id: uuid.UUID
    case_id: uuid.UUID | None
    kind: str
    item_id: str | None
    due_at: datetime
    active: bool
    fired: list[str]


class Reminders(BaseModel):
    reminders: list[ReminderView]


# --- Events ---------------------------------------------------------------------------------


@event_contract
class NotificationCreated(Event):
    """A notice was put in a recipient's inbox."""

    TYPE = "notifications.notification_created"
    VERSION = 1

    notification_id: uuid.UUID
    case_id: uuid.UUID | None
    recipient_id: uuid.UUID
    kind: str
    trigger_event_id: uuid.UUID


@event_contract
class NoticeEscalated(Event):
    """An important notice was not read in time; ``escalated_to`` was told."""

    TYPE = "notifications.notice_escalated"
    VERSION = 1

    notification_id: uuid.UUID
    case_id: uuid.UUID | None
    kind: str
    escalated_to: uuid.UUID
    unread_since: datetime


@event_contract
class DeliveryDead(Event):
    """A delivery through a channel gave up; it is in the dead-letter stream with the reason."""

    TYPE = "notifications.delivery_dead"
    VERSION = 1

    delivery_id: uuid.UUID
    notification_id: uuid.UUID | None
    channel: str
    reason: str
    attempts: int
