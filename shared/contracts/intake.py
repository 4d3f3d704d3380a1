"""Intake's public language: reports of need (R2) and the cases they open."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from .commands import Command, Query
from .envelope import Event, event_contract

SERVICE = "intake"


class ReporterKind(StrEnum):
    """Who may report a need (R2): no written application is required."""

    PERSON = "person"
    NEXT_OF_KIN = "next_of_kin"
    EMPLOYEE = "employee"
    HOSPITAL = "hospital"
    KE = "ke"


class Need(StrEnum):
    """What is asked for: an individual plan, a coordinator, or both."""

    IP = "ip"
    COORDINATOR = "coordinator"


class Reporter(BaseModel):
    """The reporter. Kind-specific fields: next_of_kin → relation; employee → unit;
    hospital → department (and expected_discharge when known)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ReporterKind
    relation: str | None = Field(None, max_length=80)
    unit: str | None = Field(None, max_length=120)
    department: str | None = Field(None, max_length=120)
    expected_discharge: date | None = None


class ReportNeed(Command):
    """Report a need for IP and/or coordinator for a person (R2). Oral reports are fine."""

    COMMAND: ClassVar[str] = "report_need"

    national_id: str = Field(description="Fødselsnummer or D-nummer, 11 digits.")
    reporter: Reporter
    needs: list[Need] = Field(min_length=1, max_length=2)
    services: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Service types the person receives or needs (e.g. hjemmesykepleie).",
    )
    form: Literal["oral", "written"]
    received_at: datetime | None = Field(None, description="When the report came; default now.")


class ReportNeedResult(BaseModel):
    """What intake did with the report."""

    case_id: uuid.UUID
    case_ref: str
    report_id: uuid.UUID
    attached_to_open_case: bool


class GetCase(Query):
    """Read a case's status (used by other services when their projection lags)."""

    QUERY: ClassVar[str] = "get_case"

    case_id: uuid.UUID


class CaseView(BaseModel):
    """A case as other services may see it: no identity number, no name."""

    case_id: uuid.UUID
    case_ref: str
    status: str
    birth_date: date
    needs: list[Need]


@event_contract
class CaseOpened(Event):
    """A report of need opened a new case. ``birth_date`` is what consent needs for R6."""

    TYPE = "intake.case_opened"
    VERSION = 1

    case_id: uuid.UUID
    case_ref: str
    person_id: uuid.UUID
    birth_date: date
    needs: list[Need]
    reporter_kind: ReporterKind


@event_contract
class ReportAttached(Event):
    """A further report for a person with an open case was attached to that case."""

    TYPE = "intake.report_attached"
    VERSION = 1

    case_id: uuid.UUID
    case_ref: str
    report_id: uuid.UUID
    reporter_kind: ReporterKind
