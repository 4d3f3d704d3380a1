"""Intake's tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, service_registry

registry = service_registry()


class IntakeBase(SQLModel, registry=registry):
    """Base of intake's tables."""


class Person(IntakeBase, table=True):
    """One record per person per organisation, however many reports arrive."""

    __tablename__ = "intake_person"
    __table_args__ = (UniqueConstraint("org", "national_id"),)

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    national_id: str = Field(max_length=11)
    birth_date: date
    created_at: datetime = Field(sa_type=UTCDateTime)


class Case(IntakeBase, table=True):
    """One case per need: at most one open case per person (a further report is attached)."""

    __tablename__ = "intake_case"
    __table_args__ = (
        UniqueConstraint("org", "ref"),
        Index(
            "uq_intake_case_open_person",
            "person_id",
            unique=True,
            sqlite_where=text("status <> 'closed'"),
            postgresql_where=text("status <> 'closed'"),
        ),
        # The KE's overview: counts per status, and each status's cases longest waiting first.
        Index("ix_intake_case_org_status_received", "org", "status", "received_at", "id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    ref: str = Field(max_length=32)
    person_id: uuid.UUID = Field(foreign_key="intake_person.id", index=True)
    served_org: str = Field(max_length=63, description="The municipality the case is for.")
    status: str = Field(max_length=32, index=True)
    needs: str = Field(max_length=64, description="Comma-separated Need values.")
    received_at: datetime = Field(sa_type=UTCDateTime, description="The first report's time.")
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_reason: str | None = Field(default=None, max_length=32)


class Report(IntakeBase, table=True):
    """A report of need (R2): who reported, how, when, and who recorded it."""

    __tablename__ = "intake_report"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_id: uuid.UUID = Field(foreign_key="intake_case.id", index=True)
    reporter_kind: str = Field(max_length=32)
    reporter_relation: str | None = Field(default=None, max_length=80)
    reporter_unit: str | None = Field(default=None, max_length=120)
    reporter_department: str | None = Field(default=None, max_length=120)
    expected_discharge: date | None = None
    reporter_basis: str | None = Field(
        default=None,
        max_length=16,
        description="Why the hospital could pass the report on: consent or no_objection.",
    )
    form: str = Field(max_length=16)
    services: str = Field(sa_column=Column(Text, nullable=False), description="JSON list.")
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by: str = Field(max_length=128)
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class CaseCounter(IntakeBase, table=True):
    """The running number behind case references, per org and year."""

    __tablename__ = "intake_case_counter"

    org: str = Field(primary_key=True, max_length=63)
    year: int = Field(primary_key=True)
    last: int


class EligibilityAssessment(IntakeBase, table=True):
    """An R1 proposal with its reasons, as shown to the case officer."""

    __tablename__ = "intake_assessment"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_id: uuid.UUID = Field(foreign_key="intake_case.id", index=True)
    proposal: str = Field(max_length=32)
    reasons: str = Field(sa_column=Column(Text, nullable=False), description="JSON list.")
    services: str = Field(sa_column=Column(Text, nullable=False), description="JSON list.")
    expected_duration: str = Field(max_length=32)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    assessed_by: str = Field(max_length=128)
    assessed_at: datetime = Field(sa_type=UTCDateTime)


class Decision(IntakeBase, table=True):
    """An enkeltvedtak on IP (R3) or a beslutning on coordinator (R4)."""

    __tablename__ = "intake_decision"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_id: uuid.UUID = Field(foreign_key="intake_case.id", index=True)
    kind: str = Field(max_length=16)
    granted: bool
    grounds: str = Field(sa_column=Column(Text, nullable=False))
    decided_by: str = Field(max_length=128)
    decided_at: datetime = Field(sa_type=UTCDateTime, index=True)
    notified_on: date
    appeal_deadline: date | None = Field(default=None, index=True)


class Appeal(IntakeBase, table=True):
    """An appeal of an IP decision, to be sent on to the Statsforvalter (R3)."""

    __tablename__ = "intake_appeal"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    decision_id: uuid.UUID = Field(foreign_key="intake_decision.id", index=True)
    case_id: uuid.UUID = Field(index=True)
    received_on: date
    deadline: date
    in_time: bool
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    registered_by: str = Field(max_length=128)
    registered_at: datetime = Field(sa_type=UTCDateTime)


class Offer(IntakeBase, table=True):
    """A habilitation or rehabilitation offer in the KE's overview (R18)."""

    __tablename__ = "intake_offer"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    level: str = Field(max_length=32)
    provider: str = Field(max_length=200)
    contact: str = Field(max_length=300)
    target_group: str | None = Field(default=None, max_length=300)
    service_types: str = Field(sa_column=Column(Text, nullable=False), description="JSON list.")
    registered_at: datetime = Field(sa_type=UTCDateTime)
