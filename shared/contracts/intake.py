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


class DisclosureBasis(StrEnum):
    """Why another organisation (the hospital) may pass the person's identity and need on to
    the municipality: the patient consented, or was told and did not object (helsepersonelloven
    § 45: information to cooperating personnel unless the patient objects). A patient who
    objects is not reported (R7, R17)."""

    CONSENT = "consent"
    NO_OBJECTION = "no_objection"


BASIS_TEXT = {
    DisclosureBasis.CONSENT: "samtykke",
    DisclosureBasis.NO_OBJECTION: "informert, har ikke motsatt seg (hpl. § 45)",
}
"""What a KE user reads for each basis (bokmål)."""


class Reporter(BaseModel):
    """The reporter. Kind-specific fields: next_of_kin → relation; employee → unit;
    hospital → department (and expected_discharge when known, and the ``basis`` on which the
    hospital passed the report on, when it came through a case link)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ReporterKind
    relation: str | None = Field(None, max_length=80)
    unit: str | None = Field(None, max_length=120)
    department: str | None = Field(None, max_length=120)
    expected_discharge: date | None = None
    basis: DisclosureBasis | None = None


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
    org: str | None = Field(
        None,
        max_length=63,
        description="The municipality or organisation the report is for; default this instance's.",
    )
    note: str | None = Field(None, max_length=2000, description="Free text; never logged.")


class ReportNeedResult(BaseModel):
    """What intake did with the report."""

    case_id: uuid.UUID
    case_ref: str
    report_id: uuid.UUID
    attached_to_open_case: bool


class GetCaseDetail(Query):
    """Everything the KE sees of a case (audited)."""

    QUERY: ClassVar[str] = "case"

    case_id: uuid.UUID


CASE_REF_PATTERN = r"^\d{4}-\d{6,}$"
"""A case number as users see it in letters and notices: the year and a running number."""


class FindCase(Query):
    """Find a case by its case number (``2026-000123``): its id and status, nothing of the
    person (audited). The command line takes a case number wherever it takes a case."""

    QUERY: ClassVar[str] = "find_case"

    case_ref: str = Field(pattern=CASE_REF_PATTERN, max_length=32)


class CaseFound(BaseModel):
    """Reply to FindCase."""

    case_id: uuid.UUID
    case_ref: str
    status: str


class GetCase(Query):
    """Read a case's status (used by other services when their projection lags)."""

    QUERY: ClassVar[str] = "get_case"

    case_id: uuid.UUID


class ExportForTransfer(Query):
    """What a case transfer to another municipality carries from intake: the identity number
    (to find the person there), the needs and the services reported. Audited; asked only by
    federation when the person moves and consents (R7)."""

    QUERY: ClassVar[str] = "export_for_transfer"

    case_id: uuid.UUID
    to_org: str = Field(max_length=63)


class TransferExport(BaseModel):
    case_id: uuid.UUID
    case_ref: str
    status: str
    national_id: str
    needs: list[Need]
    services: list[str]


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


# --- eligibility (R1) --------------------------------------------------------------------------

ExpectedDuration = Literal["weeks", "months", "year_or_more", "permanent", "unknown"]
ProposalValue = Literal["meets", "does_not_meet", "unclear"]


class AssessEligibility(Command):
    """Propose whether R1 is met, from the services and the expected duration.

    Without ``services`` the services named in the case's reports are used. Moves a received
    case to under assessment.
    """

    COMMAND: ClassVar[str] = "assess_eligibility"

    case_id: uuid.UUID
    services: list[str] | None = Field(None, max_length=50)
    expected_duration: ExpectedDuration
    note: str | None = Field(None, max_length=2000, description="The case officer's own note.")


class OfferRef(BaseModel):
    """An offer the assessment points to (R18)."""

    offer_id: uuid.UUID
    name: str
    level: str
    contact: str


class EligibilityResult(BaseModel):
    """A proposal and its reasons; a case officer decides."""

    assessment_id: uuid.UUID
    case_id: uuid.UUID
    proposal: ProposalValue
    reasons: list[str]
    services: list[str]
    offers: list[OfferRef]


@event_contract
class EligibilityAssessed(Event):
    """An eligibility proposal was made for a case (R1)."""

    TYPE = "intake.eligibility_assessed"
    VERSION = 1

    case_id: uuid.UUID
    case_ref: str
    assessment_id: uuid.UUID
    proposal: ProposalValue


# --- decisions (R3, R4) and appeals --------------------------------------------------------------

DecisionKindValue = Literal["ip", "coordinator"]


class MakeDecision(Command):
    """Decide on IP (an enkeltvedtak, R3) or on coordinator (a beslutning, R4)."""

    COMMAND: ClassVar[str] = "decide"

    case_id: uuid.UUID
    kind: DecisionKindValue
    granted: bool
    grounds: str = Field(min_length=1, max_length=4000, description="Begrunnelse (bokmål).")
    notified_on: date | None = Field(
        None, description="When the person is told (the appeal deadline runs from it); today."
    )


class DecisionResult(BaseModel):
    """The decision as recorded."""

    decision_id: uuid.UUID
    case_id: uuid.UUID
    kind: DecisionKindValue
    granted: bool
    decided_at: datetime
    appeal_deadline: date | None


@event_contract
class DecisionMade(Event):
    """A decision was made. ``appeal_deadline`` is set for IP decisions only (R3, R4)."""

    TYPE = "intake.decision_made"
    VERSION = 1

    case_id: uuid.UUID
    case_ref: str
    decision_id: uuid.UUID
    kind: DecisionKindValue
    granted: bool
    appeal_deadline: date | None


class RenderLetter(Query):
    """The decision letter (HTML, bokmål)."""

    QUERY: ClassVar[str] = "letter"

    decision_id: uuid.UUID
    pdf: bool = Field(False, description="Also return the letter as a PDF (base64).")


class Letter(BaseModel):
    """A rendered letter."""

    decision_id: uuid.UUID
    case_id: uuid.UUID
    title: str
    html: str
    pdf_base64: str | None = None


class RegisterAppeal(Command):
    """Register an appeal of an IP decision (R3). A late appeal is registered and marked late."""

    COMMAND: ClassVar[str] = "register_appeal"

    decision_id: uuid.UUID
    received_on: date
    sent_on: date | None = Field(
        None, description="When it was posted: an appeal posted in time is in time (fvl § 30)."
    )
    summary: str | None = Field(None, max_length=2000)


class AppealResult(BaseModel):
    """The registered appeal and whether it came in time."""

    appeal_id: uuid.UUID
    decision_id: uuid.UUID
    case_id: uuid.UUID
    received_on: date
    deadline: date
    in_time: bool


@event_contract
class AppealRegistered(Event):
    """An appeal of an IP decision was registered, to be sent on to the Statsforvalter."""

    TYPE = "intake.appeal_registered"
    VERSION = 1

    case_id: uuid.UUID
    case_ref: str
    appeal_id: uuid.UUID
    decision_id: uuid.UUID
    in_time: bool


class ListAppealDeadlines(Query):
    """IP decisions whose appeal window is still open, soonest deadline first, a page at a
    time (the reply's ``total`` counts them all)."""

    QUERY: ClassVar[str] = "appeal_deadlines"

    limit: int = Field(200, ge=1, le=500, description="Decisions per page.")
    offset: int = Field(0, ge=0, description="Decisions to skip: the next_offset of a page.")


class AppealWindow(BaseModel):
    """One open appeal window."""

    decision_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    deadline: date
    days_left: int


class AppealDeadlines(BaseModel):
    """Reply to ListAppealDeadlines: one page."""

    windows: list[AppealWindow]
    total: int = Field(0, description="Open appeal windows (all pages).")
    next_offset: int | None = Field(None, description="The offset of the next page, if any.")


# --- lifecycle --------------------------------------------------------------------------------

CloseReasonValue = Literal["moved", "died", "no_longer_needed", "consent_withdrawn", "declined"]


class ActivateCase(Command):
    """Services or coordination have started: decided → active."""

    COMMAND: ClassVar[str] = "activate"

    case_id: uuid.UUID


class CloseCase(Command):
    """Close a case with its reason."""

    COMMAND: ClassVar[str] = "close"

    case_id: uuid.UUID
    reason: CloseReasonValue


class CaseTransition(BaseModel):
    """A case's new status."""

    case_id: uuid.UUID
    case_ref: str
    status: str
    previous: str


@event_contract
class CaseStatusChanged(Event):
    """A case moved in its lifecycle; ``reason`` is set when it closes."""

    TYPE = "intake.case_status_changed"
    VERSION = 1

    case_id: uuid.UUID
    case_ref: str
    previous: str
    status: str
    reason: CloseReasonValue | None = None


# --- offers (R18) ------------------------------------------------------------------------------


class RegisterOffer(Command):
    """Add a habilitation or rehabilitation offer to the KE's overview (R18)."""

    COMMAND: ClassVar[str] = "register_offer"

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["habilitation", "rehabilitation"]
    level: Literal["municipal", "specialist"]
    provider: str = Field(min_length=1, max_length=200)
    contact: str = Field(min_length=1, max_length=300, description="A service's contact point.")
    target_group: str | None = Field(None, max_length=300)
    service_types: list[str] = Field(default_factory=list, max_length=20)


class OfferResult(BaseModel):
    """The registered offer."""

    offer_id: uuid.UUID


class ListOffers(Query):
    """The KE's overview of offers, optionally filtered."""

    QUERY: ClassVar[str] = "offers"

    kind: Literal["habilitation", "rehabilitation"] | None = None
    level: Literal["municipal", "specialist"] | None = None


class OfferView(BaseModel):
    """An offer in the overview."""

    offer_id: uuid.UUID
    name: str
    kind: str
    level: str
    provider: str
    contact: str
    target_group: str | None
    service_types: list[str]


class Offers(BaseModel):
    """Reply to ListOffers."""

    offers: list[OfferView]


# --- catalogue and statistics ------------------------------------------------------------------


class ListServiceTypes(Query):
    """The catalogue of service types reports and assessments may name."""

    QUERY: ClassVar[str] = "service_types"


class ServiceTypeView(BaseModel):
    """A service type; ``counts`` says whether it counts towards R1's two services."""

    code: str
    name: str
    sector: str
    counts: bool
    note: str


class ServiceTypes(BaseModel):
    """Reply to ListServiceTypes."""

    service_types: list[ServiceTypeView]


class WaitingTimes(Query):
    """Time from report to decision for cases decided in a period (default: the last year)."""

    QUERY: ClassVar[str] = "waiting_times"

    since: date | None = None
    until: date | None = None


class CaseWait(BaseModel):
    """One case's wait."""

    case_id: uuid.UUID
    case_ref: str
    received_at: datetime
    decided_at: datetime
    days: float


class WaitingTimeStats(BaseModel):
    """Per case, and for the org: count, median and 90th percentile in days."""

    since: date
    until: date
    cases: list[CaseWait]
    count: int
    median_days: float | None
    p90_days: float | None


# --- the KE's overview of cases ----------------------------------------------------------------

CaseStatusValue = Literal["received", "under_assessment", "decided", "active", "closed"]
CASE_STATUSES: tuple[CaseStatusValue, ...] = (
    "received",
    "under_assessment",
    "decided",
    "active",
    "closed",
)


class CountCases(Query):
    """How many cases are in each status: the KE's overview. Counts only, no case is shown,
    so the read is not audited."""

    QUERY: ClassVar[str] = "case_counts"


class StatusCount(BaseModel):
    """The cases in one status."""

    status: CaseStatusValue
    cases: int


class CaseCounts(BaseModel):
    """Reply to CountCases: every status in lifecycle order, zeros included."""

    total: int
    by_status: list[StatusCount]


class ListCases(Query):
    """The cases in the given statuses (all when absent), longest waiting first (oldest first
    report), a page at a time. Case references only, no identity number; audited."""

    QUERY: ClassVar[str] = "cases"

    status: list[CaseStatusValue] | None = Field(None, min_length=1, max_length=5)
    limit: int = Field(50, ge=1, le=500)
    after: str | None = Field(None, max_length=100, description="Cursor from the last page.")


class CaseRow(BaseModel):
    """One case in the overview."""

    case_id: uuid.UUID
    case_ref: str
    status: CaseStatusValue
    served_org: str
    needs: list[Need]
    received_at: datetime


class CaseListing(BaseModel):
    """Reply to ListCases: the matching total, one page, and the cursor of the next page."""

    total: int
    cases: list[CaseRow]
    next: str | None


class CaseDetail(BaseModel):
    """A case as the KE sees it: status, reports, assessments, decisions, appeals. No identity
    number."""

    case_id: uuid.UUID
    case_ref: str
    status: str
    served_org: str
    birth_date: date
    age: int
    needs: list[Need]
    reports: list[dict[str, object]]
    assessments: list[dict[str, object]]
    decisions: list[dict[str, object]]
    closed_reason: str | None
    appeals: list[dict[str, object]] = Field(
        default_factory=list,
        description="Appeals of its IP decisions (R3): decision_id, received_on, deadline, "
        "in_time, registered_by.",
    )
