"""The access log of a case: who read or changed a person's data, and when.

Every service keeps its own audit trail (the kernel's append-only ``kernel_audit``), so every
service answers ``GetAccessLog`` for the case's records in its own database; a client asks them
all and merges by time (``shared.client.KenettClient.access_log``, ``kenett access-log``). The
person has the right to know who has had access to their data (pasientjournalloven § 18,
pasient- og brukerrettighetsloven § 5-1; domain.md, "Identifiers and data").

The log names staff by staff id and services by name; it holds no health data and no identity
numbers. Reading it is itself an access, and is logged like any other.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from .commands import Query

AccessKind = Literal["read", "change", "disclose"]


class GetAccessLog(Query):
    """One service's audit records of a case, oldest first, a page at a time."""

    QUERY: ClassVar[str] = "access_log"

    case_id: uuid.UUID
    since: AwareDatetime | None = Field(None, description="Only records at or after this moment.")
    limit: int = Field(500, ge=1, le=1000, description="Records per page.")
    offset: int = Field(0, ge=0, description="Records to skip: the next_offset of a page.")


class AccessEntry(BaseModel):
    """One access: who, when, what, and whether it was let through."""

    at: datetime
    service: str
    org: str
    actor_kind: Literal["user", "service", "system"]
    actor_id: str
    action: str = Field(description="<service>.<command or query>, or what a service did itself.")
    access: AccessKind = Field(
        description="read: a query; disclose: sent to another organisation (``to``); change: "
        "anything else."
    )
    outcome: str = Field(description="ok, or refused:<code> (an attempt that was turned away).")
    role: str | None = Field(
        None,
        description="The role the access was made in, where the request names one: as "
        "coordinator <id>, as provider <code>, as person, as next_of_kin (R7, R8).",
    )
    to: str | None = Field(None, description="The organisation a disclosure went to.")
    case_id: uuid.UUID | None = Field(
        None, description="The case (in an audit trail across cases; None: no single case)."
    )
    basis: Literal["consent", "no_objection"] | None = Field(
        None,
        description="Why the disclosure was lawful, where the sender stated it: the person's "
        "consent, or informed without objecting (helsepersonelloven § 45).",
    )


class AccessLog(BaseModel):
    """Reply to GetAccessLog: one page of one service's records."""

    case_id: uuid.UUID
    entries: list[AccessEntry]
    total: int = Field(0, description="Records of the case in this service (all pages).")
    next_offset: int | None = Field(None, description="The offset of the next page, if any.")


class GetAuditTrail(Query):
    """One service's audit records over a period, across cases, oldest first, a page at a time:
    the organisation's regular review of who accessed what, to find access without need
    (helsepersonelloven § 21 a, the snooping ban; Normen's "kontroll av logger")."""

    QUERY: ClassVar[str] = "audit_trail"

    since: AwareDatetime = Field(description="Records at or after this moment.")
    until: AwareDatetime | None = Field(None, description="Records before this moment.")
    actor_id: str | None = Field(None, min_length=1, max_length=128, description="One actor.")
    refused_only: bool = Field(False, description="Only attempts that were turned away.")
    limit: int = Field(500, ge=1, le=1000, description="Records per page.")
    offset: int = Field(0, ge=0, description="Records to skip: the next_offset of a page.")

    @model_validator(mode="after")
    def _period(self) -> GetAuditTrail:
        if self.until is not None and self.until <= self.since:
            raise ValueError("until must be after since")
        return self


class AuditTrail(BaseModel):
    """Reply to GetAuditTrail: one page of one service's records in the period."""

    entries: list[AccessEntry]
    total: int = Field(0, description="Records in the period in this service (all pages).")
    next_offset: int | None = Field(None, description="The offset of the next page, if any.")


# --- what users read ---------------------------------------------------------------------------

ANY_SERVICE_TEXT: dict[str, str] = {
    "access_log": "tilgangslogg for saken",
    "audit_trail": "tilgangskontroll for en periode",
    "fhir": "saken i FHIR-format",
    "sweep": "forfalte oppgaver behandlet",
}
"""Queries every service answers alike (``<any service>.<key>``), and the common name of one
ask made of several services."""

ACTION_TEXT: dict[str, str] = {
    # intake
    "intake.report_need": "melding om behov for IP eller koordinator",
    "intake.assess_eligibility": "vurdering av retten til IP",
    "intake.decide": "vedtak om IP eller beslutning om koordinator",
    "intake.register_appeal": "klage registrert",
    "intake.activate": "sak satt i gang",
    "intake.close": "sak avsluttet",
    "intake.register_offer": "tilbud om habilitering eller rehabilitering registrert",
    "intake.get_case": "status for saken",
    "intake.find_case": "saken funnet ved saksnummeret",
    "intake.case": "saken",
    "intake.export_for_transfer": "saken hentet for flytting til en annen kommune",
    "intake.letter": "vedtaksbrev",
    "intake.appeal_deadlines": "klagefrister",
    "intake.offers": "oversikt over tilbud",
    "intake.service_types": "tjenestekatalogen",
    "intake.waiting_times": "ventetider",
    "intake.case_counts": "antall saker per status",
    "intake.cases": "saksliste",
    # consent
    "consent.record": "samtykke registrert",
    "consent.withdraw": "samtykke trukket tilbake",
    "consent.sweep": "utløpte samtykker avsluttet",
    "consent.history": "samtykkehistorikk",
    "consent.fhir": "samtykker i FHIR-format",
    "consent.may": "kontroll av samtykke",
    # assignment
    "assignment.register_coordinator": "koordinator lagt til i registeret",
    "assignment.update_coordinator": "koordinatoroppføring endret",
    "assignment.deactivate_coordinator": "koordinator sluttet",
    "assignment.reactivate_coordinator": "koordinator tilbake i registeret",
    "assignment.set_needs": "ønsker og behov for koordinator",
    "assignment.appoint": "koordinator oppnevnt",
    "assignment.plan_handover": "bytte av koordinator planlagt",
    "assignment.cancel_handover": "bytte av koordinator avlyst",
    "assignment.handover_started": "bytte av koordinator startet",
    "assignment.release": "koordinator fritatt fra saken",
    "assignment.stop_coordination": "koordineringen avsluttet",
    "assignment.complete_duty": "koordinatoroppgave utført",
    "assignment.duty_done": "koordinatoroppgave utført",
    "assignment.override_limit": "koordinator over grensen for antall saker",
    "assignment.sweep": "forfalte bytter og oppgaver behandlet",
    "assignment.list_coordinators": "koordinatorregisteret",
    "assignment.caseload": "saksmengde per koordinator",
    "assignment.suggest": "forslag til koordinator",
    "assignment.coordination": "koordinatorer i saken",
    "assignment.needing": "saker som venter på koordinator",
    "assignment.duties": "koordinatoroppgaver",
    "assignment.fhir": "koordinatorer i FHIR-format",
    # planning
    "planning.measure_status": "status for tiltak",
    "planning.save": "planen lagret",
    "planning.evaluate": "evaluering av mål eller tiltak",
    "planning.status": "status for planen endret",
    "planning.get_plan": "status for planen",
    "planning.view_plan": "planen",
    "planning.versions": "planens versjoner",
    "planning.diff": "endringer mellom versjoner av planen",
    "planning.list": "oversikt over planer",
    "planning.fhir": "planen i FHIR-format",
    "planning.pdf": "planen som PDF",
    "planning.switch_tool": "valg av koordineringsverktøy",
    "planning.tool": "koordineringsverktøy",
    "planning.add_member": "medlem lagt til i ansvarsgruppen",
    "planning.end_member": "medlem gått ut av ansvarsgruppen",
    "planning.schedule_meeting": "møte i ansvarsgruppen innkalt",
    "planning.minutes": "referat fra møte",
    "planning.cancel_meeting": "møte avlyst",
    "planning.complete_task": "oppgave fra møte utført",
    "planning.group": "ansvarsgruppen",
    "planning.sweep": "forfalte evalueringer varslet",
    "planning.purge": "gamle planer slettet eller anonymisert",
    # notifications
    "notifications.inbox": "innboks",
    "notifications.mark_read": "varsel lest",
    "notifications.unread_important": "uleste viktige varsler",
    "notifications.set_preferences": "varslingsvalg endret",
    "notifications.preferences": "varslingsvalg",
    "notifications.set_policy": "varslingsregler endret",
    "notifications.policy": "varslingsregler",
    "notifications.channels": "varslingskanaler",
    "notifications.deliveries": "utsendinger av varsler",
    "notifications.resend": "varsel sendt på nytt",
    "notifications.reminders": "påminnelser",
    "notifications.sweep": "påminnelser og sammendrag sendt",
    # federation
    "federation.report_need": "melding om behov sendt",
    "federation.propose_handover": "forslag om overføring av koordinator",
    "federation.answer_handover": "svar på overføring av koordinator",
    "federation.sweep": "meldinger uten kvittering varslet",
    "federation.links": "saker delt med andre virksomheter",
    "federation.link": "saken hos andre virksomheter",
    "federation.messages": "meldinger til og fra andre virksomheter",
    "federation.directory": "virksomheter vi samarbeider med",
    "federation.update_measure": "status for tiltak sendt",
    "federation.transfer_case": "sak overført ved flytting",
    "federation.shared_plan": "tiltak delt av en annen virksomhet",
}
"""What an audit record's action is called (bokmål), for the access log and the audit trail."""

_SENT = "federation.sent."
_RECEIVED = "federation.receive."


def action_text(action: str) -> str:
    """The action in bokmål: "planning.view_plan" → "planen"; a message to or from another
    organisation by its title. An action with no text here is shown as its code."""
    from .xorg import title

    if action.startswith(_SENT):
        return "sendt: " + _lower_first(title(action.removeprefix(_SENT)))
    if action.startswith(_RECEIVED):
        return "mottatt: " + _lower_first(title(action.removeprefix(_RECEIVED)))
    found = ACTION_TEXT.get(action)
    if found is not None:
        return found
    return ANY_SERVICE_TEXT.get(action.partition(".")[2], action)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
