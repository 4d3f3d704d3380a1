"""Federation's public language inside one organisation: the commands a KE user gives to send
to another organisation, what they can read of the case links, and the events other services
(notifications) react to. What crosses between organisations is ``shared.contracts.xorg``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from .commands import Command, Query
from .envelope import Event, event_contract
from .intake import DisclosureBasis, Need
from .planning import MeasureStatus, PlanContent
from .xorg import SharedMeasure, no_identity_number

SERVICE = "federation"

OrgCode = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,30}$", description="An organisation's code.")


# --- commands ----------------------------------------------------------------------------------


class SendNeedReport(Command):
    """The hospital's KE reports a need for IP and/or coordinator for an inpatient to the
    person's home municipality (R17). Starts a case link between the two."""

    COMMAND: ClassVar[str] = "report_need"

    to: str = OrgCode
    national_id: str = Field(description="Fødselsnummer or D-nummer, 11 digits.")
    needs: list[Need] = Field(min_length=1, max_length=2)
    department: str = Field(min_length=1, max_length=120)
    expected_discharge: date | None = None
    services: list[str] = Field(default_factory=list, max_length=50)
    form: Literal["oral", "written"] = "written"
    hospital_coordinator: str | None = Field(None, max_length=64, description="Staff id.")
    basis: DisclosureBasis = Field(
        description="Why the person's identity and need may go to the municipality: the "
        "patient's consent, or the patient was told and did not object (helsepersonelloven "
        "§ 45). If the patient objects, nothing is sent (R7, R17)."
    )

    @field_validator("department")
    @classmethod
    def _department(cls, value: str) -> str:
        no_identity_number(value)
        return value


class SentResult(BaseModel):
    """A message is on its way: it is in this organisation's outbound stream once committed."""

    link_id: uuid.UUID
    message_id: uuid.UUID
    to: str


class ProposeHandover(Command):
    """The (hospital) coordinator proposes that the other party takes over coordination at
    discharge, with an overlap during which both are listed (R11, R17)."""

    COMMAND: ClassVar[str] = "propose_handover"

    link_id: uuid.UUID
    to: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,30}$")
    coordinator: str = Field(
        min_length=1, max_length=64, description="Your coordinator's staff id."
    )
    start: date
    overlap_days: int = Field(7, ge=0, le=90)


class AnswerHandover(Command):
    """Accept a proposed handover (the case's coordinator takes over; appointed now if the case
    has none, from ``coordinator_id`` in the registry) or refuse it with a reason."""

    COMMAND: ClassVar[str] = "answer_handover"

    proposal_id: uuid.UUID
    accept: bool
    coordinator_id: uuid.UUID | None = None
    reason: str | None = Field(None, max_length=500)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        return no_identity_number(value)

    @model_validator(mode="after")
    def _refusal_has_reason(self) -> AnswerHandover:
        if not self.accept and not (self.reason and self.reason.strip()):
            raise ValueError("a refusal needs a reason; the other organisation is told it")
        return self


class AnswerResult(BaseModel):
    proposal_id: uuid.UUID
    message_id: uuid.UUID
    accepted: bool
    coordinator: str | None = None


class UpdateMeasure(Command):
    """The service responsible for a shared measure (e.g. the hospital) reports its status back
    to the organisation that keeps the plan (R16)."""

    COMMAND: ClassVar[str] = "update_measure"

    link_id: uuid.UUID
    measure_id: str = Field(min_length=1, max_length=16)
    status: MeasureStatus
    note: str | None = Field(None, max_length=300)

    @field_validator("note")
    @classmethod
    def _note(cls, value: str | None) -> str | None:
        return no_identity_number(value)


class TransferCase(Command):
    """The person moves: send the case and the plan (as far as the person's sharing consent
    naming the new municipality covers it, R7) to the new municipality. When it confirms, this
    organisation's case closes with the reason "moved"."""

    COMMAND: ClassVar[str] = "transfer_case"

    case_id: uuid.UUID
    to: str = OrgCode
    moving_on: date | None = None


class GetSharedPlan(Query):
    """What another organisation has shared with this one on a link: the measures this
    organisation is responsible for, or a transferred case's plan."""

    QUERY: ClassVar[str] = "shared_plan"

    link_id: uuid.UUID


class SharedPlanView(BaseModel):
    link_id: uuid.UUID
    from_org: str | None
    kind: Literal["measures", "transfer"] | None
    case_ref: str | None
    plan_version: int | None
    received_at: datetime | None
    measures: list[SharedMeasure] = []
    plan: PlanContent | None = None
    withheld: list[str] = []
    case_id: uuid.UUID | None = Field(
        None, description="The case here the link belongs to (the read is in its access log)."
    )


class SweepFederation(Command):
    """Raise a notice for every message that has waited longer than the receipt timeout."""

    COMMAND: ClassVar[str] = "sweep"


class SweepResult(BaseModel):
    overdue: int
    moved_cases_closed: int = Field(
        0, description="Cases closed here because the person moved today or before (R11)."
    )


# --- queries -----------------------------------------------------------------------------------


class ListLinks(Query):
    """This organisation's case links with other organisations, newest first, a page at a time
    (the reply's ``total`` counts them all)."""

    QUERY: ClassVar[str] = "links"

    case_id: uuid.UUID | None = None
    limit: int = Field(200, ge=1, le=500, description="Links per page.")
    offset: int = Field(0, ge=0, description="Links to skip: the next_offset of a page.")


class CoordinatorListing(BaseModel):
    """A coordinator on a linked case, at one organisation; ``active`` on the given day."""

    org: str
    staff_id: str
    role: str
    since: date | None
    until: date | None
    active: bool


class MessageView(BaseModel):
    """A message sent or received, with its receipt. No payload: only what it was."""

    message_id: uuid.UUID
    direction: Literal["out", "in"]
    org: str
    type: str
    title: str
    seq: int
    at: datetime
    status: str
    code: str | None = None
    reason: str | None = None
    reference: str | None = None
    receipt_at: datetime | None = None
    reply_to: uuid.UUID | None = None
    answer: Literal["accepted", "refused"] | None = None
    """For a message that asks (a handover proposal): the answer, once it has come."""
    answer_reason: str | None = None
    basis: DisclosureBasis | None = None
    """For a message sent with the person's data: the basis it went on, as stated (R7, R17)."""


class LinkView(BaseModel):
    link_id: uuid.UUID
    case_id: uuid.UUID | None
    case_ref: str | None
    parties: list[str]
    references: dict[str, str]
    """Each party's own case reference, as far as known (from receipts)."""
    created_at: datetime
    coordinators: list[CoordinatorListing] = []
    messages: list[MessageView] = []


class Links(BaseModel):
    """Reply to ListLinks: one page."""

    links: list[LinkView]
    total: int = Field(0, description="Links (all pages).")
    next_offset: int | None = Field(None, description="The offset of the next page, if any.")


class GetLink(Query):
    """One case link: parties, their references, coordinators on a day, every message."""

    QUERY: ClassVar[str] = "link"

    link_id: uuid.UUID
    on: date | None = None


class ListMessages(Query):
    """Messages in or out, e.g. those still waiting for a receipt or for an answer here."""

    QUERY: ClassVar[str] = "messages"

    direction: Literal["out", "in"] | None = None
    status: str | None = Field(None, max_length=32)
    limit: int = Field(200, ge=1, le=1000)


class MessageList(BaseModel):
    messages: list[MessageView]


class GetDirectory(Query):
    """The organisations this instance is linked with."""

    QUERY: ClassVar[str] = "directory"


class DirectoryEntry(BaseModel):
    code: str
    name: str
    kind: str
    me: bool


class Directory(BaseModel):
    federated: bool
    org: str
    entries: list[DirectoryEntry]


# --- events ------------------------------------------------------------------------------------


@event_contract
class MessageRefused(Event):
    """Another organisation refused a message this one sent; the reason is in the link view."""

    TYPE = "federation.message_refused"
    VERSION = 1

    link_id: uuid.UUID
    message_id: uuid.UUID
    to_org: str
    message_type: str
    code: str


@event_contract
class ReceiptOverdue(Event):
    """A message has had no receipt within the configured time (KENETT_XORG_RECEIPT_TIMEOUT_S)."""

    TYPE = "federation.receipt_overdue"
    VERSION = 1

    link_id: uuid.UUID
    message_id: uuid.UUID
    to_org: str
    message_type: str
    sent_at: datetime


@event_contract
class HandoverProposed(Event):
    """Another organisation proposes that this one takes over coordination of a case."""

    TYPE = "federation.handover_proposed"
    VERSION = 1

    link_id: uuid.UUID
    proposal_id: uuid.UUID
    from_org: str
    start: date


@event_contract
class HandoverAnswered(Event):
    """The other organisation accepted or refused this one's proposed handover."""

    TYPE = "federation.handover_answered"
    VERSION = 1

    link_id: uuid.UUID
    proposal_id: uuid.UUID
    by_org: str
    accepted: bool
    start: date | None = None
    overlap_until: date | None = None


@event_contract
class MessageReceived(Event):
    """A message from another organisation was applied here (accepted or refused: ``status``).
    A receipt for one this organisation sent is one too (``message_type`` receipt)."""

    TYPE = "federation.message_received"
    VERSION = 1

    link_id: uuid.UUID
    message_id: uuid.UUID
    from_org: str
    message_type: str
    status: str
    reply_to: uuid.UUID | None = None
