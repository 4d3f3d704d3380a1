"""Assignment's tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, service_registry

registry = service_registry()


class AssignmentBase(SQLModel, registry=registry):
    """Base of assignment's tables."""


class Coordinator(AssignmentBase, table=True):
    """An employee in the coordinator registry (R9, R10, R17, R18).

    ``caseload`` is the number of cases the coordinator holds a running or planned period in;
    it is recounted from the appointments in every transaction that changes them, so
    suggestions can rank 10,000 coordinators without counting.
    """

    __tablename__ = "assignment_coordinator"
    __table_args__ = (
        UniqueConstraint("org", "staff_id"),
        Index("ix_assignment_coordinator_org_active", "org", "active"),
    )

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    staff_id: str = Field(max_length=128)
    display_name: str = Field(max_length=200)
    unit: str = Field(max_length=120)
    unit_key: str = Field(default="", max_length=120, description="unit.casefold(), to match on.")
    profession: str | None = Field(default=None, max_length=120)
    health_personnel: bool = False
    training_completed_on: date | None = None
    languages: str = Field(default=",nb,", max_length=200, description="',nb,en,': LIKE-able.")
    caseload_limit: int | None = None
    caseload: int = 0
    active: bool = True
    registered_at: datetime = Field(sa_type=UTCDateTime)
    deactivated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deactivation_reason: str | None = Field(default=None, max_length=300)


class AssignmentCase(AssignmentBase, table=True):
    """What assignment knows of a case: consent, the person's wish and needs, and whether it
    needs a (new) coordinator."""

    __tablename__ = "assignment_case"

    case_id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63, index=True)
    case_ref: str = Field(max_length=32)
    person_id: uuid.UUID | None = Field(default=None, index=True)
    birth_date: date | None = None
    coordinator_consent_id: uuid.UUID | None = None
    awaiting_since: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    awaiting_cause: str | None = Field(default=None, max_length=32)
    awaiting_note: str | None = Field(default=None, max_length=500)
    primary_coordinator_id: uuid.UUID | None = Field(default=None, index=True)
    episode_id: uuid.UUID | None = None
    kind: str | None = Field(default=None, max_length=16)
    wished_coordinator_id: uuid.UUID | None = None
    language: str | None = Field(default=None, max_length=3)
    unit: str | None = Field(default=None, max_length=120)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    coordinator_refused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """The latest decision on coordinator refused one (R4): none is appointed until a decision
    grants one."""
    coordinator_decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the latest decision on coordinator was made: an older one told late is ignored."""


class EndedConsent(AssignmentBase, table=True):
    """A coordinator consent this service was told has ended (R7).

    The gate is asked before a handler's transaction, not under the organisation's lock: an
    answer "in force" may be overtaken by the consent's end, handled meanwhile by another
    instance. What the answer named is looked up here under the lock, so a consent that has
    ended never starts coordination (``make_on_consent``)."""

    __tablename__ = "assignment_ended_consent"

    consent_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    ended_at: datetime = Field(sa_type=UTCDateTime)


class Episode(AssignmentBase, table=True):
    """Coordination of a case from the first appointment until it closes (EpisodeOfCare)."""

    __tablename__ = "assignment_episode"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=16)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    close_cause: str | None = Field(default=None, max_length=32)


class Appointment(AssignmentBase, table=True):
    """One coordinator in one role on one case for ``[started_at, ended_at)``; history stays.

    At most one open-ended primary period per case: a partial unique index backs R11 in the
    database, whatever the service does.
    """

    __tablename__ = "assignment_appointment"
    __table_args__ = (
        Index(
            "uq_assignment_appointment_open_primary",
            "case_id",
            unique=True,
            sqlite_where=text("role = 'primary' AND ended_at IS NULL"),
            postgresql_where=text("role = 'primary' AND ended_at IS NULL"),
        ),
        Index("ix_assignment_appointment_coordinator_open", "coordinator_id", "ended_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_id: uuid.UUID = Field(index=True)
    episode_id: uuid.UUID | None = Field(default=None, index=True)
    coordinator_id: uuid.UUID = Field(foreign_key="assignment_coordinator.id")
    role: str = Field(max_length=16, default="primary")
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Handover(AssignmentBase, table=True):
    """A planned change of coordinator (R11), and how far it has come."""

    __tablename__ = "assignment_handover"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_id: uuid.UUID = Field(index=True)
    episode_id: uuid.UUID
    from_coordinator_id: uuid.UUID
    to_coordinator_id: uuid.UUID
    incoming_appointment_id: uuid.UUID
    overlap_start: datetime = Field(sa_type=UTCDateTime, index=True)
    overlap_end: datetime = Field(sa_type=UTCDateTime, index=True)
    status: str = Field(max_length=16, default="planned", index=True)
    reason: str | None = Field(default=None, max_length=300)
    planned_by: str = Field(max_length=128)
    planned_at: datetime = Field(sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Duty(AssignmentBase, table=True):
    """A task that follows a first appointment, with a due date (R9, R12, R19)."""

    __tablename__ = "assignment_duty"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_id: uuid.UUID = Field(index=True)
    episode_id: uuid.UUID
    kind: str = Field(max_length=32)
    due_on: date = Field(index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: str | None = Field(default=None, max_length=128)
    note: str | None = Field(default=None, max_length=1000)
    overdue_announced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    result: str | None = Field(default=None, max_length=500)
    """JSON: what the duty found (map_children: ``ChildrenMapping``, R12)."""


def languages_column(codes: list[str]) -> str:
    """``['nb', 'en']`` as stored: ``',nb,en,'``."""
    return "," + ",".join(codes) + "," if codes else ","


def languages_list(stored: str) -> list[str]:
    return [c for c in stored.split(",") if c]
