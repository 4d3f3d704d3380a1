"""Consent's tables: the consents themselves and a projection of the cases they belong to."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Column, Integer, String, Text
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, service_registry

registry = service_registry()


class ConsentBase(SQLModel, registry=registry):
    """Base of consent's tables."""


class ConsentCase(ConsentBase, table=True):
    """What consent knows of a case: its reference and the birth date that R6 needs."""

    __tablename__ = "consent_case"

    case_id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_ref: str = Field(max_length=32)
    birth_date: date
    sixteen_on: date | None = Field(default=None, index=True, description="R6: majority day.")


class Consent(ConsentBase, table=True):
    """A consent and its evidence (R7). Rows are added, never overwritten."""

    __tablename__ = "consent_consent"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=32)
    giver_role: str = Field(max_length=32)
    legal_basis: str | None = Field(default=None, max_length=200)
    givers: str = Field(
        default="[]",
        sa_column=Column(Text, nullable=False, server_default="[]"),
        description="JSON list of {role, legal_basis}: both parents where both consent.",
    )
    parental_responsibility: str | None = Field(default=None, max_length=8)
    form: str = Field(max_length=16)
    recorded_by: str = Field(max_length=128)
    given_at: datetime = Field(sa_type=UTCDateTime)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    document_ref: str | None = Field(default=None, max_length=200)
    valid_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    scope: str | None = Field(
        default=None,
        sa_column=Column(Text, nullable=True),
        description="JSON {grantees, life_areas, content_kinds} for sharing and next of kin.",
    )
    status: str = Field(
        default="active",
        sa_column=Column(String(16), nullable=False, server_default="active", index=True),
    )
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    child_heard: str | None = Field(
        default=None, max_length=32, description="R6: heard, could_not_be_heard or declined."
    )


class ConsentChange(ConsentBase, table=True):
    """Every change to a consent, appended (R7: the full history is kept, nothing overwritten)."""

    __tablename__ = "consent_change"

    seq: int | None = Field(
        default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True)
    )
    consent_id: uuid.UUID = Field(foreign_key="consent_consent.id", index=True)
    case_id: uuid.UUID = Field(index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    change: str = Field(max_length=32)
    by: str = Field(max_length=128)
    form: str | None = Field(default=None, max_length=16)
