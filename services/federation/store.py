"""Federation's tables: case links between organisations, every message sent and received with
its receipt, the per-link sequence numbers that keep messages in order, and the coordinators
of a linked case at each organisation."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, service_registry

registry = service_registry()


class FederationBase(SQLModel, registry=registry):
    """Base of federation's tables."""


class Link(FederationBase, table=True):
    """A case shared with other organisations. The link id is the same at every party; the
    local case (if any) is this organisation's own."""

    __tablename__ = "federation_link"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63, index=True)
    case_id: uuid.UUID | None = Field(default=None, index=True)
    case_ref: str | None = Field(default=None, max_length=32)
    parties: str = Field(max_length=500, description="JSON list of organisation codes.")
    references: str = Field(default="{}", max_length=2000, description="JSON: org → case ref.")
    created_at: datetime = Field(sa_type=UTCDateTime)


class LinkSequence(FederationBase, table=True):
    """The last sequence number sent to (``out``) or applied from (``in``) a party on a link."""

    __tablename__ = "federation_link_sequence"

    link_id: uuid.UUID = Field(primary_key=True)
    peer: str = Field(primary_key=True, max_length=63)
    direction: str = Field(primary_key=True, max_length=3)
    last: int = 0


class Outgoing(FederationBase, table=True):
    """A message this organisation sent; its receipt fills in status, code, reason, reference.

    status: sent → accepted | refused. ``answer``: for a message that asks (a handover
    proposal), the answer when it comes: accepted | refused."""

    __tablename__ = "federation_outgoing"
    __table_args__ = (sa.Index("ix_federation_outgoing_waiting", "status", "created_at"),)

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    link_id: uuid.UUID = Field(index=True)
    to_org: str = Field(max_length=63)
    type: str = Field(max_length=64)
    version: int
    seq: int
    reply_to: uuid.UUID | None = None
    actor_id: str = Field(max_length=128)
    created_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="sent", max_length=16)
    code: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=1000)
    reference: str | None = Field(default=None, max_length=64)
    receipt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    overdue_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answer: str | None = Field(default=None, max_length=16)
    answer_reason: str | None = Field(default=None, max_length=500)
    close_on: date | None = None
    """A case transfer: the day the person moves. The case here closes then (once the new
    municipality has confirmed), not before: the coordinator stays until the move (R11)."""
    case_closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """A case transfer: when the case here was closed, reason moved."""
    detail: str | None = Field(
        default=None,
        sa_column=sa.Column(sa.Text, nullable=True),
        description="JSON of what a later answer needs (e.g. a proposal's dates); no identity.",
    )


class Incoming(FederationBase, table=True):
    """A message received (authentic: signature checked), with what was done with it.

    status: accepted | refused | pending (waits for a user's answer, e.g. a handover proposal)
    → answered."""

    __tablename__ = "federation_incoming"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    link_id: uuid.UUID = Field(index=True)
    from_org: str = Field(max_length=63)
    type: str = Field(max_length=64)
    version: int
    seq: int
    reply_to: uuid.UUID | None = None
    received_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(max_length=16)
    code: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=1000)
    reference: str | None = Field(default=None, max_length=64)
    payload: str | None = Field(
        default=None,
        sa_column=sa.Column(sa.Text, nullable=True),
        description="The opened payload of a message that waits for an answer.",
    )
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LinkCoordinator(FederationBase, table=True):
    """A coordinator of a linked case at one of the organisations, by staff id (R11, R17)."""

    __tablename__ = "federation_link_coordinator"
    __table_args__ = (sa.UniqueConstraint("link_id", "org", "staff_id"),)

    id: uuid.UUID = Field(primary_key=True)
    link_id: uuid.UUID = Field(index=True)
    org: str = Field(max_length=63)
    staff_id: str = Field(max_length=64)
    role: str = Field(max_length=32)
    since: date | None = None
    until: date | None = None


class SharedPlan(FederationBase, table=True):
    """What another organisation shared with this one on a link (receiving side): the measures
    this organisation is responsible for (kind measures), or a moving person's plan (transfer).
    Replaced by each new share; an empty share removes what was shared."""

    __tablename__ = "federation_shared_plan"

    link_id: uuid.UUID = Field(primary_key=True)
    from_org: str = Field(primary_key=True, max_length=63)
    kind: str = Field(max_length=16)
    case_ref: str | None = Field(default=None, max_length=32)
    plan_version: int | None = None
    content: str = Field(sa_column=sa.Column(sa.Text, nullable=False), description="JSON.")
    received_at: datetime = Field(sa_type=UTCDateTime)


class ShareState(FederationBase, table=True):
    """What this organisation last shared with a partner on a link (sending side), so that a
    new plan version or a changed consent sends a share only when what may be seen changed."""

    __tablename__ = "federation_share_state"

    link_id: uuid.UUID = Field(primary_key=True)
    partner: str = Field(primary_key=True, max_length=63)
    digest: str = Field(max_length=64)
    count: int = 0
    plan_version: int = 0
    shared_at: datetime = Field(sa_type=UTCDateTime)
