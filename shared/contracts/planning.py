"""Planning's public language: the individual plan, its versions, the coordination tool and
the responsibility group (R5-R7, R13-R16)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .commands import Command, Query
from .consent import ContentKind, GateActor, LifeArea
from .envelope import Event, event_contract

SERVICE = "planning"

ItemId = str
_TEXT = 4000
_SHORT = 300


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- The plan's content (R14 points 1-9) --------------------------------------------------


class Horizon(StrEnum):
    """Long- or short-term goal (R14 point 1)."""

    LONG = "long"
    SHORT = "short"


class PartyKind(StrEnum):
    """Who does something in the plan (R16: the person themself or a named service/agency)."""

    PERSON = "person"
    SERVICE = "service"  # a named service or agency: hjemmesykepleien, NAV, skolen, sykehuset
    NEXT_OF_KIN = "next_of_kin"  # by relation (mor, far, søster), never by name
    COORDINATOR = "coordinator"


class Party(_Strict):
    """A party: the person, a named service or agency, a relative, or the coordinator."""

    kind: PartyKind
    ref: str | None = Field(
        None,
        max_length=128,
        description="Service or agency name, relation (mor, far), or coordinator id; "
        "required except for the person.",
    )


class Outcome(StrEnum):
    """How a goal or measure went when it was evaluated (R16)."""

    ACHIEVED = "achieved"
    PARTLY = "partly"
    NOT_ACHIEVED = "not_achieved"


class Evaluation(_Strict):
    """One evaluation of a goal or measure."""

    on: date
    outcome: Outcome
    comment: str = Field("", max_length=_TEXT)
    by: str = Field(min_length=1, max_length=128, description="Staff id, not a name.")


class Goal(_Strict):
    """A goal in the person's own words (R14 point 1), under a life area (R15)."""

    id: ItemId | None = Field(None, max_length=16, description="Assigned by kenett when new.")
    text: str = Field(min_length=1, max_length=_TEXT, description="The person's own words.")
    horizon: Horizon
    life_area: LifeArea
    deadline: date | None = None
    evaluation_date: date | None = None
    evaluations: list[Evaluation] = Field(default_factory=list, max_length=200)


class ResourceNeed(_Strict):
    """A resource the person has, or a need for services (R14 point 1), under a life area."""

    id: ItemId | None = Field(None, max_length=16)
    kind: Literal["resource", "need"]
    life_area: LifeArea
    text: str = Field(min_length=1, max_length=_TEXT)


class Participant(_Strict):
    """Who takes part in the plan work, and in what role (R14 point 2)."""

    id: ItemId | None = Field(None, max_length=16)
    party: Party
    role: str = Field(min_length=1, max_length=_SHORT)


class Contribution(_Strict):
    """What the person, a provider or next of kin contributes (R14 point 4, R8)."""

    id: ItemId | None = Field(None, max_length=16)
    party: Party
    text: str = Field(min_length=1, max_length=_TEXT)


class MeasureStatus(StrEnum):
    """Where a measure stands."""

    PLANNED = "planned"
    ONGOING = "ongoing"
    DONE = "done"
    STOPPED = "stopped"


class Measure(_Strict):
    """A measure (tiltak): what, its scope, how and where, by whom, when (R14 points 5-6, R16)."""

    id: ItemId | None = Field(None, max_length=16)
    title: str = Field(min_length=1, max_length=_SHORT)
    life_area: LifeArea
    goal_ids: list[ItemId] = Field(default_factory=list, max_length=50)
    scope: str = Field("", max_length=_TEXT, description="Omfang, e.g. two hours a week.")
    how: str = Field("", max_length=_TEXT, description="How it is carried out.")
    where: str = Field("", max_length=_SHORT, description="Where it is carried out.")
    responsible: Party | None = Field(None, description="Required (R16).")
    start: date | None = None
    deadline: date | None = None
    evaluation_date: date | None = None
    status: MeasureStatus = MeasureStatus.PLANNED
    evaluations: list[Evaluation] = Field(default_factory=list, max_length=200)


class Cooperation(_Strict):
    """Necessary or desired cooperation with other services and agencies (R14 point 9)."""

    id: ItemId | None = Field(None, max_length=16)
    agency: str = Field(min_length=1, max_length=_SHORT)
    purpose: str = Field(min_length=1, max_length=_TEXT)


class PlanPeriod(_Strict):
    """The plan period and the dates for adjustment and revision (R14 point 7)."""

    start: date
    end: date | None = None
    revision_dates: list[date] = Field(default_factory=list, max_length=50)


class PlanContent(_Strict):
    """What the coordinator and the person write. The coordinator (point 3) and the consents
    (point 8) are kept by kenett and shown with the content (``PlanDocument``)."""

    goals: list[Goal] = Field(default_factory=list, max_length=500)
    resources_needs: list[ResourceNeed] = Field(default_factory=list, max_length=500)
    participants: list[Participant] = Field(default_factory=list, max_length=200)
    contributions: list[Contribution] = Field(default_factory=list, max_length=500)
    measures: list[Measure] = Field(default_factory=list, max_length=2000)
    period: PlanPeriod | None = None
    cooperation: list[Cooperation] = Field(default_factory=list, max_length=200)


class ConsentRef(BaseModel):
    """A consent that covers the plan or a participant's access (R14 point 8)."""

    consent_id: uuid.UUID
    kind: str
    given_at: datetime
    valid_until: datetime | None
    status: str


class PlanDocument(BaseModel):
    """One version of the plan as a reader may see it (R7: parts outside their consent are left
    out and listed in ``withheld``)."""

    plan_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    version: int
    status: str
    tool: str
    coordinator_id: uuid.UUID
    saved_at: datetime
    saved_by: str
    content: PlanContent
    consents: list[ConsentRef]
    withheld: list[str] = Field(default_factory=list)


# --- Plan head, reading and versions ------------------------------------------------------


class GetPlan(Query):
    """Read the head of a case's plan: status, version, coordinator, dates (no content).

    A revision's reason is free text a staff member wrote: it comes only with ``who`` whom the
    consent gate lets read the whole plan (R7); otherwise ``text_withheld`` says it is there."""

    QUERY: ClassVar[str] = "get_plan"

    case_id: uuid.UUID
    who: GateActor | None = Field(
        None, description="Read as (the gate decides); without it, no free text."
    )


class PlanView(BaseModel):
    """A plan's head."""

    plan_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    coordinator_id: uuid.UUID
    status: str
    version: int
    created_at: datetime
    tool: str = "ip"
    updated_at: datetime | None = None
    period_start: date | None = None
    period_end: date | None = None
    next_evaluation_on: date | None = None
    status_reason: str | None = None
    text_withheld: bool = Field(
        False, description="A free-text status reason exists that this reader may not see (R7)."
    )


class ViewPlan(Query):
    """Read a plan as someone: the consent gate decides whether they may (R5-R8), and the
    content is cut to what their consent covers (R7)."""

    QUERY: ClassVar[str] = "view_plan"

    case_id: uuid.UUID
    who: GateActor
    life_area: LifeArea | None = None
    content_kind: ContentKind | None = None
    version: int | None = Field(None, ge=1, description="An earlier version; the latest if absent.")


class PlanAccess(BaseModel):
    """The plan head, the gate's reason for letting the reader see it, and the document."""

    plan: PlanView
    reason: str
    consent_id: uuid.UUID | None
    document: PlanDocument | None = None


class ListPlanVersions(Query):
    """Every version of a plan: number, time, author, what changed (no content).

    The notes are free text (a save's note, a provider's remark on a measure): they come only
    with ``who`` whom the consent gate lets read the whole plan (R7)."""

    QUERY: ClassVar[str] = "versions"

    case_id: uuid.UUID
    who: GateActor | None = Field(
        None, description="Read as (the gate decides); without it, no notes."
    )


class VersionInfo(BaseModel):
    """One version's metadata."""

    version: int
    saved_at: datetime
    saved_by: str
    change: str
    status: str
    note: str | None


class PlanVersions(BaseModel):
    """Reply to ListPlanVersions."""

    case_id: uuid.UUID
    versions: list[VersionInfo]
    notes_withheld: bool = Field(
        False, description="Some versions have notes that this reader may not see (R7)."
    )


class ComparePlanVersions(Query):
    """What was added, changed and removed between two versions, as ``who`` may see them."""

    QUERY: ClassVar[str] = "diff"

    case_id: uuid.UUID
    who: GateActor
    from_version: int = Field(ge=1)
    to_version: int = Field(ge=1)


class DiffEntry(BaseModel):
    """One item (or the plan period) that differs."""

    section: str
    item_id: str | None
    fields: list[str] = Field(default_factory=list, description="Changed fields (changed only).")


class PlanDiff(BaseModel):
    """Reply to ComparePlanVersions."""

    case_id: uuid.UUID
    from_version: int
    to_version: int
    added: list[DiffEntry]
    changed: list[DiffEntry]
    removed: list[DiffEntry]
    withheld: list[str] = Field(default_factory=list)


class ListPlans(Query):
    """The KE's overview of plans (R18): filter by coordinator, status, overdue evaluations."""

    QUERY: ClassVar[str] = "list"

    coordinator_id: uuid.UUID | None = None
    status: list[str] | None = Field(None, max_length=6)
    overdue_evaluations: bool = False
    limit: int = Field(50, ge=1, le=500)
    after: str | None = Field(None, max_length=100, description="Cursor from the last page.")


class PlanRow(BaseModel):
    """One plan in the overview; no personal data."""

    case_id: uuid.UUID
    case_ref: str
    status: str
    tool: str
    coordinator_id: uuid.UUID
    version: int
    updated_at: datetime
    next_evaluation_on: date | None


class PlanListing(BaseModel):
    """Reply to ListPlans."""

    total: int
    plans: list[PlanRow]
    next: str | None


# --- Writing the plan ---------------------------------------------------------------------


class _PlanWrite(Command):
    """Every write names the plan version it was made against (optimistic concurrency): an
    edit of an older version is refused, never silently merged or overwritten."""

    case_id: uuid.UUID
    expected_version: int = Field(ge=1)
    by: GateActor = Field(description="Who edits: the case's coordinator.")


class SavePlan(_PlanWrite):
    """Save the plan's content as a new version (R16: a living document, versions kept)."""

    COMMAND: ClassVar[str] = "save"

    content: PlanContent
    note: str | None = Field(None, max_length=_SHORT, description="What changed, in a line.")


class EvaluateItem(_PlanWrite):
    """Evaluate a goal or a measure (R16), and optionally set its next evaluation date."""

    COMMAND: ClassVar[str] = "evaluate"

    item_id: ItemId = Field(min_length=1, max_length=16)
    outcome: Outcome
    comment: str = Field("", max_length=_TEXT)
    evaluated_on: date | None = Field(None, description="Today when absent.")
    next_evaluation_date: date | None = None


class RecordMeasureStatus(Command):
    """The service responsible for a measure reports where it stands (R16), e.g. the hospital
    taking part in a municipal plan: a new version with that measure's status changed. Only the
    measure's own responsible service may, and only as far as the person's sharing consent
    covers measures in its life area (R7). Everything else still goes through the coordinator."""

    COMMAND: ClassVar[str] = "measure_status"

    case_id: uuid.UUID
    measure_id: ItemId = Field(min_length=1, max_length=16)
    status: MeasureStatus
    by: GateActor = Field(description="The responsible service (kind provider).")
    note: str | None = Field(None, max_length=_SHORT, description="Shown in the version history.")


class CloseReason(StrEnum):
    """Why a plan closes."""

    GOALS_REACHED = "goals_reached"
    NO_LONGER_NEEDED = "no_longer_needed"
    PERSON_DECLINED = "person_declined"  # the person no longer wants an IP (R5)
    MOVED = "moved"
    DECEASED = "deceased"
    OTHER = "other"


class ChangePlanStatus(_PlanWrite):
    """draft → active; active → under revision (a reason); under revision → active (a new
    version); any but closed → closed (a reason)."""

    COMMAND: ClassVar[str] = "status"

    to: Literal["active", "under_revision", "closed"]
    reason: str | None = Field(None, max_length=_SHORT)
    close_reason: CloseReason | None = None


class PlanWritten(BaseModel):
    """Reply to a plan write: the new version."""

    plan_id: uuid.UUID
    case_id: uuid.UUID
    version: int
    status: str
    assigned_ids: dict[str, str] = Field(
        default_factory=dict, description="New items: position (e.g. goals[2]) → id."
    )


class CoordinationTool(StrEnum):
    """The person's choice of coordination tool (R13)."""

    IP = "ip"
    MEETINGS = "meetings"  # responsibility-group meetings with minutes


class SwitchTool(Command):
    """Record the person's choice of tool (R13); the history stays."""

    COMMAND: ClassVar[str] = "switch_tool"

    case_id: uuid.UUID
    tool: CoordinationTool
    chosen_by: Literal["person", "parent", "barnevern", "representative"] = Field(
        description="The person from 16; under 16 those with parental responsibility, or "
        "barnevernet where it has care; a representative for an adult who cannot decide (R6)."
    )
    note: str | None = Field(None, max_length=_SHORT)


class ToolChoice(BaseModel):
    """One choice of tool."""

    tool: str
    chosen_by: str
    at: datetime
    recorded_by: str
    note: str | None


class ToolState(BaseModel):
    """Reply to SwitchTool and GetTool: the tool now and every earlier choice."""

    case_id: uuid.UUID
    tool: str | None
    history: list[ToolChoice]


class GetTool(Query):
    """The case's coordination tool and its history (R13)."""

    QUERY: ClassVar[str] = "tool"

    case_id: uuid.UUID


# --- The responsibility group -------------------------------------------------------------


class AddMember(Command):
    """Add a member to the case's responsibility group, for a period (R13)."""

    COMMAND: ClassVar[str] = "add_member"

    case_id: uuid.UUID
    party: Party
    role: str = Field(min_length=1, max_length=_SHORT)
    from_date: date | None = Field(None, description="Today when absent.")
    to_date: date | None = None


class EndMember(Command):
    """A member leaves the group on a date."""

    COMMAND: ClassVar[str] = "end_member"

    case_id: uuid.UUID
    member_id: uuid.UUID
    to_date: date | None = Field(None, description="Today when absent.")


class ScheduleMeeting(Command):
    """Call a responsibility-group meeting; the members are told through notifications."""

    COMMAND: ClassVar[str] = "schedule_meeting"

    case_id: uuid.UUID
    at: AwareDatetime
    place: str = Field(min_length=1, max_length=_SHORT)
    agenda: list[str] = Field(default_factory=list, max_length=30)


class TaskInput(_Strict):
    """A task from a meeting, for a member, with a deadline."""

    member_id: uuid.UUID
    text: str = Field(min_length=1, max_length=_TEXT)
    deadline: date


class RecordMinutes(Command):
    """The minutes of a held meeting: who came, what was decided, which tasks to whom."""

    COMMAND: ClassVar[str] = "minutes"

    case_id: uuid.UUID
    meeting_id: uuid.UUID
    attended: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    summary: str = Field("", max_length=20_000)
    decisions: list[str] = Field(default_factory=list, max_length=100)
    tasks: list[TaskInput] = Field(default_factory=list, max_length=100)


class CancelMeeting(Command):
    """Cancel a scheduled meeting."""

    COMMAND: ClassVar[str] = "cancel_meeting"

    case_id: uuid.UUID
    meeting_id: uuid.UUID
    reason: str = Field(min_length=1, max_length=_SHORT)


class CompleteTask(Command):
    """Mark a task from a meeting done."""

    COMMAND: ClassVar[str] = "complete_task"

    case_id: uuid.UUID
    task_id: uuid.UUID


class GetGroup(Query):
    """The responsibility group: members, meetings with minutes, tasks, as ``who`` may see them
    (R7: minutes and tasks are content kind ``meetings``, members are ``contacts``)."""

    QUERY: ClassVar[str] = "group"

    case_id: uuid.UUID
    who: GateActor


class MemberView(BaseModel):
    """A member of the group."""

    member_id: uuid.UUID
    party: Party
    role: str
    from_date: date
    to_date: date | None


class TaskView(BaseModel):
    """A task from a meeting."""

    task_id: uuid.UUID
    meeting_id: uuid.UUID
    member_id: uuid.UUID
    text: str
    deadline: date
    done_at: datetime | None


class MeetingView(BaseModel):
    """A meeting, and its minutes once written."""

    meeting_id: uuid.UUID
    at: datetime
    place: str
    agenda: list[str]
    status: str
    attended: list[uuid.UUID]
    summary: str | None
    decisions: list[str]
    cancel_reason: str | None


class GroupView(BaseModel):
    """Reply to GetGroup and the group commands."""

    case_id: uuid.UUID
    members: list[MemberView]
    meetings: list[MeetingView]
    tasks: list[TaskView]
    withheld: list[str] = Field(default_factory=list)


class GroupChanged(BaseModel):
    """Reply to a group command: what was made or changed."""

    case_id: uuid.UUID
    id: uuid.UUID
    task_ids: list[uuid.UUID] = Field(default_factory=list)


# --- Output, sweep, retention -------------------------------------------------------------


class ExportPlanFhir(Query):
    """The plan as FHIR R4 CarePlan, Goal, Task and CareTeam (a Bundle), as ``who`` may see it."""

    QUERY: ClassVar[str] = "fhir"

    case_id: uuid.UUID
    who: GateActor


class FhirBundle(BaseModel):
    """A FHIR Bundle as JSON."""

    bundle: dict[str, Any]


class RenderPlanPdf(Query):
    """The plan as a printable PDF in bokmål, for meetings, as ``who`` may see it."""

    QUERY: ClassVar[str] = "pdf"

    case_id: uuid.UUID
    who: GateActor
    version: int | None = Field(None, ge=1)


class PlanPdf(BaseModel):
    """Reply to RenderPlanPdf."""

    filename: str
    pdf_base64: str


class SweepPlanning(Command):
    """Announce evaluations that have fallen overdue (R16) now, without waiting for the sweep."""

    COMMAND: ClassVar[str] = "sweep"


class PlanningSweepResult(BaseModel):
    """Reply to SweepPlanning."""

    evaluations_overdue: int


class PurgePlans(Command):
    """Retention: closed plans older than the retention period are deleted or anonymised."""

    COMMAND: ClassVar[str] = "purge"

    mode: Literal["delete", "anonymise"] | None = Field(
        None, description="The organisation's setting when absent."
    )
    dry_run: bool = False


class PurgeReport(BaseModel):
    """What the purge did (or would do, on a dry run)."""

    mode: str
    dry_run: bool
    closed_before: datetime
    plans: int
    versions: int
    meetings: int
    case_refs: list[str]


# --- Events -------------------------------------------------------------------------------


@event_contract
class PlanCreated(Event):
    """A draft plan naming the coordinator was created (R5: only with IP consent)."""

    TYPE = "planning.plan_created"
    VERSION = 1

    plan_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    coordinator_id: uuid.UUID


@event_contract
class PlanFrozen(Event):
    """The IP consent ended: no provider access; the person still sees the plan (R7)."""

    TYPE = "planning.plan_frozen"
    VERSION = 1

    plan_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    cause: str


@event_contract
class PlanUnfrozen(Event):
    """A new IP consent was given: the plan is open to its participants again."""

    TYPE = "planning.plan_unfrozen"
    VERSION = 1

    plan_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str


@event_contract
class PlanVersionSaved(Event):
    """A new version of a plan was saved (no content: readers ask planning, through the gate)."""

    TYPE = "planning.version_saved"
    VERSION = 1

    plan_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    version: int
    status: str
    change: str


@event_contract
class PlanStatusChanged(Event):
    """A plan moved in its life: draft → active → under revision → closed."""

    TYPE = "planning.status_changed"
    VERSION = 1

    plan_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    from_status: str
    to_status: str
    close_reason: str | None = None


@event_contract
class ToolSwitched(Event):
    """The person chose a coordination tool (R13)."""

    TYPE = "planning.tool_switched"
    VERSION = 1

    case_id: uuid.UUID
    case_ref: str
    tool: str


@event_contract
class EvaluationOverdue(Event):
    """A goal or measure passed its evaluation date without an evaluation (R16), or the plan
    its revision date without a revision (``item_kind`` revision, R14 point 7)."""

    TYPE = "planning.evaluation_overdue"
    VERSION = 1

    plan_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    item_id: str
    item_kind: Literal["goal", "measure", "revision"]
    due_on: date
    coordinator_id: uuid.UUID


@event_contract
class MeetingScheduled(Event):
    """A responsibility-group meeting was called; each recipient is told (no place or agenda
    in the event: readers ask planning)."""

    TYPE = "planning.meeting_scheduled"
    VERSION = 1

    meeting_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    at: datetime
    recipients: list[uuid.UUID]


@event_contract
class MeetingCancelled(Event):
    """A called meeting will not take place; its reminders stop."""

    TYPE = "planning.meeting_cancelled"
    VERSION = 1

    meeting_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str


class ScheduledItem(BaseModel):
    """A dated goal or measure of the plan, or a revision date of the plan itself (item_id
    ``REV-<date>``), for reminders: ids, dates and who is responsible, never a text (R14 point
    7, R16)."""

    item_id: str
    item_kind: Literal["goal", "measure", "revision"]
    evaluation_on: date | None = None
    deadline: date | None = None
    responsible: Party | None = None


@event_contract
class PlanScheduleChanged(Event):
    """The dates of a plan changed (a save, an evaluation, a status move, a freeze): the
    whole schedule as it is now. Empty for a frozen or closed plan, which has no reminders."""

    TYPE = "planning.schedule_changed"
    VERSION = 1

    plan_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    coordinator_id: uuid.UUID
    items: list[ScheduledItem]


def party_inbox(org: str, party: Party) -> uuid.UUID | None:
    """The inbox of a party that is staff or a service (the coordinator's own id for a
    coordinator); None for the person and next of kin, who are told through their consent."""
    if party.kind is PartyKind.COORDINATOR and party.ref:
        try:
            return uuid.UUID(party.ref)
        except ValueError:
            return None
    if party.kind is PartyKind.SERVICE and party.ref:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"urn:kenett:{org}:service:{party.ref.casefold()}")
    return None
