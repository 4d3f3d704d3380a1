"""The plan as output: a FHIR R4 Bundle (CarePlan, Goal, Task, CareTeam) and a printable PDF in
bokmål for responsibility-group meetings (R14-R16).

Pure functions over a ``PlanDocument`` already cut to what the reader may see (R7): nothing is
looked up here, and the only I/O is reading the embedded fonts. The person is referenced by
case only, never by name or national identity number.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from fpdf import FPDF

from shared.clock import OSLO
from shared.contracts.consent import LifeArea
from shared.contracts.planning import (
    Evaluation,
    GroupView,
    Horizon,
    MeasureStatus,
    MemberView,
    Outcome,
    Party,
    PartyKind,
    PlanDocument,
)
from shared.printing import FONTS, norwegian_date

# --- Bokmål labels ------------------------------------------------------------------------


LIFE_AREA_TEXT: dict[LifeArea, str] = {
    LifeArea.HEALTH_CARE: "Forebygging, helse og omsorg",
    LifeArea.DAYTIME: "Dagtid, arbeid, skole og aktivitet",
    LifeArea.HOUSING: "Bolig",
    LifeArea.LEISURE: "Fritid",
    LifeArea.ECONOMY: "Økonomi",
    LifeArea.NETWORK: "Sosialt fellesskap og nettverk",
}
HORIZON_TEXT = {Horizon.LONG: "Langsiktig", Horizon.SHORT: "Kortsiktig"}
OUTCOME_TEXT = {
    Outcome.ACHIEVED: "oppnådd",
    Outcome.PARTLY: "delvis oppnådd",
    Outcome.NOT_ACHIEVED: "ikke oppnådd",
}
PLAN_STATUS_TEXT = {
    "draft": "utkast",
    "active": "aktiv",
    "under_revision": "under revisjon",
    "frozen": "fryst",
    "closed": "avsluttet",
}
MEASURE_STATUS_TEXT = {
    MeasureStatus.PLANNED: "planlagt",
    MeasureStatus.ONGOING: "pågår",
    MeasureStatus.DONE: "fullført",
    MeasureStatus.STOPPED: "stoppet",
}
CONSENT_KIND_TEXT = {
    "ip": "individuell plan",
    "coordinator": "koordinator",
    "sharing": "deling",
    "next_of_kin": "pårørende",
}
CONSENT_STATUS_TEXT = {
    "active": "gyldig",
    "withdrawn": "trukket tilbake",
    "expired": "utløpt",
    "renewal_needed": "må fornyes",
    "renewed": "fornyet av den unge selv",
}
MEETING_STATUS_TEXT = {"scheduled": "planlagt", "held": "holdt", "cancelled": "avlyst"}
TOOL_TEXT = {"ip": "individuell plan", "meetings": "ansvarsgruppemøter"}

WITHHELD_NOTE = (
    "Noen deler av planen er ikke med i denne utskriften fordi samtykket ikke omfatter dem."
)
EMPTY = "Ingen registrert."


def party_text(party: Party) -> str:
    """Who a party is, in bokmål: the person, the named service, the relation, or the
    coordinator (R16)."""
    if party.kind is PartyKind.PERSON:
        return "Personen selv"
    if party.kind is PartyKind.SERVICE:
        return party.ref or "Tjeneste"
    if party.kind is PartyKind.NEXT_OF_KIN:
        return party.ref or "Pårørende"
    return "Koordinator"


def last_evaluation(evaluations: Iterable[Evaluation]) -> Evaluation | None:
    """The latest evaluation by date (the last recorded wins a tie)."""
    latest: Evaluation | None = None
    for e in evaluations:
        if latest is None or e.on >= latest.on:
            latest = e
    return latest


# --- FHIR ---------------------------------------------------------------------------------

_CAREPLAN_STATUS = {
    "draft": "draft",
    "active": "active",
    "under_revision": "on-hold",
    "frozen": "on-hold",
    "closed": "completed",
}
_ACTIVITY_STATUS = {
    MeasureStatus.PLANNED: "scheduled",
    MeasureStatus.ONGOING: "in-progress",
    MeasureStatus.DONE: "completed",
    MeasureStatus.STOPPED: "stopped",
}
_ACHIEVEMENT = {
    Outcome.ACHIEVED: ("achieved", "Achieved"),
    Outcome.PARTLY: ("in-progress", "In Progress"),
    Outcome.NOT_ACHIEVED: ("not-achieved", "Not Achieved"),
}
_ACHIEVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/goal-achievement"
_LIFE_AREA_SYSTEM = "urn:kenett:life-area"
_HORIZON_SYSTEM = "urn:kenett:goal-horizon"
_NEXT_EVALUATION = "urn:kenett:fhir:next-evaluation-date"
_MEASURE_SCOPE = "urn:kenett:fhir:measure-scope"
_MEASURE_HOW = "urn:kenett:fhir:measure-how"
_SECTION_TEXT = {
    "goals": "mål",
    "resources_needs": "ressurser og behov",
    "participants": "deltakere",
    "contributions": "bidrag",
    "measures": "tiltak",
    "cooperation": "samarbeid",
}


def _life_area(area: LifeArea) -> dict[str, Any]:
    return {
        "coding": [{"system": _LIFE_AREA_SYSTEM, "code": area.value}],
        "text": LIFE_AREA_TEXT[area],
    }


def _urn(key: uuid.UUID) -> str:
    return f"urn:uuid:{key}"


def plan_bundle(doc: PlanDocument, group: GroupView | None, org: str) -> dict[str, Any]:
    """The plan as a FHIR R4 Bundle of type collection: one CarePlan, a Goal per goal, a Task
    per responsibility-group task, and the group as a CareTeam, validated by fhir.resources (R4B
    models, whose CarePlan, Goal, Task and CareTeam are R4's). Entries have ``urn:uuid`` full
    URLs derived from the plan and item ids, so one version always exports the same way."""
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.careplan import CarePlan
    from fhir.resources.R4B.careteam import CareTeam
    from fhir.resources.R4B.goal import Goal as FhirGoal
    from fhir.resources.R4B.task import Task

    content = doc.content

    def uid(kind: str, key: object) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"urn:kenett:{org}:plan:{doc.plan_id}:{kind}:{key}")

    # The person by case reference only: no identity number leaves in an export.
    subject = {
        "identifier": {"system": "urn:kenett:case", "value": str(doc.case_id)},
        "display": f"sak {doc.case_ref}",
    }

    def practitioner(ref: str | None) -> dict[str, Any]:
        try:
            cid = uuid.UUID(ref) if ref else doc.coordinator_id
        except ValueError:
            cid = doc.coordinator_id
        return {"reference": f"Practitioner/{cid}", "display": "Koordinator"}

    def party_ref(party: Party) -> dict[str, Any]:
        if party.kind is PartyKind.PERSON:
            return subject
        if party.kind is PartyKind.COORDINATOR:
            return practitioner(party.ref)
        if party.kind is PartyKind.SERVICE:
            ref: dict[str, Any] = {"type": "Organization", "display": party_text(party)}
            if party.ref:
                ref["identifier"] = {"system": f"urn:kenett:{org}:service", "value": party.ref}
            return ref
        return {"type": "RelatedPerson", "display": party_text(party)}

    # Stable across versions (meta.versionId tells them apart), like the goals' ids.
    careplan_id = uid("careplan", "")
    careteam_id = uid("careteam", "")
    entries: list[tuple[uuid.UUID, dict[str, Any], Any]] = []

    # Goals.
    goal_urls: dict[str, str] = {}
    goal_refs: list[dict[str, str]] = []
    for index, g in enumerate(content.goals):
        gid = uid("goal", g.id or f"#{index}")
        goal_refs.append({"reference": _urn(gid)})
        if g.id:
            goal_urls[g.id] = _urn(gid)
        last = last_evaluation(g.evaluations)
        goal: dict[str, Any] = {
            "resourceType": "Goal",
            "id": str(gid),
            "lifecycleStatus": (
                "completed" if last and last.outcome is Outcome.ACHIEVED else "active"
            ),
            "category": [
                _life_area(g.life_area),
                {
                    "coding": [{"system": _HORIZON_SYSTEM, "code": g.horizon.value}],
                    "text": HORIZON_TEXT[g.horizon],
                },
            ],
            "description": {"text": g.text},
            "subject": subject,
        }
        if g.id:
            goal["identifier"] = [{"system": "urn:kenett:plan-item", "value": g.id}]
        if last:
            code, display = _ACHIEVEMENT[last.outcome]
            goal["achievementStatus"] = {
                "coding": [{"system": _ACHIEVEMENT_SYSTEM, "code": code, "display": display}],
                "text": OUTCOME_TEXT[last.outcome],
            }
            goal["statusDate"] = last.on.isoformat()
            if last.comment:
                goal["note"] = [{"time": last.on.isoformat(), "text": last.comment}]
        if g.deadline:
            goal["target"] = [{"dueDate": g.deadline.isoformat()}]
        if g.evaluation_date:
            goal["extension"] = [
                {"url": _NEXT_EVALUATION, "valueDate": g.evaluation_date.isoformat()}
            ]
        entries.append((gid, goal, FhirGoal))

    # The CarePlan, a measure per activity (R16: what, by whom, when).
    activities: list[dict[str, Any]] = []
    for m in content.measures:
        detail: dict[str, Any] = {
            "status": _ACTIVITY_STATUS[m.status],
            "code": _life_area(m.life_area),
            "description": m.title,
        }
        scheduled = {
            k: v.isoformat() for k, v in (("start", m.start), ("end", m.deadline)) if v is not None
        }
        if scheduled:
            detail["scheduledPeriod"] = scheduled
        if m.responsible:
            detail["performer"] = [party_ref(m.responsible)]
        goals = [{"reference": goal_urls[i]} for i in m.goal_ids if i in goal_urls]
        if goals:
            detail["goal"] = goals
        if m.where:
            detail["location"] = {"display": m.where}
        activity: dict[str, Any] = {"detail": detail}
        progress = [
            {"time": e.on.isoformat(), "text": f"{OUTCOME_TEXT[e.outcome]}. {e.comment}".strip()}
            for e in m.evaluations
        ]
        extensions = [
            {"url": url, "valueString": value}
            for url, value in ((_MEASURE_SCOPE, m.scope), (_MEASURE_HOW, m.how))
            if value
        ]
        if m.evaluation_date:
            extensions.append({"url": _NEXT_EVALUATION, "valueDate": m.evaluation_date.isoformat()})
        if extensions:
            detail["extension"] = extensions
        if progress:
            activity["progress"] = progress
        activities.append(activity)

    notes: list[dict[str, Any]] = []
    period = content.period
    if period and period.revision_dates:
        dates = ", ".join(d.isoformat() for d in period.revision_dates)
        notes.append({"text": f"Revisjonsdatoer: {dates}"})
    withheld = [*doc.withheld, *(group.withheld if group else [])]
    if withheld:
        parts = ", ".join(_SECTION_TEXT.get(w, w) for w in withheld)
        notes.append({"text": f"Utelatt fordi samtykket ikke omfatter det: {parts}"})
    careplan: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(careplan_id),
        "meta": {"versionId": str(doc.version)},
        "identifier": [{"system": "urn:kenett:plan", "value": str(doc.plan_id)}],
        "status": _CAREPLAN_STATUS.get(doc.status, "unknown"),
        "intent": "plan",
        "title": "Individuell plan",
        "subject": subject,
        "author": practitioner(str(doc.coordinator_id)),
        "careTeam": [{"reference": _urn(careteam_id)}],
        "contributor": [
            party_ref(p.party) | {"display": f"{party_text(p.party)} ({p.role})"}
            for p in content.participants
        ],
        "goal": goal_refs,
        "activity": activities,
        "note": notes,
    }
    if doc.saved_at.tzinfo is not None:
        careplan["meta"]["lastUpdated"] = doc.saved_at.isoformat()
    if period:
        careplan["period"] = {"start": period.start.isoformat()}
        if period.end:
            careplan["period"]["end"] = period.end.isoformat()
    careplan = {k: v for k, v in careplan.items() if v != []}
    entries.insert(0, (careplan_id, careplan, CarePlan))

    # The responsibility group as a CareTeam, with the coordinator.
    members: dict[uuid.UUID, MemberView] = {m.member_id: m for m in group.members} if group else {}
    participants: list[dict[str, Any]] = [
        {
            "role": [
                {
                    "coding": [
                        {
                            "system": "urn:kenett:coordinator-role",
                            "code": "primary",
                            "display": "Koordinator",
                        }
                    ],
                    "text": "koordinator",
                }
            ],
            "member": practitioner(str(doc.coordinator_id)),
        }
    ]
    for mv in members.values():
        m_period = {"start": mv.from_date.isoformat()}
        if mv.to_date:
            m_period["end"] = mv.to_date.isoformat()
        participants.append(
            {
                "id": str(mv.member_id),
                "role": [{"text": mv.role}],
                "member": party_ref(mv.party),
                "period": m_period,
            }
        )
    careteam = {
        "resourceType": "CareTeam",
        "id": str(careteam_id),
        "status": "inactive" if doc.status == "closed" else "active",
        "name": f"Ansvarsgruppe, sak {doc.case_ref}",
        "subject": subject,
        "participant": participants,
    }
    entries.insert(1, (careteam_id, careteam, CareTeam))

    # Tasks from the group's meetings.
    meetings = {mt.meeting_id: mt for mt in group.meetings} if group else {}
    for t in group.tasks if group else []:
        member = members.get(t.member_id)
        task: dict[str, Any] = {
            "resourceType": "Task",
            "id": str(t.task_id),
            "identifier": [{"system": "urn:kenett:task", "value": str(t.task_id)}],
            "basedOn": [{"reference": _urn(careplan_id)}],
            "status": "completed" if t.done_at else "requested",
            "intent": "order",
            "description": t.text,
            "for": subject,
            "owner": party_ref(member.party) if member else {"display": "Ukjent medlem"},
            "restriction": {"period": {"end": t.deadline.isoformat()}},
        }
        meeting = meetings.get(t.meeting_id)
        if meeting and meeting.at.tzinfo is not None:
            task["authoredOn"] = meeting.at.isoformat()
        if t.done_at and t.done_at.tzinfo is not None:
            task["executionPeriod"] = {"end": t.done_at.isoformat()}
        entries.append((t.task_id, task, Task))

    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": _urn(key),
                "resource": json.loads(
                    model.model_validate(resource).model_dump_json(exclude_none=True)
                ),
            }
            for key, resource, model in entries
        ],
    }
    if doc.saved_at.tzinfo is not None:
        bundle["timestamp"] = doc.saved_at.isoformat()
    result: dict[str, Any] = json.loads(
        Bundle.model_validate(bundle).model_dump_json(exclude_none=True)
    )
    return result


# --- PDF ----------------------------------------------------------------------------------


class _PlanPdf(FPDF):
    """A4 with a footer on every page: confidentiality and ``Side N av M``."""

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("DejaVu", "", 8)
        self.cell(0, 5, "Taushetsbelagt", align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Side {self.page_no()} av {self.str_alias_nb_pages}", align="R")


_LABEL_W = 38.0


class _Writer:
    """Headings, paragraphs and label-value rows; every text wraps (multi_cell)."""

    def __init__(self, pdf: _PlanPdf) -> None:
        self.pdf = pdf

    def keep(self, needed: float) -> None:
        """Start a new page unless ``needed`` mm are left on this one."""
        pdf = self.pdf
        if pdf.get_y() + needed > pdf.h - pdf.b_margin:
            pdf.add_page()

    def heading(self, text: str) -> None:
        # Keep a heading with the start of its section.
        self.keep(32)
        self.pdf.ln(4)
        self.pdf.set_font("DejaVu", "B", 13)
        self.pdf.multi_cell(0, 7, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def subheading(self, text: str) -> None:
        self.keep(14)
        self.pdf.ln(1.5)
        self.pdf.set_font("DejaVu", "B", 11)
        self.pdf.multi_cell(0, 6, text, align="L", new_x="LMARGIN", new_y="NEXT")

    def para(self, text: str, bold: bool = False) -> None:
        self.pdf.set_font("DejaVu", "B" if bold else "", 10)
        self.pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")

    def row(self, label: str, value: str) -> None:
        """``label`` in a narrow column, ``value`` wrapped beside it; a label too wide for the
        column (a long service name) gets a line of its own."""
        if not value:
            return
        pdf = self.pdf
        self.keep(6)
        pdf.set_font("DejaVu", "B", 9.5)
        if pdf.get_string_width(f"{label}:") > _LABEL_W - 1:
            pdf.multi_cell(0, 5, f"{label}:", align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.set_x(pdf.l_margin + _LABEL_W)
        else:
            pdf.cell(_LABEL_W, 5, f"{label}:")
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 5, value, align="L", new_x="LMARGIN", new_y="NEXT")

    def gap(self) -> None:
        self.pdf.ln(2)

    def empty(self) -> None:
        self.para(EMPTY)


def _d(day: date | datetime | None) -> str:
    return norwegian_date(day) if day else ""


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _evaluation_text(e: Evaluation | None) -> str:
    if e is None:
        return ""
    text = f"{OUTCOME_TEXT[e.outcome]} ({norwegian_date(e.on)})"
    return f"{text}. {e.comment}" if e.comment else text


def plan_pdf(doc: PlanDocument, group: GroupView | None, printed_on: date) -> bytes:
    """The plan as a printable A4 PDF in bokmål for responsibility-group meetings: R14's nine
    points, the measures with who is responsible (R16), and, when given, the group's members,
    meetings and tasks. fpdf2 with the DejaVu fonts embedded (see shared/fonts/LICENSE-DejaVu)."""
    content = doc.content
    pdf = _PlanPdf(format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=22)
    pdf.set_title(f"Individuell plan - sak {doc.case_ref}")
    pdf.add_page()
    w = _Writer(pdf)

    # Head.
    pdf.set_font("DejaVu", "B", 17)
    pdf.multi_cell(0, 9, "Individuell plan", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    w.row("Sak", doc.case_ref)
    w.row("Versjon", str(doc.version))
    w.row("Status", PLAN_STATUS_TEXT.get(doc.status, doc.status))
    w.row("Verktøy", TOOL_TEXT.get(doc.tool, doc.tool))
    w.row("Sist lagret", norwegian_date(doc.saved_at))
    w.row("Utskrevet", norwegian_date(printed_on))
    if doc.withheld or (group is not None and group.withheld):
        pdf.ln(3)
        w.para(WITHHELD_NOTE, bold=True)

    # 1. Goals, by life area (R14 point 1, R15).
    goal_text = {g.id: g.text for g in content.goals if g.id}
    w.heading("Mål")
    if not content.goals:
        w.empty()
    for area in LifeArea:
        goals = [g for g in content.goals if g.life_area is area]
        if not goals:
            continue
        w.subheading(LIFE_AREA_TEXT[area])
        for g in goals:
            w.gap()
            w.para(g.text)
            w.row("Tidsperspektiv", HORIZON_TEXT[g.horizon])
            w.row("Frist", _d(g.deadline))
            w.row("Evalueringsdato", _d(g.evaluation_date))
            w.row("Siste evaluering", _evaluation_text(last_evaluation(g.evaluations)))

    # 1. Resources and needs.
    w.heading("Ressurser og behov")
    if not content.resources_needs:
        w.empty()
    for area in LifeArea:
        items = [r for r in content.resources_needs if r.life_area is area]
        if not items:
            continue
        w.subheading(LIFE_AREA_TEXT[area])
        for r in items:
            w.row("Ressurs" if r.kind == "resource" else "Behov", r.text)

    # 2. Participants.
    w.heading("Deltakere")
    if not content.participants:
        w.empty()
    for p in content.participants:
        w.row(party_text(p.party), p.role)

    # 3. Coordinator.
    w.heading("Koordinator")
    w.para(
        "Koordinatoren sørger for nødvendig oppfølging, samordning av tjenestene og framdrift "
        "i arbeidet med planen."
    )
    w.row("Koordinator-ID", str(doc.coordinator_id))

    # 4. Contributions.
    w.heading("Bidrag")
    if not content.contributions:
        w.empty()
    for c in content.contributions:
        w.row(party_text(c.party), c.text)

    # 5-6. Measures (R16: who is responsible, when).
    w.heading("Tiltak")
    if not content.measures:
        w.empty()
    for m in content.measures:
        w.gap()
        w.keep(16)
        w.para(m.title, bold=True)
        w.row("Livsområde", LIFE_AREA_TEXT[m.life_area])
        w.row("Gjelder mål", "; ".join(_short(goal_text[i]) for i in m.goal_ids if i in goal_text))
        w.row("Omfang", m.scope)
        w.row("Gjennomføring", m.how)
        w.row("Sted", m.where)
        w.row("Ansvarlig", party_text(m.responsible) if m.responsible else "Ikke angitt")
        w.row("Start", _d(m.start))
        w.row("Frist", _d(m.deadline))
        w.row("Evalueringsdato", _d(m.evaluation_date))
        w.row("Status", MEASURE_STATUS_TEXT[m.status])
        w.row("Siste evaluering", _evaluation_text(last_evaluation(m.evaluations)))

    # 7. Period and revision.
    w.heading("Planperiode og revisjon")
    period = content.period
    if period is None:
        w.empty()
    else:
        w.row("Fra", norwegian_date(period.start))
        w.row("Til", _d(period.end) or "Ikke fastsatt")
        revisions = ", ".join(norwegian_date(d) for d in sorted(period.revision_dates))
        w.row("Revisjon", revisions or "Ikke fastsatt")

    # 8. Consents.
    w.heading("Samtykker")
    if not doc.consents:
        w.empty()
    for s in doc.consents:
        w.gap()
        kind = CONSENT_KIND_TEXT.get(s.kind, s.kind)
        w.para(f"Samtykke: {kind}", bold=True)
        w.row("Gitt", norwegian_date(s.given_at))
        w.row("Gyldig til", _d(s.valid_until) or "Inntil det trekkes tilbake")
        w.row("Status", CONSENT_STATUS_TEXT.get(s.status, s.status))

    # 9. Cooperation.
    w.heading("Samarbeid")
    if not content.cooperation:
        w.empty()
    for co in content.cooperation:
        w.row(co.agency, co.purpose)

    if group is not None:
        members = {m.member_id: m for m in group.members}
        w.heading("Ansvarsgruppe")
        if not group.members:
            w.empty()
        for mv in group.members:
            until = f" til {norwegian_date(mv.to_date)}" if mv.to_date else ""
            w.row(party_text(mv.party), f"{mv.role}, fra {norwegian_date(mv.from_date)}{until}")

        w.heading("Møter")
        if not group.meetings:
            w.empty()
        for mt in sorted(group.meetings, key=lambda x: x.at):
            w.gap()
            local = mt.at.astimezone(OSLO) if mt.at.tzinfo else mt.at
            w.para(f"{norwegian_date(local)} kl. {local:%H:%M}", bold=True)
            w.row("Sted", mt.place)
            w.row("Status", MEETING_STATUS_TEXT.get(mt.status, mt.status))
            w.row("Saker", "\n".join(f"• {a}" for a in mt.agenda))
            w.row("Referat", mt.summary or "")
            w.row("Vedtak", "\n".join(f"• {d}" for d in mt.decisions))
            w.row("Avlyst fordi", mt.cancel_reason or "")

        w.heading("Oppgaver")
        if not group.tasks:
            w.empty()
        for t in sorted(group.tasks, key=lambda x: x.deadline):
            w.gap()
            w.para(t.text)
            member = members.get(t.member_id)
            w.row("Ansvarlig", party_text(member.party) if member else "Ukjent medlem")
            w.row("Frist", norwegian_date(t.deadline))
            w.row("Utført", norwegian_date(t.done_at) if t.done_at else "Nei")

    return bytes(pdf.output())
