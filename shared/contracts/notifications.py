"""Notifications' public language: the in-app inbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel

from .commands import Query
from .envelope import Event, event_contract

SERVICE = "notifications"


def ke_inbox(org: str) -> uuid.UUID:
    """The recipient id of an organisation's KE inbox (notices for the unit as a whole)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"urn:kenett:{org}:ke")


class ListInbox(Query):
    """A recipient's in-app inbox."""

    QUERY: ClassVar[str] = "inbox"

    recipient_id: uuid.UUID


class NotificationView(BaseModel):
    """One notice; its text names a case reference, never a person."""

    notification_id: uuid.UUID
    case_id: uuid.UUID | None
    kind: str
    text: str
    created_at: datetime
    read_at: datetime | None


class Inbox(BaseModel):
    """Reply to ListInbox."""

    notifications: list[NotificationView]


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
