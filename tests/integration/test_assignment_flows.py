"""Assignment through a real nats-server, on SQLite and PostgreSQL: suggestions, the KE's
appointment behind the consent gate, handover with overlap, release and deactivation, duties,
caseloads, kinds and the FHIR export (R9-R12, R17, R20)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from services.assignment.handlers import cases
from shared.client import RequestFailed
from shared.clock import FixedClock
from shared.contracts import assignment as a
from shared.contracts import consent, intake
from shared.plugins import select
from shared.runtime.host import ServiceHost
from tests.conftest import System
from tests.helpers import (
    STAFF,
    decide,
    national_id,
    record_consent,
    register_coordinator,
    report_need,
)

pytestmark = [pytest.mark.nats, pytest.mark.kenett_settings(auto_appoint=False)]
WAIT = 15.0


async def _register(system: System, **kw: Any) -> uuid.UUID:
    reply = await system.client.command("assignment", register_coordinator(**kw))
    return uuid.UUID(reply["coordinator_id"])


async def _case_with_consent(system: System, *, child: bool = False, **report: Any) -> uuid.UUID:
    """A reported case with coordinator consent, once assignment knows it needs a coordinator.
    A child's parents consent, both of them (R6)."""
    case = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need(**report))
    )
    given_at = system.host.clock.now() - timedelta(minutes=5)
    parents: dict[str, Any] = (
        {
            "given_by": consent.GivenBy(role=consent.GiverRole.PARENT),
            "also_given_by": consent.GivenBy(role=consent.GiverRole.PARENT),
            "parental_responsibility": "both",
            "child_heard": consent.ChildHeard.HEARD,  # R6: from 12 the child is heard
        }
        if child
        else {}
    )
    await system.client.command(
        "consent",
        record_consent(case.case_id, consent.ConsentKind.COORDINATOR, given_at=given_at, **parents),
    )
    ev = system.events
    await ev.wait_until(
        lambda: ev.matching("assignment.case_awaiting_coordinator", case.case_id, cause="new"),
        WAIT,
    )
    return case.case_id


async def _suggest(system: System, case_id: uuid.UUID, limit: int = 10) -> a.Suggestions:
    return a.Suggestions.model_validate(
        await system.client.query(
            "assignment", a.SuggestCoordinators(actor=STAFF, case_id=case_id, limit=limit)
        )
    )


async def _appoint(
    system: System, case_id: uuid.UUID, who: uuid.UUID, **kw: Any
) -> a.AppointResult:
    return a.AppointResult.model_validate(
        await system.client.command(
            "assignment",
            a.AppointCoordinator(actor=STAFF, case_id=case_id, coordinator_id=who, **kw),
        )
    )


async def _coordination(system: System, case_id: uuid.UUID) -> a.Coordination:
    return a.Coordination.model_validate(
        await system.client.query("assignment", a.GetCoordination(actor=STAFF, case_id=case_id))
    )


async def _refused(system: System, command: Any) -> Any:
    with pytest.raises(RequestFailed) as info:
        await system.client.command("assignment", command)
    return info.value.error


async def test_r9_suggestions_weigh_the_wish_and_the_ke_confirms_the_appointment(
    system: System,
) -> None:
    trained = await _register(
        system, training_completed_on=date(2025, 3, 1), languages=["nb", "ar"]
    )
    wished = await _register(system, caseload_limit=1)
    case_id = await _case_with_consent(system)
    # Nobody is appointed until the KE confirms (R9): the case is on the worklist.
    worklist = a.CasesNeeding.model_validate(
        await system.client.query("assignment", a.ListCasesNeedingCoordinator(actor=STAFF))
    )
    assert [c.case_id for c in worklist.cases] == [case_id]

    await system.client.command(
        "assignment",
        a.SetCoordinatorNeeds(
            actor=STAFF, case_id=case_id, wished_coordinator_id=wished, language="ar"
        ),
    )
    suggestions = await _suggest(system, case_id)
    top = suggestions.candidates[0]
    assert top.coordinator_id == wished and top.appointable
    assert top.reasons[0].code == "wish" and "ønsker" in top.reasons[0].text
    second = suggestions.candidates[1]
    assert second.coordinator_id == trained
    assert {r.code for r in second.reasons} >= {"language", "training", "capacity"}

    result = await _appoint(system, case_id, wished)
    assert len(result.duty_ids) == 3
    ev = system.events
    appointed = await ev.wait_until(
        lambda: ev.matching("assignment.coordinator_appointed", case_id), WAIT
    )
    assert appointed[0].payload["coordinator_id"] == str(wished)
    worklist = a.CasesNeeding.model_validate(
        await system.client.query("assignment", a.ListCasesNeedingCoordinator(actor=STAFF))
    )
    assert worklist.cases == []


async def test_r9_a_wished_coordinator_at_the_limit_is_shown_and_needs_an_override(
    system: System,
) -> None:
    wished = await _register(system, caseload_limit=1)
    await _register(system)
    first = await _case_with_consent(system)
    await _appoint(system, first, wished)
    second = await _case_with_consent(system)
    await system.client.command(
        "assignment",
        a.SetCoordinatorNeeds(actor=STAFF, case_id=second, wished_coordinator_id=wished),
    )
    shown = [c for c in (await _suggest(system, second)).candidates if c.coordinator_id == wished]
    assert shown and shown[0].needs_override and not shown[0].appointable
    assert any(r.code == "full" and "1 av 1" in r.text for r in shown[0].reasons)

    error = await _refused(
        system, a.AppointCoordinator(actor=STAFF, case_id=second, coordinator_id=wished)
    )
    assert error.code == "rule_violation" and "R10" in error.fields[0].reason
    before = await _coordination(system, second)
    assert before.episodes == []  # nothing changed

    await _appoint(
        system, second, wished, override_limit=True, override_reason="Personens klare ønske"
    )
    ev = system.events
    over = await ev.wait_until(lambda: ev.matching("assignment.coordinator_over_limit"), WAIT)
    assert over[0].payload["caseload"] == 2 and over[0].payload["caseload_limit"] == 1
    overview = a.Caseload.model_validate(
        await system.client.query("assignment", a.CaseloadOverview(actor=STAFF))
    )
    marked = [c for c in overview.coordinators if c.over_limit]
    assert [c.coordinator_id for c in marked] == [wished]
    assert overview.units[0].over_limit == 1


async def test_r5_r9_an_appointment_needs_coordinator_consent_from_the_gate(system: System) -> None:
    who = await _register(system)
    case = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    error = await _refused(
        system, a.AppointCoordinator(actor=STAFF, case_id=case.case_id, coordinator_id=who)
    )
    assert error.code == "forbidden"


async def test_r10_appointing_an_inactive_coordinator_is_refused_and_changes_nothing(
    system: System,
) -> None:
    who = await _register(system)
    await system.client.command(
        "assignment", a.DeactivateCoordinator(actor=STAFF, coordinator_id=who, reason="slutter")
    )
    case_id = await _case_with_consent(system)
    error = await _refused(
        system, a.AppointCoordinator(actor=STAFF, case_id=case_id, coordinator_id=who)
    )
    assert error.code == "rule_violation" and "not active" in error.fields[0].reason
    assert (await _coordination(system, case_id)).needs_coordinator == "new"


async def test_r11_handover_with_overlap_lists_both_then_only_the_new(
    system: System, clock: FixedClock
) -> None:
    old = await _register(system, staff_id="gammel")
    new = await _register(system, staff_id="ny")
    case_id = await _case_with_consent(system)
    await _appoint(system, case_id, old)
    start = clock.now() + timedelta(days=1)
    end = start + timedelta(days=14)

    # Bad input first: an overlap that ends before it starts changes nothing.
    error = await _refused(
        system,
        a.PlanHandover(
            actor=STAFF,
            case_id=case_id,
            to_coordinator_id=new,
            overlap_start=start,
            overlap_end=start - timedelta(hours=1),
        ),
    )
    assert error.fields[0].field == "overlap_end"
    assert len((await _coordination(system, case_id)).episodes[0].appointments) == 1

    # A handover planned and cancelled before it starts leaves the old coordinator alone.
    withdrawn = a.HandoverResult.model_validate(
        await system.client.command(
            "assignment",
            a.PlanHandover(
                actor=STAFF,
                case_id=case_id,
                to_coordinator_id=new,
                overlap_start=start,
                overlap_end=end,
            ),
        )
    )
    await system.client.command(
        "assignment", a.CancelHandover(actor=STAFF, handover_id=withdrawn.handover_id)
    )
    view = await _coordination(system, case_id)
    assert [p.coordinator_id for p in view.episodes[0].appointments] == [old]
    assert view.episodes[0].appointments[0].end is None
    assert view.episodes[0].handovers[0].status == "cancelled"

    planned = a.HandoverResult.model_validate(
        await system.client.command(
            "assignment",
            a.PlanHandover(
                actor=STAFF,
                case_id=case_id,
                to_coordinator_id=new,
                overlap_start=start,
                overlap_end=end,
                reason="Permisjon",
            ),
        )
    )
    assert planned.status == "planned"
    view = await _coordination(system, case_id)
    assert [c.coordinator_id for c in view.current] == [old]

    clock.set(start + timedelta(hours=1))
    await system.client.command("assignment", a.SweepAssignment(actor=STAFF))
    view = await _coordination(system, case_id)
    roles = {c.coordinator_id: c.role for c in view.current}
    assert roles == {new: "primary", old: "handing_over"}  # both listed during the overlap
    assert view.primary_coordinator_id == new
    ev = system.events
    await ev.wait_until(
        lambda: ev.matching("assignment.coordinator_appointed", case_id, coordinator_id=str(new)),
        WAIT,
    )

    clock.set(end + timedelta(minutes=1))
    await system.client.command("assignment", a.SweepAssignment(actor=STAFF))
    view = await _coordination(system, case_id)
    assert [c.coordinator_id for c in view.current] == [new]
    await ev.wait_until(lambda: ev.matching("assignment.handover_completed", case_id), WAIT)

    bundle = a.FhirBundle.model_validate(
        await system.client.query("assignment", a.ExportCareTeam(actor=STAFF, case_id=case_id))
    ).bundle
    team = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CareTeam"
    )
    episode = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "EpisodeOfCare"
    )
    periods = {p["member"]["reference"]: [] for p in team["participant"]}
    for p in team["participant"]:
        periods[p["member"]["reference"]].append(p["period"])
    # The overlap shows: the old coordinator's periods reach past the new one's start.
    old_end = max(datetime.fromisoformat(p["end"]) for p in periods[f"Practitioner/{old}"])
    new_start = datetime.fromisoformat(periods[f"Practitioner/{new}"][0]["start"])
    assert old_end > new_start
    assert episode["careManager"]["reference"] == f"Practitioner/{new}"
    assert national_id() not in str(bundle)


async def test_r11_a_coordinator_who_leaves_flags_every_case_at_once_and_the_ke_is_told(
    system: System,
) -> None:
    leaving = await _register(system)
    successor = await _register(system)
    cases = [await _case_with_consent(system) for _ in range(2)]
    for case_id in cases:
        await _appoint(system, case_id, leaving)
    result = a.DeactivateResult.model_validate(
        await system.client.command(
            "assignment",
            a.DeactivateCoordinator(actor=STAFF, coordinator_id=leaving, reason="slutter"),
        )
    )
    assert sorted(result.flagged_case_ids) == sorted(cases)
    ev = system.events
    for case_id in cases:
        await ev.wait_until(
            lambda case_id=case_id: ev.matching(
                "assignment.case_awaiting_coordinator", case_id, cause="coordinator_deactivated"
            ),
            WAIT,
        )
        # The KE's inbox hears of it (notifications).
        await ev.wait_until(
            lambda case_id=case_id: ev.matching(
                "notifications.notification_created", case_id, kind="case_needs_coordinator"
            ),
            WAIT,
        )
        view = await _coordination(system, case_id)
        assert view.primary_coordinator_id == leaving  # never without a coordinator (R11)
        assert view.needs_coordinator == "coordinator_deactivated"
    # The one who left may hand over at once, without overlap.
    await system.client.command(
        "assignment",
        a.PlanHandover(
            actor=STAFF,
            case_id=cases[0],
            to_coordinator_id=successor,
            overlap_end=system.host.clock.now() + timedelta(seconds=1),
        ),
    )
    view = await _coordination(system, cases[0])
    assert view.primary_coordinator_id == successor and view.needs_coordinator is None


async def test_r11_release_keeps_the_coordinator_responsible_until_a_successor(
    system: System,
) -> None:
    who = await _register(system)
    case_id = await _case_with_consent(system)
    await _appoint(system, case_id, who)
    flagged = a.CaseFlagResult.model_validate(
        await system.client.command(
            "assignment",
            a.ReleaseCoordinator(
                actor=STAFF, case_id=case_id, reason=a.ReleaseReason.PERSON_REQUEST
            ),
        )
    )
    assert flagged.responsible_coordinator_id == who
    view = await _coordination(system, case_id)
    assert view.needs_coordinator == "released" and view.primary_coordinator_id == who


async def test_r12_duties_on_appointment_and_an_overdue_one_produces_an_event(
    system: System, clock: FixedClock
) -> None:
    who = await _register(system)
    case_id = await _case_with_consent(system)
    result = await _appoint(system, case_id, who)
    duties = a.DutyList.model_validate(
        await system.client.query("assignment", a.ListDuties(actor=STAFF, coordinator_id=who))
    ).duties
    assert {d.kind for d in duties} == {"map_children", "inform_rights", "first_meeting"}
    inform = next(d for d in duties if d.kind == "inform_rights")
    await system.client.command("assignment", a.CompleteDuty(actor=STAFF, duty_id=inform.duty_id))

    clock.advance(timedelta(days=31))
    swept = a.SweepResult.model_validate(
        await system.client.command("assignment", a.SweepAssignment(actor=STAFF))
    )
    assert sorted(swept.duties_overdue) == sorted(d for d in result.duty_ids if d != inform.duty_id)
    ev = system.events
    overdue = await ev.wait_until(
        lambda: ev.matching("assignment.duty_overdue", case_id, kind="map_children"), WAIT
    )
    assert overdue[0].payload["coordinator_id"] == str(who)
    again = a.SweepResult.model_validate(
        await system.client.command("assignment", a.SweepAssignment(actor=STAFF))
    )
    assert again.duties_overdue == []  # told once


@pytest.mark.kenett_settings(auto_appoint=False, org_kind="hospital")
async def test_r17_a_hospital_coordinator_must_be_health_personnel(system: System) -> None:
    nurse = await _register(system, health_personnel=True, profession="sykepleier")
    secretary = await _register(system, health_personnel=False, profession="sekretær")
    case_id = await _case_with_consent(system)
    suggestions = await _suggest(system, case_id)
    assert suggestions.kind == "hospital"
    assert [c.coordinator_id for c in suggestions.candidates] == [nurse]
    error = await _refused(
        system, a.AppointCoordinator(actor=STAFF, case_id=case_id, coordinator_id=secretary)
    )
    assert error.code == "rule_violation" and "R17" in error.fields[0].reason
    assert (await _coordination(system, case_id)).episodes == []
    await _appoint(system, case_id, nurse)
    # While she coordinates as hospital coordinator, the registry cannot say she is not
    # health personnel; the secretary's entry may change freely.
    error = await _refused(
        system, a.UpdateCoordinator(actor=STAFF, coordinator_id=nurse, health_personnel=False)
    )
    assert error.code == "conflict" and error.fields[0].field == "health_personnel"
    assert "R17" in error.fields[0].reason
    await system.client.command(
        "assignment",
        a.UpdateCoordinator(actor=STAFF, coordinator_id=secretary, health_personnel=False),
    )


async def test_r20_a_barnekoordinator_uses_the_same_machinery_for_a_child(system: System) -> None:
    who = await _register(system)
    child = await _case_with_consent(system, child=True, national_id=national_id(date(2016, 5, 4)))
    adult = await _case_with_consent(system, national_id=national_id(date(1980, 5, 4)))
    ev = system.events
    for case_id in (child, adult):
        await ev.wait_until(
            lambda case_id=case_id: ev.matching("intake.case_opened", case_id), WAIT
        )
    error = await _refused(
        system,
        a.SetCoordinatorNeeds(actor=STAFF, case_id=adult, kind=a.CoordinatorKind.CHILD),
    )
    assert "R20" in error.fields[0].reason
    await system.client.command(
        "assignment",
        a.SetCoordinatorNeeds(actor=STAFF, case_id=child, kind=a.CoordinatorKind.CHILD),
    )
    assert (await _suggest(system, child)).kind == "child"
    await _appoint(system, child, who)
    view = await _coordination(system, child)
    assert view.episodes[0].kind == "child" and len(view.duties) == 3
    bundle = a.FhirBundle.model_validate(
        await system.client.query("assignment", a.ExportCareTeam(actor=STAFF, case_id=child))
    ).bundle
    assert "Barnekoordinator" in str(bundle)


async def test_continuity_a_previous_coordinator_of_the_person_is_suggested_with_that_reason(
    system: System,
) -> None:
    earlier = await _register(system)
    await _register(system, training_completed_on=date(2025, 1, 1))
    nid = national_id()
    first = await _case_with_consent(system, national_id=nid)
    await _appoint(system, first, earlier)
    await system.client.command(
        "intake", intake.CloseCase(actor=STAFF, case_id=first, reason="no_longer_needed")
    )
    ev = system.events
    await ev.wait_until(lambda: ev.matching("assignment.coordination_stopped", first), WAIT)
    second = await _case_with_consent(system, national_id=nid)
    top = (await _suggest(system, second)).candidates[0]
    assert top.coordinator_id == earlier
    assert any(r.code == "continuity" for r in top.reasons)


async def test_r18_the_registry_comes_a_page_at_a_time_and_can_be_asked_for_by_id(
    system: System,
) -> None:
    """A KE's registry can hold thousands of coordinators, more than one NATS reply carries:
    the list is paged in the order of registration, filtered by unit or by id."""
    units = ["Helse og omsorg", "Kultur og oppvekst", "Helse og omsorg", "Helse og omsorg", "NAV"]
    ids = [await _register(system, unit=unit) for unit in units]
    await system.client.command(
        "assignment", a.DeactivateCoordinator(actor=STAFF, coordinator_id=ids[3], reason="Sluttet")
    )

    async def page(**kw: Any) -> a.CoordinatorList:
        return a.CoordinatorList.model_validate(
            await system.client.query("assignment", a.ListCoordinators(actor=STAFF, **kw))
        )

    seen: list[uuid.UUID] = []
    offset: int | None = 0
    while offset is not None:
        got = await page(limit=2, offset=offset)
        assert got.total == 5 and len(got.coordinators) <= 2
        seen += [c.coordinator_id for c in got.coordinators]
        offset = got.next_offset
    assert seen == ids

    everyone = await page()
    assert [c.coordinator_id for c in everyone.coordinators] == ids
    assert everyone.next_offset is None

    helse = await page(unit="Helse og omsorg", include_inactive=False)
    assert [c.coordinator_id for c in helse.coordinators] == [ids[0], ids[2]]
    assert helse.total == 2

    asked = await page(coordinator_ids=[ids[4], ids[1]])
    assert [c.coordinator_id for c in asked.coordinators] == [ids[1], ids[4]]
    assert (await page(offset=5)).coordinators == []

    with pytest.raises(RequestFailed) as refused:
        await system.client.query(
            "assignment", a.ListCoordinators.model_construct(actor=STAFF, limit=501)
        )
    assert refused.value.error.fields[0].field == "limit"


async def test_r18_the_worklist_comes_a_page_at_a_time_oldest_first(system: System) -> None:
    """The KE's worklist of cases waiting for a coordinator is paged: at a large KE it can hold
    thousands, more than one reply carries."""
    waiting = [await _case_with_consent(system) for _ in range(3)]

    async def page(**kw: Any) -> a.CasesNeeding:
        return a.CasesNeeding.model_validate(
            await system.client.query(
                "assignment", a.ListCasesNeedingCoordinator(actor=STAFF, **kw)
            )
        )

    first = await page(limit=2)
    assert (len(first.cases), first.total, first.next_offset) == (2, 3, 2)
    rest = await page(limit=2, offset=2)
    assert (len(rest.cases), rest.total, rest.next_offset) == (1, 3, None)
    assert [c.case_id for c in first.cases + rest.cases] == waiting
    assert [c.case_id for c in (await page()).cases] == waiting


async def _decide_coordinator(system: System, case_id: uuid.UUID, granted: bool) -> None:
    await decide(system, case_id, "coordinator", granted, by="assignment")


@pytest.mark.kenett_settings(auto_appoint=True)
async def test_r4_a_decision_against_a_coordinator_holds_until_one_grants_it(
    system: System,
) -> None:
    """The KE decided the person is not to have a coordinator (R4): consent alone appoints
    nobody, the case is not on the worklist, and a manual appointment is refused with the
    reason. A later decision that grants one appoints as usual; one that refuses again ends
    the coordination."""
    await _register(system)
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    case_id = report.case_id
    await _decide_coordinator(system, case_id, granted=False)
    await system.client.command("consent", record_consent(case_id, consent.ConsentKind.COORDINATOR))
    ev = system.events
    recorded = await ev.wait_until(lambda: ev.matching("consent.consent_recorded", case_id), WAIT)
    await system.settled("assignment", recorded[0])
    assert (await _coordination(system, case_id)).episodes == []
    worklist = a.CasesNeeding.model_validate(
        await system.client.query("assignment", a.ListCasesNeedingCoordinator(actor=STAFF))
    )
    assert case_id not in [c.case_id for c in worklist.cases]
    who = await _register(system)
    error = await _refused(
        system, a.AppointCoordinator(actor=STAFF, case_id=case_id, coordinator_id=who)
    )
    assert error.code == "rule_violation" and error.fields[0].field == "case_id"
    assert "R4" in error.fields[0].reason

    await _decide_coordinator(system, case_id, granted=True)
    await ev.wait_until(lambda: ev.matching("assignment.coordinator_appointed", case_id), WAIT)
    assert (await _coordination(system, case_id)).primary_coordinator_id is not None

    await _decide_coordinator(system, case_id, granted=False)
    stopped = await ev.wait_until(
        lambda: ev.matching("assignment.coordination_stopped", case_id), WAIT
    )
    assert stopped[0].payload["cause"] == "coordinator refused (R4)"
    assert (await _coordination(system, case_id)).primary_coordinator_id is None


async def test_r12_mapping_children_is_done_with_what_it_found(system: System) -> None:
    """R12: the coordinator maps whether the person has children under 18 as next of kin and
    siblings who need follow-up; the duty is done with those facts (never names), and where
    there is someone to think of, whether their follow-up is arranged."""
    who = await _register(system)
    case_id = await _case_with_consent(system)
    await _appoint(system, case_id, who)
    duties = a.DutyList.model_validate(
        await system.client.query("assignment", a.ListDuties(actor=STAFF, case_id=case_id))
    ).duties
    mapping = next(d for d in duties if d.kind == "map_children")
    inform = next(d for d in duties if d.kind == "inform_rights")

    error = await _refused(system, a.CompleteDuty(actor=STAFF, duty_id=mapping.duty_id))
    assert (error.code, error.fields[0].field) == ("validation_failed", "children")
    found = a.ChildrenMapping(
        minor_children=True, siblings_need_follow_up=False, follow_up_arranged=False
    )
    error = await _refused(
        system, a.CompleteDuty(actor=STAFF, duty_id=inform.duty_id, children=found)
    )
    assert (error.code, error.fields[0].field) == ("validation_failed", "children")
    with pytest.raises(ValueError, match="R12"):
        a.ChildrenMapping(minor_children=True, siblings_need_follow_up=False)

    done = a.DutyList.model_validate(
        await system.client.command(
            "assignment", a.CompleteDuty(actor=STAFF, duty_id=mapping.duty_id, children=found)
        )
    ).duties
    assert done[0].children == found and done[0].done_at is not None
    listed = a.DutyList.model_validate(
        await system.client.query(
            "assignment", a.ListDuties(actor=STAFF, case_id=case_id, open_only=False)
        )
    ).duties
    assert next(d for d in listed if d.kind == "map_children").children == found
    assert next(d for d in listed if d.kind == "inform_rights").children is None


async def test_an_appointment_is_one_record_in_the_cases_access_log(system: System) -> None:
    """The KE's appointment is audited once (the command), not once more by the appointing."""
    who = await _register(system)
    case_id = await _case_with_consent(system)
    await _appoint(system, case_id, who)
    log = await system.client.access_log(STAFF, case_id, services=("assignment",))
    appointed = [(e.action, e.actor_id) for e in log.entries if e.action == "assignment.appoint"]
    assert appointed == [("assignment.appoint", STAFF.id)]


@pytest.mark.kenett_settings(auto_appoint=True)
async def test_r5_r7_a_consent_withdrawn_after_the_gate_answered_starts_no_coordination(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Assignment scaled out to two instances. One hears of a new coordinator consent and asks
    the gate ("in force"); before it commits, the consent is withdrawn and the other instance
    handles the end. The first must not then start coordination on a consent that has ended
    (R5, R7): the end is kept, and looked up under the organisation's lock."""
    await _register(system)
    second = ServiceHost(
        system.settings,
        select(["assignment"]),
        on_handled=lambda service, _consumer, env: system.handled[service].record(env),
    )
    await second.start()
    held, release = asyncio.Event(), asyncio.Event()
    real = cases.coordinator_consent
    calls = 0

    async def first_answer_held(ctx: Any, case_id: uuid.UUID) -> consent.GateDecision:
        nonlocal calls
        calls += 1
        answer = await real(ctx, case_id)
        if calls == 1:  # the new consent's: answered, then held until the end is handled
            held.set()
            await release.wait()
        return answer

    monkeypatch.setattr(cases, "coordinator_consent", first_answer_held)
    try:
        case = intake.ReportNeedResult.model_validate(
            await system.client.command("intake", report_need())
        )
        recorded = await system.client.command(
            "consent", record_consent(case.case_id, consent.ConsentKind.COORDINATOR)
        )
        await asyncio.wait_for(held.wait(), WAIT)
        await system.client.command(
            "consent",
            consent.WithdrawConsent(
                actor=STAFF,
                consent_id=uuid.UUID(recorded["consent_id"]),
                form="oral",
                recorded_by=STAFF.id,
            ),
        )
        ev = system.events
        (ended,) = await ev.wait_until(
            lambda: ev.matching("consent.consent_ended", case.case_id), WAIT
        )
        await system.settled("assignment", ended)  # by the instance not holding its answer
        release.set()
        (started,) = ev.matching("consent.consent_recorded", case.case_id)
        await system.settled("assignment", started)
        assert calls == 2  # the held answer was "in force"; the end's was not
        coordination = await _coordination(system, case.case_id)
        assert (coordination.primary_coordinator_id, coordination.current) == (None, [])
        assert coordination.needs_coordinator is None
        assert not ev.matching("assignment.coordinator_appointed", case.case_id)
    finally:
        release.set()
        await second.stop()
