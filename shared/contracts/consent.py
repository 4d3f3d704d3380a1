"""Consent's public language (R5-R7)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .commands import Command, Query
from .envelope import Event, event_contract

SERVICE = "consent"


class ConsentKind(StrEnum):
    """What the consent is to: an IP, a coordinator (R5), sharing information with named
    services (R7), next of kin taking part (R8)."""

    IP = "ip"
    COORDINATOR = "coordinator"
    SHARING = "sharing"
    NEXT_OF_KIN = "next_of_kin"


class LifeArea(StrEnum):
    """The life areas a plan is organised by (R15)."""

    HEALTH_CARE = "forebygging_helse_omsorg"
    DAYTIME = "dagtid_arbeid_skole_aktivitet"
    HOUSING = "bolig"
    LEISURE = "fritid"
    ECONOMY = "okonomi"
    NETWORK = "sosialt_nettverk"


class ContentKind(StrEnum):
    """Kinds of content in a plan that a consent can open or close (R7)."""

    GOALS = "goals"
    MEASURES = "measures"
    MEETINGS = "meetings"
    HEALTH_INFORMATION = "health_information"
    CONTACTS = "contacts"


class SharingScope(BaseModel):
    """With whom (services or organisations, not individual employees: R7) and which parts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recipients: list[str] = Field(min_length=1, max_length=50)
    life_areas: list[LifeArea] = Field(min_length=1)
    content_kinds: list[ContentKind] = Field(min_length=1)


class NextOfKinScope(BaseModel):
    """Which relatives take part (R8) and what they may see."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    relatives: list[str] = Field(min_length=1, max_length=20, description="e.g. mor, far, søster")
    life_areas: list[LifeArea] = Field(min_length=1)
    content_kinds: list[ContentKind] = Field(min_length=1)


class GiverRole(StrEnum):
    """Who gave the consent (R6)."""

    PERSON = "person"
    PARENT = "parent"
    BARNEVERN = "barnevern"
    REPRESENTATIVE = "representative"


class ChildHeard(StrEnum):
    """Whether the child was heard before parents or barnevernet consented for them (R6)."""

    HEARD = "heard"  # the child's view is known (and kept in the record where it belongs)
    COULD_NOT_BE_HEARD = "could_not_be_heard"  # e.g. their condition did not allow it
    DECLINED = "declined"  # the child was asked and did not want to give a view


class GivenBy(BaseModel):
    """The giver, by role. A representative needs the legal basis recorded (R6)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: GiverRole
    legal_basis: str | None = Field(None, max_length=200)


class RecordConsent(Command):
    """Record a consent with its evidence (R7): form, who recorded it, when, and its scope.

    Under 16 the parents consent: ``parental_responsibility`` says whether one or both have it,
    and where both have it both consent (the second in ``also_given_by``).
    """

    COMMAND: ClassVar[str] = "record"

    case_id: uuid.UUID
    kind: ConsentKind
    given_by: GivenBy
    also_given_by: GivenBy | None = None
    parental_responsibility: Literal["one", "both"] | None = None
    valid_from: datetime | None = Field(None, description="Default: when it was given.")
    valid_until: datetime | None = Field(None, description="A time-limited consent expires.")
    sharing: SharingScope | None = Field(None, description="Required for kind sharing.")
    next_of_kin: NextOfKinScope | None = Field(None, description="Required for kind next_of_kin.")
    form: Literal["oral", "written"]
    recorded_by: str = Field(min_length=1, max_length=128, description="Staff id, not a name.")
    given_at: datetime
    document_ref: str | None = Field(None, max_length=200)
    child_heard: ChildHeard | None = Field(
        None,
        description="R6: a child of 12 or over is heard before parents or barnevernet consent "
        "for them; required then, and only for a consent given on a child's behalf.",
    )
    replaces: uuid.UUID | None = Field(
        None,
        description="R7: the person's new decision replaces this earlier consent of the same "
        "kind for the case (to narrow or widen what is shared, with whom, for how long). The "
        "earlier one is withdrawn in the same transaction, so the two never both count and "
        "there is no gap between them. A replacing consent counts at once (no later "
        "valid_from).",
    )


class RecordConsentResult(BaseModel):
    """The stored consent."""

    consent_id: uuid.UUID
    case_id: uuid.UUID
    kind: ConsentKind
    replaced: uuid.UUID | None = None
    replaced_ends_at: datetime | None = Field(
        None, description="When the replaced consent stopped counting (now)."
    )


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
    valid_until: datetime | None = None
    valid_from: datetime | None = Field(
        None,
        description="When it takes effect (absent: when given). One that starts later does not "
        "count before then: consent.consent_in_force follows at that moment.",
    )


@event_contract
class ConsentInForce(Event):
    """A consent recorded to start later (``valid_from``) has taken effect: from now it counts
    (R5, R7; e.g. a young person's own consent from their 16th birthday, R6)."""

    TYPE = "consent.consent_in_force"
    VERSION = 1

    consent_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    kind: ConsentKind
    given_by_role: GiverRole


class EndCause(StrEnum):
    """Why a consent stopped counting (R6, R7)."""

    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    RENEWAL_NEEDED = "renewal_needed"  # given by parents, and the person turned 16 (R6)
    RENEWED = "renewed"  # given by parents; at 16 the young person's own consent took over (R6)


@event_contract
class ConsentEnded(Event):
    """A consent no longer counts; services that relied on it must stop (R6, R7)."""

    TYPE = "consent.consent_ended"
    VERSION = 1

    consent_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    kind: ConsentKind
    cause: EndCause


class WithdrawConsent(Command):
    """Withdraw a consent, at any time (R7). Recorded with how and by whom; nothing is deleted."""

    COMMAND: ClassVar[str] = "withdraw"

    consent_id: uuid.UUID
    form: Literal["oral", "written"]
    recorded_by: str = Field(min_length=1, max_length=128)
    withdrawn_at: datetime | None = None


class SweepConsents(Command):
    """Expire time-limited consents, mark parents' consents for renewal at 16 (R6, R7), and
    announce consents whose later start has come.

    The service does this by itself every minute; the command runs it now.
    """

    COMMAND: ClassVar[str] = "sweep"


class SweepResult(BaseModel):
    """What a sweep changed."""

    expired: list[uuid.UUID]
    renewal_needed: list[uuid.UUID]
    renewed: list[uuid.UUID] = Field(
        default_factory=list,
        description="Parents' consents that lapsed at 16 where the young person had consented "
        "themself, valid from the birthday (R6).",
    )
    in_force: list[uuid.UUID] = Field(
        default_factory=list,
        description="Consents recorded to start later whose start has come (consent_in_force).",
    )


class ConsentChange(BaseModel):
    """A consent's new state."""

    consent_id: uuid.UUID
    case_id: uuid.UUID
    status: str


class ListConsents(Query):
    """A case's full consent history (R7): every consent and every change, oldest first."""

    QUERY: ClassVar[str] = "history"

    case_id: uuid.UUID


class ConsentView(BaseModel):
    """A consent with its evidence, scope and status."""

    consent_id: uuid.UUID
    kind: ConsentKind
    status: str
    givers: list[dict[str, object]]
    form: str
    recorded_by: str
    given_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    document_ref: str | None
    scope: dict[str, object] | None
    history: list[dict[str, object]]
    child_heard: ChildHeard | None = None


class ConsentHistory(BaseModel):
    """Reply to ListConsents."""

    case_id: uuid.UUID
    consents: list[ConsentView]


class GateActor(BaseModel):
    """Who asks: the person, their coordinator, a provider (a service or organisation code),
    or a named relative."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["person", "coordinator", "provider", "next_of_kin"]
    id: str = Field(min_length=1, max_length=128)


GateAction = Literal[
    "create_plan", "coordinate", "read_plan", "write_plan", "notify", "choose_tool"
]


UNKNOWN_CASE = "consent knows no such case"
"""The gate's reason when the case is unknown to consent (a caller may answer not_found)."""


class MayQuery(Query):
    """The gate: may ACTOR do ACTION on (a part of) the plan of CASE?

    ``choose_tool`` asks whether ``chooser`` may choose the coordination tool for the person
    (R13): the person from 16, those with parental responsibility (or barnevernet) under 16,
    a representative for an adult (R6). Consent judges it, as it knows the birth date."""

    QUERY: ClassVar[str] = "may"

    case_id: uuid.UUID
    who: GateActor
    action: GateAction
    life_area: LifeArea | None = None
    content_kind: ContentKind | None = None
    chooser: GiverRole | None = Field(
        None, description="choose_tool only: who makes the choice, by role (R6, R13)."
    )

    @model_validator(mode="after")
    def _chooser(self) -> MayQuery:
        if (self.action == "choose_tool") != (self.chooser is not None):
            raise ValueError("chooser is given with the action choose_tool, and only with it")
        return self


class SharedPart(BaseModel):
    """One part of a plan: a content kind within a life area."""

    model_config = ConfigDict(frozen=True)

    life_area: LifeArea
    content_kind: ContentKind


class GateDecision(BaseModel):
    """allow or deny, the reason, and the consent that decided it. For a provider or a relative
    reading the plan, ``parts`` lists every part their consents in force cover (R7); None means
    the whole plan (the person, the coordinator)."""

    allow: bool
    reason: str
    consent_id: uuid.UUID | None = None
    parts: list[SharedPart] | None = None


class ExportFhir(Query):
    """A case's consents as FHIR R4 Consent resources (a Bundle)."""

    QUERY: ClassVar[str] = "fhir"

    case_id: uuid.UUID


class FhirBundle(BaseModel):
    """A FHIR R4 Bundle (collection) as JSON."""

    bundle: dict[str, object]
