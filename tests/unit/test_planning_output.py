"""The plan as output (R14-R16): a FHIR R4 Bundle and a printable PDF in bokmål. Synthetic data
only: no names, no national identity numbers."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.goal import Goal as FhirGoal
from fhir.resources.R4B.task import Task
from pypdf import PdfReader

from services.planning.output import WITHHELD_NOTE, plan_bundle, plan_pdf
from shared.contracts.consent import LifeArea
from shared.contracts.planning import (
    ConsentRef,
    Contribution,
    Cooperation,
    Evaluation,
    Goal,
    GroupView,
    Horizon,
    Measure,
    MeasureStatus,
    MeetingView,
    MemberView,
    Outcome,
    Participant,
    Party,
    PartyKind,
    PlanContent,
    PlanDocument,
    PlanPeriod,
    ResourceNeed,
    TaskView,
)
from shared.printing import norwegian_date

ORG = "lund"
PRINTED = date(2026, 11, 22)
COORDINATOR = uuid.UUID("00000000-0000-4000-8000-00000000c001")
PERSON = Party(kind=PartyKind.PERSON)
HOME_CARE = Party(kind=PartyKind.SERVICE, ref="hjemmesykepleien")
MOTHER = Party(kind=PartyKind.NEXT_OF_KIN, ref="mor")
COORD = Party(kind=PartyKind.COORDINATOR, ref=str(COORDINATOR))

HEADINGS = (
    "Individuell plan",
    "Mål",
    "Ressurser og behov",
    "Deltakere",
    "Koordinator",
    "Bidrag",
    "Tiltak",
    "Planperiode og revisjon",
    "Samtykker",
    "Samarbeid",
)
GROUP_HEADINGS = ("Ansvarsgruppe", "Møter", "Oppgaver")


def evaluation(on: date, outcome: Outcome, comment: str = "") -> Evaluation:
    return Evaluation(on=on, outcome=outcome, comment=comment, by="staff-01")


def content(goal_text: str = "Jeg vil bo i egen leilighet innen et år.") -> PlanContent:
    return PlanContent(
        goals=[
            Goal(
                id="G1",
                text=goal_text,
                horizon=Horizon.LONG,
                life_area=LifeArea.HOUSING,
                deadline=date(2027, 6, 1),
                evaluation_date=date(2026, 12, 1),
                evaluations=[
                    evaluation(date(2026, 3, 1), Outcome.NOT_ACHIEVED),
                    evaluation(date(2026, 9, 1), Outcome.PARTLY, "Har sett på to leiligheter."),
                ],
            ),
            Goal(
                id="G2",
                text="Gå tur med turgruppa hver uke.",
                horizon=Horizon.SHORT,
                life_area=LifeArea.LEISURE,
                deadline=date(2026, 10, 1),
                evaluations=[evaluation(date(2026, 10, 2), Outcome.ACHIEVED)],
            ),
        ],
        resources_needs=[
            ResourceNeed(id="R1", kind="resource", life_area=LifeArea.LEISURE, text="Liker å gå."),
            ResourceNeed(
                id="R2", kind="need", life_area=LifeArea.HOUSING, text="Trenger hjelp med søknad."
            ),
        ],
        participants=[
            Participant(id="P1", party=PERSON, role="Planeier"),
            Participant(id="P2", party=HOME_CARE, role="Tjenesteyter"),
            Participant(id="P3", party=MOTHER, role="Pårørende"),
        ],
        contributions=[
            Contribution(id="C1", party=PERSON, text="Møter opp på visninger."),
            Contribution(id="C2", party=MOTHER, text="Kjører til visninger."),
        ],
        measures=[
            Measure(
                id="M1",
                title="Søknad om kommunal bolig",
                life_area=LifeArea.HOUSING,
                goal_ids=["G1"],
                scope="To timer i uka",
                how="Fyller ut søknaden sammen med koordinator.",
                where="Servicetorget",
                responsible=COORD,
                start=date(2026, 2, 1),
                deadline=date(2026, 12, 31),
                evaluation_date=date(2026, 12, 1),
                status=MeasureStatus.ONGOING,
            ),
            Measure(
                id="M2",
                title="Turgruppe på onsdager",
                life_area=LifeArea.LEISURE,
                goal_ids=["G2"],
                responsible=PERSON,
                start=date(2026, 3, 1),
                status=MeasureStatus.DONE,
                evaluations=[evaluation(date(2026, 10, 2), Outcome.ACHIEVED)],
            ),
            Measure(
                id="M3",
                title="Medisinhåndtering",
                life_area=LifeArea.HEALTH_CARE,
                responsible=HOME_CARE,
                status=MeasureStatus.PLANNED,
            ),
            Measure(
                id="M4",
                title="Følge til legetimer",
                life_area=LifeArea.HEALTH_CARE,
                responsible=MOTHER,
                status=MeasureStatus.STOPPED,
            ),
        ],
        period=PlanPeriod(
            start=date(2026, 1, 15),
            end=date(2027, 12, 31),
            revision_dates=[date(2026, 6, 1), date(2027, 1, 15)],
        ),
        cooperation=[Cooperation(id="S1", agency="NAV", purpose="Bostøtte og økonomisk råd.")],
    )


def document(
    withheld: list[str] | None = None, plan_content: PlanContent | None = None
) -> PlanDocument:
    return PlanDocument(
        plan_id=uuid.UUID("00000000-0000-4000-8000-0000000000a1"),
        case_id=uuid.UUID("00000000-0000-4000-8000-0000000000b1"),
        case_ref="2026-000042",
        version=3,
        status="active",
        tool="ip",
        coordinator_id=COORDINATOR,
        saved_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        saved_by="staff-01",
        content=plan_content or content(),
        consents=[
            ConsentRef(
                consent_id=uuid.UUID("00000000-0000-4000-8000-0000000000d1"),
                kind="ip",
                given_at=datetime(2026, 1, 10, 10, 0, tzinfo=UTC),
                valid_until=None,
                status="active",
            ),
            ConsentRef(
                consent_id=uuid.UUID("00000000-0000-4000-8000-0000000000d2"),
                kind="sharing",
                given_at=datetime(2026, 1, 10, 10, 0, tzinfo=UTC),
                valid_until=datetime(2027, 1, 10, 10, 0, tzinfo=UTC),
                status="active",
            ),
        ],
        withheld=withheld or [],
    )


MEMBER_CARE = uuid.UUID("00000000-0000-4000-8000-0000000000e1")
MEMBER_MOTHER = uuid.UUID("00000000-0000-4000-8000-0000000000e2")
MEETING = uuid.UUID("00000000-0000-4000-8000-0000000000f1")


def group() -> GroupView:
    return GroupView(
        case_id=uuid.UUID("00000000-0000-4000-8000-0000000000b1"),
        members=[
            MemberView(
                member_id=MEMBER_CARE,
                party=HOME_CARE,
                role="Kontaktperson hjemmetjenesten",
                from_date=date(2026, 1, 20),
                to_date=None,
            ),
            MemberView(
                member_id=MEMBER_MOTHER,
                party=MOTHER,
                role="Pårørende",
                from_date=date(2026, 1, 20),
                to_date=date(2026, 12, 31),
            ),
        ],
        meetings=[
            MeetingView(
                meeting_id=MEETING,
                at=datetime(2026, 9, 15, 8, 0, tzinfo=UTC),
                place="Møterom 2, rådhuset",
                agenda=["Status bolig", "Evaluering av turgruppe"],
                status="held",
                attended=[MEMBER_CARE, MEMBER_MOTHER],
                summary="Gjennomgang av planen.",
                decisions=["Søknad om bolig sendes innen oktober."],
                cancel_reason=None,
            )
        ],
        tasks=[
            TaskView(
                task_id=uuid.UUID("00000000-0000-4000-8000-0000000000f2"),
                meeting_id=MEETING,
                member_id=MEMBER_CARE,
                text="Sjekke ledige omsorgsboliger.",
                deadline=date(2026, 10, 1),
                done_at=None,
            ),
            TaskView(
                task_id=uuid.UUID("00000000-0000-4000-8000-0000000000f3"),
                meeting_id=MEETING,
                member_id=MEMBER_MOTHER,
                text="Sende kopi av husleiekontrakt.",
                deadline=date(2026, 9, 30),
                done_at=datetime(2026, 9, 20, 12, 0, tzinfo=UTC),
            ),
        ],
    )


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() for p in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


# --- FHIR ---------------------------------------------------------------------------------


def test_r14_bundle_validates_and_holds_careplan_goals_careteam_tasks() -> None:
    doc = document()
    bundle = plan_bundle(doc, group(), ORG)
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    model = {"CarePlan": CarePlan, "Goal": FhirGoal, "CareTeam": CareTeam, "Task": Task}
    for kind, cls in model.items():
        for r in resources(bundle, kind):
            cls.model_validate(r)

    (plan,) = resources(bundle, "CarePlan")
    assert plan["status"] == "active"
    assert plan["intent"] == "plan"
    assert plan["title"] == "Individuell plan"
    assert plan["period"] == {"start": "2026-01-15", "end": "2027-12-31"}
    assert "2026-06-01" in plan["note"][0]["text"]
    assert len(plan["activity"]) == len(doc.content.measures)
    assert len(resources(bundle, "Goal")) == len(doc.content.goals)
    assert len(resources(bundle, "Task")) == 2
    (team,) = resources(bundle, "CareTeam")

    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    assert urls[plan["careTeam"][0]["reference"]] is team
    refs = [g["reference"] for g in plan["goal"]]
    refs += [g["reference"] for a in plan["activity"] for g in a["detail"].get("goal", [])]
    assert refs
    assert all(urls[r]["resourceType"] == "Goal" for r in refs)
    for task in resources(bundle, "Task"):
        assert urls[task["basedOn"][0]["reference"]] is plan


def test_r7_bundle_references_the_person_by_case_only() -> None:
    doc = document()
    bundle = plan_bundle(doc, group(), ORG)
    (plan,) = resources(bundle, "CarePlan")
    assert plan["subject"] == {
        "identifier": {"system": "urn:kenett:case", "value": str(doc.case_id)},
        "display": "sak 2026-000042",
    }
    for g in resources(bundle, "Goal"):
        assert g["subject"] == plan["subject"]
    assert not re.search(r"\b\d{11}\b", str(bundle))


def test_r15_r16_goals_carry_life_area_horizon_and_last_evaluation() -> None:
    bundle = plan_bundle(document(), group(), ORG)
    by_text = {g["description"]["text"]: g for g in resources(bundle, "Goal")}
    housing = by_text["Jeg vil bo i egen leilighet innen et år."]
    assert housing["lifecycleStatus"] == "active"
    assert housing["achievementStatus"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/goal-achievement",
        "code": "in-progress",
        "display": "In Progress",
    }
    assert housing["target"] == [{"dueDate": "2027-06-01"}]
    codes = {(c["coding"][0]["system"], c["coding"][0]["code"]) for c in housing["category"]}
    assert codes == {("urn:kenett:life-area", "bolig"), ("urn:kenett:goal-horizon", "long")}
    walk = by_text["Gå tur med turgruppa hver uke."]
    assert walk["lifecycleStatus"] == "completed"
    assert walk["achievementStatus"]["coding"][0]["code"] == "achieved"


def test_r16_measures_name_responsible_in_fhir() -> None:
    doc = document()
    bundle = plan_bundle(doc, group(), ORG)
    (plan,) = resources(bundle, "CarePlan")
    details = {a["detail"]["description"]: a["detail"] for a in plan["activity"]}
    housing = details["Søknad om kommunal bolig"]
    assert housing["status"] == "in-progress"
    assert housing["scheduledPeriod"] == {"start": "2026-02-01", "end": "2026-12-31"}
    assert housing["performer"] == [
        {"reference": f"Practitioner/{COORDINATOR}", "display": "Koordinator"}
    ]
    assert housing["code"]["coding"][0] == {"system": "urn:kenett:life-area", "code": "bolig"}
    assert housing["location"] == {"display": "Servicetorget"}
    assert {"url": "urn:kenett:fhir:measure-scope", "valueString": "To timer i uka"} in housing[
        "extension"
    ]
    assert details["Turgruppe på onsdager"]["performer"] == [plan["subject"]]
    assert details["Turgruppe på onsdager"]["status"] == "completed"
    care = details["Medisinhåndtering"]
    assert care["status"] == "scheduled"
    assert care["performer"][0]["display"] == "hjemmesykepleien"
    assert care["performer"][0]["identifier"]["system"] == "urn:kenett:lund:service"
    assert details["Følge til legetimer"]["performer"] == [
        {"type": "RelatedPerson", "display": "mor"}
    ]
    assert details["Følge til legetimer"]["status"] == "stopped"


def test_r13_careteam_has_members_with_periods_and_the_coordinator() -> None:
    bundle = plan_bundle(document(), group(), ORG)
    (team,) = resources(bundle, "CareTeam")
    roles = [p["role"][0]["text"] for p in team["participant"]]
    assert roles == ["koordinator", "Kontaktperson hjemmetjenesten", "Pårørende"]
    assert team["participant"][0]["member"]["reference"] == f"Practitioner/{COORDINATOR}"
    assert team["participant"][2]["period"] == {"start": "2026-01-20", "end": "2026-12-31"}
    tasks = {t["description"]: t for t in resources(bundle, "Task")}
    open_task = tasks["Sjekke ledige omsorgsboliger."]
    assert open_task["status"] == "requested"
    assert open_task["intent"] == "order"
    assert open_task["restriction"]["period"]["end"] == "2026-10-01"
    assert open_task["owner"]["display"] == "hjemmesykepleien"
    assert tasks["Sende kopi av husleiekontrakt."]["status"] == "completed"


@pytest.mark.parametrize(
    ("status", "fhir"),
    [
        ("draft", "draft"),
        ("active", "active"),
        ("under_revision", "on-hold"),
        ("frozen", "on-hold"),
        ("closed", "completed"),
    ],
)
def test_plan_status_maps_to_careplan_status(status: str, fhir: str) -> None:
    doc = document().model_copy(update={"status": status})
    (plan,) = resources(plan_bundle(doc, None, ORG), "CarePlan")
    assert plan["status"] == fhir


def test_bundle_without_group_still_has_a_careteam_with_the_coordinator() -> None:
    bundle = plan_bundle(document(), None, ORG)
    Bundle.model_validate(bundle)
    (team,) = resources(bundle, "CareTeam")
    assert len(team["participant"]) == 1
    assert resources(bundle, "Task") == []


def test_the_same_version_exports_the_same_bundle() -> None:
    assert plan_bundle(document(), group(), ORG) == plan_bundle(document(), group(), ORG)


# --- PDF ----------------------------------------------------------------------------------


def test_r14_pdf_has_all_nine_points() -> None:
    data = plan_pdf(document(), group(), PRINTED)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    lines = [line.strip() for line in text.splitlines()]
    for heading in HEADINGS + GROUP_HEADINGS:
        assert heading in lines, heading
    positions = [lines.index(h) for h in HEADINGS + GROUP_HEADINGS]
    assert positions == sorted(positions)
    body = flat(text)
    for part in (
        "2026-000042",
        "22. november 2026",
        "aktiv",
        "Jeg vil bo i egen leilighet innen et år.",
        "Bolig",
        "Fritid",
        "Langsiktig",
        "Kortsiktig",
        "delvis oppnådd",
        "Søknad om kommunal bolig",
        "To timer i uka",
        "Servicetorget",
        "Personen selv",
        "hjemmesykepleien",
        "Frist",
        "Evalueringsdato",
        "pågår",
        "15. januar 2026",
        "individuell plan",
        "deling",
        "NAV",
        "Møterom 2, rådhuset",
        "Søknad om bolig sendes innen oktober.",
        "Sjekke ledige omsorgsboliger.",
        "Side 1 av",
        "Taushetsbelagt",
    ):
        assert part in body, part


def test_r16_pdf_names_who_is_responsible_for_each_measure() -> None:
    body = flat(pdf_text(plan_pdf(document(), None, PRINTED)))
    tiltak = body[body.index("Søknad om kommunal bolig Livsområde") : body.index("Planperiode")]
    for responsible in ("Ansvarlig: Koordinator", "Ansvarlig: Personen selv"):
        assert responsible in tiltak
    assert "Ansvarlig: hjemmesykepleien" in tiltak
    assert "Ansvarlig: mor" in tiltak


def test_pdf_without_group_leaves_out_group_sections() -> None:
    lines = [line.strip() for line in pdf_text(plan_pdf(document(), None, PRINTED)).splitlines()]
    for heading in GROUP_HEADINGS:
        assert heading not in lines


def test_pdf_numbers_every_page() -> None:
    long_content = content().model_copy(
        update={"goals": [content().goals[0].model_copy(update={"text": "Lang tekst. " * 300})]}
    )
    reader = PdfReader(io.BytesIO(plan_pdf(document(plan_content=long_content), group(), PRINTED)))
    pages = len(reader.pages)
    assert pages > 1
    for number, page in enumerate(reader.pages, start=1):
        assert f"Side {number} av {pages}" in flat(page.extract_text())


def test_r7_withheld_note_only_when_something_is_withheld() -> None:
    note = flat(WITHHELD_NOTE)
    assert note not in flat(pdf_text(plan_pdf(document(), group(), PRINTED)))
    withheld = plan_pdf(document(withheld=["measures"]), group(), PRINTED)
    assert note in flat(pdf_text(withheld))


def test_empty_sections_say_none_registered() -> None:
    doc = document(plan_content=PlanContent()).model_copy(update={"consents": []})
    empty = GroupView(case_id=doc.case_id, members=[], meetings=[], tasks=[])
    body = flat(pdf_text(plan_pdf(doc, empty, PRINTED)))
    # Goals, resources, participants, contributions, measures, period, consents, cooperation,
    # and the group's members, meetings and tasks.
    assert body.count("Ingen registrert.") == 11


@pytest.mark.parametrize("text", ["Ord " * 750, "x" * 3000])
def test_long_texts_wrap_without_raising(text: str) -> None:
    long_content = content(goal_text=text[:3000])
    measure = long_content.measures[0].model_copy(update={"how": text[:3000]})
    # Labels that are user text (a service's name, an agency) may be too long for their column.
    long_content = long_content.model_copy(
        update={
            "measures": [measure, *long_content.measures[1:]],
            "participants": [
                Participant(party=Party(kind=PartyKind.SERVICE, ref="y" * 128), role=text[:300])
            ],
            "cooperation": [Cooperation(agency=text[:300], purpose=text[:3000])],
        }
    )
    data = plan_pdf(document(plan_content=long_content), group(), PRINTED)
    assert data.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(data)).pages) >= 2


def test_norwegian_dates() -> None:
    assert norwegian_date(date(2026, 11, 22)) == "22. november 2026"
    # Late evening UTC is the next day in Norway.
    assert norwegian_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "1. januar 2027"
