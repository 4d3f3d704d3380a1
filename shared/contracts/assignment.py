"""Assignment's public language: the coordinator registry, suggestions, appointments, handovers
and the duties that follow an appointment (R9-R12, R17, R19, R20)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from .commands import Command, Query
from .envelope import Event, event_contract

SERVICE = "assignment"


class CoordinatorKind(StrEnum):
    """The kinds of coordinator; one machinery for all three."""

    MUNICIPAL = "municipal"  # koordinator (helse- og omsorgstjenesteloven § 7-2)
    HOSPITAL = "hospital"  # koordinator i spesialisthelsetjenesten (R17: health personnel)
    CHILD = "child"  # barnekoordinator (R20, pbrl § 2-5 c)


class CoordinatorRole(StrEnum):
    """A coordinator's part in a case at an instant."""

    PRIMARY = "primary"  # the one responsible (R9)
    HANDING_OVER = "handing_over"  # the previous coordinator during the overlap (R11)


class NeedCause(StrEnum):
    """Why a case needs a (new) coordinator."""

    NEW = "new"  # coordinator consent given, nobody appointed yet
    NO_CAPACITY = "no_capacity"  # automatic appointment found nobody with free capacity (R10)
    COORDINATOR_DEACTIVATED = "coordinator_deactivated"  # the coordinator left (R11)
    RELEASED = "released"  # the coordinator was released from the case (R11)
    HANDOVER_CANCELLED = "handover_cancelled"  # the planned successor fell away


class ReleaseReason(StrEnum):
    """Why a coordinator is released from a case; free text stays out of events."""

    COORDINATOR_REQUEST = "coordinator_request"
    PERSON_REQUEST = "person_request"  # the person's wish weighs (R9)
    WORKLOAD = "workload"  # R10
    OTHER = "other"


class DutyKind(StrEnum):
    """What a coordinator must do after the first appointment."""

    MAP_CHILDREN = "map_children"  # children as next of kin and siblings (R12)
    INFORM_RIGHTS = "inform_rights"  # inform about IP, coordinator and rights (R19)
    FIRST_MEETING = "first_meeting"  # call the first responsibility-group meeting (R9)


Languages = list[str]


def _languages(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    out = []
    for code in value:
        code = code.strip().lower()
        if not (2 <= len(code) <= 3 and code.isalpha() and code.isascii()):
            raise ValueError("must be language codes of 2-3 letters, like nb, en, ar or sme")
        if code not in out:
            out.append(code)
    return out


# --- the registry (R9, R10, R17, R18) ----------------------------------------------------------


class RegisterCoordinator(Command):
    """Add an employee to the coordinator registry."""

    COMMAND: ClassVar[str] = "register_coordinator"

    staff_id: str = Field(min_length=1, max_length=128)
    display_name: str = Field(min_length=1, max_length=200)
    unit: str = Field(min_length=1, max_length=120, description="e.g. Helse og omsorg.")
    profession: str | None = Field(None, max_length=120, description="e.g. sykepleier.")
    health_personnel: bool = Field(
        False, description="Health personnel (helsepersonell); required of a hospital coordinator."
    )
    training_completed_on: date | None = Field(
        None, description="When the KE's coordinator training was completed (R9, R18)."
    )
    languages: Languages = Field(default_factory=lambda: ["nb"], max_length=20)
    caseload_limit: int | None = Field(
        None, ge=1, le=100, description="Individual limit; the org default (R10) when absent."
    )

    _check_languages = field_validator("languages")(_languages)


class RegisterCoordinatorResult(BaseModel):
    """The registered coordinator, and the waiting cases it was appointed to at once (only
    when the organisation lets kenett appoint by itself)."""

    coordinator_id: uuid.UUID
    appointed_case_ids: list[uuid.UUID]


class UpdateCoordinator(Command):
    """Change a coordinator's registry entry; absent fields stay as they are."""

    COMMAND: ClassVar[str] = "update_coordinator"

    coordinator_id: uuid.UUID
    display_name: str | None = Field(None, min_length=1, max_length=200)
    unit: str | None = Field(None, min_length=1, max_length=120)
    profession: str | None = Field(None, max_length=120)
    health_personnel: bool | None = None
    training_completed_on: date | None = None
    languages: Languages | None = Field(None, max_length=20)
    caseload_limit: int | None = Field(None, ge=1, le=100)
    clear_caseload_limit: bool = Field(False, description="Back to the org default (R10).")

    _check_languages = field_validator("languages")(_languages)


class DeactivateCoordinator(Command):
    """A coordinator leaves: every case they are responsible for is flagged at once (R11)."""

    COMMAND: ClassVar[str] = "deactivate_coordinator"

    coordinator_id: uuid.UUID
    reason: str = Field(min_length=1, max_length=300, description="Kept in the registry only.")


class DeactivateResult(BaseModel):
    """The cases that now need a new coordinator."""

    coordinator_id: uuid.UUID
    flagged_case_ids: list[uuid.UUID]
    cancelled_handover_ids: list[uuid.UUID]


class ReactivateCoordinator(Command):
    """A coordinator returns to the registry."""

    COMMAND: ClassVar[str] = "reactivate_coordinator"

    coordinator_id: uuid.UUID


class CoordinatorResult(BaseModel):
    """Reply to commands on one coordinator."""

    coordinator_id: uuid.UUID


class ListCoordinators(Query):
    """The registry with current caseloads, a page at a time, in the order of registration.

    A registry of thousands does not fit in one reply (NATS carries at most 1 MB): page with
    ``offset`` and the reply's ``next_offset``, or ask for the coordinators you need."""

    QUERY: ClassVar[str] = "list_coordinators"

    include_inactive: bool = True
    unit: str | None = Field(None, min_length=1, max_length=100, description="Only this unit.")
    coordinator_ids: list[uuid.UUID] | None = Field(
        None, min_length=1, max_length=500, description="Only these coordinators."
    )
    staff_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Only the coordinators with these staff ids.",
    )
    limit: int = Field(500, ge=1, le=500, description="Coordinators per page.")
    offset: int = Field(0, ge=0, description="Coordinators to skip: the next_offset of a page.")


class CoordinatorView(BaseModel):
    """A coordinator and their caseload against their limit (R10)."""

    coordinator_id: uuid.UUID
    staff_id: str
    display_name: str = ""
    unit: str
    profession: str | None = None
    health_personnel: bool = False
    training_completed_on: date | None = None
    languages: list[str] = []
    active: bool
    caseload: int
    caseload_limit: int
    free: int
    over_limit: bool = False


class CoordinatorList(BaseModel):
    """Reply to ListCoordinators: one page."""

    coordinators: list[CoordinatorView]
    total: int = Field(0, description="Coordinators that match (all pages).")
    next_offset: int | None = Field(None, description="The offset of the next page, if any.")


# --- a case's needs and suggestions (R9, R10) ------------------------------------------------


class SetCoordinatorNeeds(Command):
    """What the KE knows of the person's wish and needs for a coordinator (R9, R20)."""

    COMMAND: ClassVar[str] = "set_needs"

    case_id: uuid.UUID
    wished_coordinator_id: uuid.UUID | None = Field(
        None, description="The coordinator the person wishes (R9: weighs strongly)."
    )
    language: str | None = Field(None, description="The person's preferred language code.")
    unit: str | None = Field(None, max_length=120, description="The unit that fits the case.")
    kind: CoordinatorKind | None = Field(
        None, description="Coordinator kind; the organisation's usual kind when absent."
    )

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        got = _languages([value]) if value is not None else None
        return got[0] if got else None


class CaseNeedsResult(BaseModel):
    """The case's needs as now recorded."""

    case_id: uuid.UUID
    kind: CoordinatorKind
    wished_coordinator_id: uuid.UUID | None
    language: str | None
    unit: str | None


class SuggestCoordinators(Query):
    """A ranked list of candidates for a case, each with its reasons in words."""

    QUERY: ClassVar[str] = "suggest"

    case_id: uuid.UUID
    limit: int = Field(10, ge=1, le=50)


class Reason(BaseModel):
    """One reason behind a suggestion: a code for programs, a text for people (bokmål)."""

    code: str
    text: str
    points: int


class Suggestion(BaseModel):
    """One candidate."""

    coordinator_id: uuid.UUID
    staff_id: str
    display_name: str
    unit: str
    score: int
    appointable: bool = Field(description="False: inactive, not eligible, or at the limit.")
    needs_override: bool = Field(description="At or over the caseload limit (R10).")
    caseload: int
    caseload_limit: int
    reasons: list[Reason]


class Suggestions(BaseModel):
    """Reply to SuggestCoordinators."""

    case_id: uuid.UUID
    case_ref: str
    kind: CoordinatorKind
    candidates: list[Suggestion]


# --- appointment, handover, release (R9-R11) ---------------------------------------------------


class AppointCoordinator(Command):
    """The KE appoints a case's first coordinator; needs coordinator consent (R5, R9)."""

    COMMAND: ClassVar[str] = "appoint"

    case_id: uuid.UUID
    coordinator_id: uuid.UUID
    kind: CoordinatorKind | None = None
    override_limit: bool = False
    override_reason: str | None = Field(None, max_length=300)

    @model_validator(mode="after")
    def _override_has_reason(self) -> AppointCoordinator:
        _check_override(self.override_limit, self.override_reason)
        return self


def _check_override(override: bool, reason: str | None) -> None:
    if override and not (reason and reason.strip()):
        raise ValueError("override_limit needs an override_reason (R10)")


class AppointResult(BaseModel):
    """The appointment and the duties it started."""

    case_id: uuid.UUID
    appointment_id: uuid.UUID
    episode_id: uuid.UUID
    coordinator_id: uuid.UUID
    duty_ids: list[uuid.UUID]


class PlanHandover(Command):
    """A planned change of coordinator with an overlap (R11). From ``overlap_start`` the new
    coordinator is primary; until ``overlap_end`` the old one is listed as handing over."""

    COMMAND: ClassVar[str] = "plan_handover"

    case_id: uuid.UUID
    to_coordinator_id: uuid.UUID
    overlap_start: AwareDatetime | None = Field(None, description="Now when absent.")
    overlap_end: AwareDatetime
    reason: str | None = Field(None, max_length=300)
    override_limit: bool = False
    override_reason: str | None = Field(None, max_length=300)

    @model_validator(mode="after")
    def _override_has_reason(self) -> PlanHandover:
        _check_override(self.override_limit, self.override_reason)
        return self


class HandoverResult(BaseModel):
    """The handover as planned."""

    handover_id: uuid.UUID
    case_id: uuid.UUID
    from_coordinator_id: uuid.UUID
    to_coordinator_id: uuid.UUID
    overlap_start: datetime
    overlap_end: datetime
    status: str


class CancelHandover(Command):
    """Cancel a handover that has not started; the old coordinator simply stays."""

    COMMAND: ClassVar[str] = "cancel_handover"

    handover_id: uuid.UUID
    reason: str | None = Field(None, max_length=300)


class ReleaseCoordinator(Command):
    """Release the coordinator from a case: they stay responsible until a successor takes over
    (R11), and the case is flagged as needing one at once."""

    COMMAND: ClassVar[str] = "release"

    case_id: uuid.UUID
    reason: ReleaseReason
    note: str | None = Field(None, max_length=500, description="Kept in assignment only.")


class CaseFlagResult(BaseModel):
    """A case flagged as needing a coordinator."""

    case_id: uuid.UUID
    cause: NeedCause
    responsible_coordinator_id: uuid.UUID | None


# --- duties (R12, R19) -------------------------------------------------------------------------


class ChildrenMapping(BaseModel):
    """What mapping children as next of kin and siblings found (R12): facts, never names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    minor_children: bool = Field(
        description="The person has children under 18 (barn som pårørende)."
    )
    siblings_need_follow_up: bool = Field(description="Siblings need follow-up (søsken).")
    follow_up_arranged: bool | None = Field(
        None,
        description="Where there are children or siblings to think of: whether their needs "
        "are looked after (information, follow-up). Required then.",
    )

    @model_validator(mode="after")
    def _follow_up_when_needed(self) -> ChildrenMapping:
        if (
            self.minor_children or self.siblings_need_follow_up
        ) and self.follow_up_arranged is None:
            raise ValueError("say whether follow-up of the children or siblings is arranged (R12)")
        return self


class CompleteDuty(Command):
    """Mark a duty done. Mapping children as next of kin and siblings (R12) is done with what
    it found (``children``)."""

    COMMAND: ClassVar[str] = "complete_duty"

    duty_id: uuid.UUID
    note: str | None = Field(None, max_length=1000, description="Kept in assignment only.")
    children: ChildrenMapping | None = Field(None, description="Required for map_children (R12).")


class DutyView(BaseModel):
    """A duty with its due date."""

    duty_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    kind: DutyKind
    due_on: date
    done_at: datetime | None
    overdue: bool
    responsible_coordinator_id: uuid.UUID | None
    children: ChildrenMapping | None = Field(None, description="map_children's result (R12).")


class ListDuties(Query):
    """Duties by case or by the coordinator responsible now."""

    QUERY: ClassVar[str] = "duties"

    case_id: uuid.UUID | None = None
    coordinator_id: uuid.UUID | None = None
    open_only: bool = True


class DutyList(BaseModel):
    """Reply to ListDuties."""

    duties: list[DutyView]


# --- reads -------------------------------------------------------------------------------------


class GetCoordination(Query):
    """A case's coordinators over time, planned handovers, need flag and duties."""

    QUERY: ClassVar[str] = "coordination"

    case_id: uuid.UUID


class AppointmentView(BaseModel):
    """One period of one coordinator on a case."""

    appointment_id: uuid.UUID
    coordinator_id: uuid.UUID
    role: CoordinatorRole
    start: datetime
    end: datetime | None


class HandoverView(BaseModel):
    """A handover as planned, and how far it has come."""

    handover_id: uuid.UUID
    from_coordinator_id: uuid.UUID
    to_coordinator_id: uuid.UUID
    overlap_start: datetime
    overlap_end: datetime
    status: Literal["planned", "started", "completed", "cancelled"]


class EpisodeView(BaseModel):
    """From the first appointment until coordination closed."""

    episode_id: uuid.UUID
    kind: CoordinatorKind
    opened_at: datetime
    closed_at: datetime | None
    close_cause: str | None
    appointments: list[AppointmentView]
    handovers: list[HandoverView]


class Coordination(BaseModel):
    """Reply to GetCoordination."""

    case_id: uuid.UUID
    case_ref: str
    primary_coordinator_id: uuid.UUID | None
    current: list[AppointmentView]
    needs_coordinator: NeedCause | None
    needs_since: datetime | None
    episodes: list[EpisodeView]
    duties: list[DutyView]


class ListCasesNeedingCoordinator(Query):
    """The KE's worklist: the cases that need a (new) coordinator, oldest first, a page at a
    time (the reply's ``total`` counts them all)."""

    QUERY: ClassVar[str] = "needing"

    limit: int = Field(200, ge=1, le=500, description="Cases per page.")
    offset: int = Field(0, ge=0, description="Cases to skip: the next_offset of a page.")


class CaseNeed(BaseModel):
    """One case on the worklist."""

    case_id: uuid.UUID
    case_ref: str
    cause: NeedCause
    since: datetime
    responsible_coordinator_id: uuid.UUID | None


class CasesNeeding(BaseModel):
    """Reply to ListCasesNeedingCoordinator: one page."""

    cases: list[CaseNeed]
    total: int = Field(0, description="Cases on the worklist (all pages).")
    next_offset: int | None = Field(None, description="The offset of the next page, if any.")


class CaseloadOverview(Query):
    """Caseloads per coordinator and per unit, with those over the limit marked (R10).

    The units' totals cover every coordinator (of ``unit`` when given); the coordinators come a
    page at a time, those over their limit first, then by unit and staff id."""

    QUERY: ClassVar[str] = "caseload"

    unit: str | None = None
    limit: int = Field(100, ge=1, le=500, description="Coordinators per page.")
    offset: int = Field(0, ge=0, description="Coordinators to skip: the next_offset of a page.")


class UnitLoad(BaseModel):
    """A unit's totals."""

    unit: str
    coordinators: int
    active: int
    caseload: int
    capacity: int
    over_limit: int


class Caseload(BaseModel):
    """Reply to CaseloadOverview: one page of coordinators, and the totals of all."""

    default_limit: int
    coordinators: list[CoordinatorView]
    units: list[UnitLoad]
    total: int = Field(0, description="Coordinators in the overview (all pages).")
    next_offset: int | None = Field(None, description="The offset of the next page, if any.")


class ExportCareTeam(Query):
    """The case's coordinators over time as FHIR R4 CareTeam and EpisodeOfCare (a Bundle)."""

    QUERY: ClassVar[str] = "fhir"

    case_id: uuid.UUID


class FhirBundle(BaseModel):
    """A FHIR Bundle as JSON."""

    bundle: dict[str, Any]


class SweepAssignment(Command):
    """Carry out what the clock has made due: handovers start and complete, duties fall
    overdue. The service sweeps by itself every minute; this is for operators and tests."""

    COMMAND: ClassVar[str] = "sweep"


class SweepResult(BaseModel):
    """What one sweep did."""

    handovers_started: list[uuid.UUID]
    handovers_completed: list[uuid.UUID]
    duties_overdue: list[uuid.UUID]


# --- events ------------------------------------------------------------------------------------


@event_contract
class CoordinatorRegistered(Event):
    """An employee joined the coordinator registry."""

    TYPE = "assignment.coordinator_registered"
    VERSION = 1

    coordinator_id: uuid.UUID
    unit: str
    caseload_limit: int


@event_contract
class CoordinatorDeactivated(Event):
    """A coordinator left the registry; ``flagged`` cases now need a new one (R11)."""

    TYPE = "assignment.coordinator_deactivated"
    VERSION = 1

    coordinator_id: uuid.UUID
    flagged: int


@event_contract
class CoordinatorAppointed(Event):
    """A coordinator became the case's primary coordinator (R9): a first appointment, or the
    start of a handover's overlap (then ``handover_id`` is set)."""

    TYPE = "assignment.coordinator_appointed"
    VERSION = 1

    appointment_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    coordinator_id: uuid.UUID
    kind: CoordinatorKind = CoordinatorKind.MUNICIPAL
    handover_id: uuid.UUID | None = None


@event_contract
class CaseAwaitingCoordinator(Event):
    """A case needs a (new) coordinator and the KE must act (R10, R11). While
    ``responsible_coordinator_id`` is set, that coordinator is still responsible."""

    TYPE = "assignment.case_awaiting_coordinator"
    VERSION = 1

    case_id: uuid.UUID
    case_ref: str
    reason: str
    cause: NeedCause = NeedCause.NO_CAPACITY
    responsible_coordinator_id: uuid.UUID | None = None
    coordinator_decided_at: datetime | None = Field(
        None,
        description="When the latest decision on a coordinator that assignment knew of was "
        "made (R4): a reader that knows of a later refusal ignores this event as stale.",
    )


@event_contract
class HandoverPlanned(Event):
    """A change of coordinator was planned with an overlap (R11)."""

    TYPE = "assignment.handover_planned"
    VERSION = 1

    handover_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    from_coordinator_id: uuid.UUID
    to_coordinator_id: uuid.UUID
    overlap_start: datetime
    overlap_end: datetime


@event_contract
class HandoverCancelled(Event):
    """A planned handover will not happen."""

    TYPE = "assignment.handover_cancelled"
    VERSION = 1

    handover_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str


@event_contract
class HandoverCompleted(Event):
    """The overlap ended: the old coordinator is no longer listed (R11)."""

    TYPE = "assignment.handover_completed"
    VERSION = 1

    handover_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    from_coordinator_id: uuid.UUID
    to_coordinator_id: uuid.UUID


@event_contract
class CoordinatorOverLimit(Event):
    """An appointment with an override took a coordinator over their limit (R10)."""

    TYPE = "assignment.coordinator_over_limit"
    VERSION = 1

    coordinator_id: uuid.UUID
    caseload: int
    caseload_limit: int


@event_contract
class DutyOverdue(Event):
    """A duty after appointment is past its due date and not done (R12, R19)."""

    TYPE = "assignment.duty_overdue"
    VERSION = 1

    duty_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    kind: DutyKind
    due_on: date
    coordinator_id: uuid.UUID | None


@event_contract
class CoordinationStopped(Event):
    """Coordination of the case ended: the coordinator consent ended (R7) or the case closed."""

    TYPE = "assignment.coordination_stopped"
    VERSION = 1

    case_id: uuid.UUID
    case_ref: str
    coordinator_id: uuid.UUID
    cause: str
