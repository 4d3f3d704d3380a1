"""Consent's tables: the consents themselves and a projection of the cases they belong to."""

from __future__ import annotations

import uuid
from datetime import date, datetime

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


class Consent(ConsentBase, table=True):
    """A consent and its evidence (R7). Rows are added, never overwritten."""

    __tablename__ = "consent_consent"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=32)
    giver_role: str = Field(max_length=32)
    legal_basis: str | None = Field(default=None, max_length=200)
    form: str = Field(max_length=16)
    recorded_by: str = Field(max_length=128)
    given_at: datetime = Field(sa_type=UTCDateTime)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    document_ref: str | None = Field(default=None, max_length=200)
