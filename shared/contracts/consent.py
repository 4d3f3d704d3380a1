"""Consent's public language (R5-R7)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from .commands import Command
from .envelope import Event, event_contract

SERVICE = "consent"


class ConsentKind(StrEnum):
    """What the consent is to (R5)."""

    IP = "ip"
    COORDINATOR = "coordinator"


class GiverRole(StrEnum):
    """Who gave the consent (R6)."""

    PERSON = "person"
    PARENT = "parent"
    BARNEVERN = "barnevern"
    REPRESENTATIVE = "representative"


class GivenBy(BaseModel):
    """The giver, by role. A representative needs the legal basis recorded (R6)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: GiverRole
    legal_basis: str | None = Field(None, max_length=200)


class RecordConsent(Command):
    """Record a consent with its evidence (R7): form, who recorded it, when."""

    COMMAND: ClassVar[str] = "record"

    case_id: uuid.UUID
    kind: ConsentKind
    given_by: GivenBy
    form: Literal["oral", "written"]
    recorded_by: str = Field(min_length=1, max_length=128, description="Staff id, not a name.")
    given_at: datetime
    document_ref: str | None = Field(None, max_length=200)


class RecordConsentResult(BaseModel):
    """The stored consent."""

    consent_id: uuid.UUID
    case_id: uuid.UUID
    kind: ConsentKind


@event_contract
class ConsentRecorded(Event):
    """A consent was recorded for a case."""

    TYPE = "consent.consent_recorded"
    VERSION = 1

    consent_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    kind: ConsentKind
    given_by_role: GiverRole
    form: Literal["oral", "written"]
    given_at: datetime
