"""Assignment's tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, service_registry

registry = service_registry()


class AssignmentBase(SQLModel, registry=registry):
    """Base of assignment's tables."""


class Coordinator(AssignmentBase, table=True):
    """An employee in the coordinator registry."""

    __tablename__ = "assignment_coordinator"
    __table_args__ = (UniqueConstraint("org", "staff_id"),)

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    staff_id: str = Field(max_length=128)
    display_name: str = Field(max_length=200)
    unit: str = Field(max_length=120)
    caseload_limit: int | None = None
    active: bool = True
    registered_at: datetime = Field(sa_type=UTCDateTime)


class AssignmentCase(AssignmentBase, table=True):
    """What assignment knows of a case: coordinator consent, and whether it awaits a coordinator."""

    __tablename__ = "assignment_case"

    case_id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63, index=True)
    case_ref: str = Field(max_length=32)
    coordinator_consent_id: uuid.UUID | None = None
    awaiting_since: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    primary_coordinator_id: uuid.UUID | None = Field(default=None, index=True)


class Appointment(AssignmentBase, table=True):
    """A coordinator's appointment to a case; ended appointments stay as history."""

    __tablename__ = "assignment_appointment"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_id: uuid.UUID = Field(index=True)
    coordinator_id: uuid.UUID = Field(foreign_key="assignment_coordinator.id", index=True)
    role: str = Field(max_length=16, default="primary")
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
