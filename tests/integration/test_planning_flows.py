"""Planning end to end on a real nats-server, SQLite and PostgreSQL: the plan's content and
versions (R14-R16), consent in the data layer (R5-R7), the coordination tool and the
responsibility group (R13), evaluations on the clock, the plan's life and retention."""

from __future__ import annotations

import base64
import io
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from shared.client import RequestFailed
from shared.clock import FixedClock, local_today
from shared.contracts import assignment as a
from shared.contracts import consent as c
from shared.contracts import intake
from shared.contracts import planning as p
from shared.contracts.assignment import CoordinatorAppointed
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.notifications import Inbox, ListInbox
from shared.contracts.replies import Reply
from shared.contracts.subjects import command_subject
from tests.conftest import System
from tests.helpers import STAFF, decide, oslo_today, register_coordinator, report_need
from tests.integration.test_consent_flows import case_with_plan, consent, gate

pytestmark = pytest.mark.nats
WAIT = 15.0
HEALTH, DAYTIME, HOUSING = c.LifeArea.HEALTH_CARE, c.LifeArea.DAYTIME, c.LifeArea.HOUSING
NURSING = c.GateActor(kind="provider", id="hjemmesykepleien")
HOME_NURSING = p.Party(kind=p.PartyKind.SERVICE, ref="hjemmesykepleien")


def full_content(today: date) -> p.PlanContent:
    """All nine points of R14, synthetic."""
    return p.PlanContent(
        goals=[
            p.Goal(
                text="Jeg vil klare meg selv hjemme",
                horizon=p.Horizon.LONG,
                life_area=HEALTH,
                evaluation_date=today + timedelta(days=30),
            ),
            p.Goal(
                text="Jeg vil begynne på skolen igjen etter jul",
                horizon=p.Horizon.SHORT,
                life_area=DAYTIME,
                deadline=today + timedelta(days=60),
            ),
        ],
        resources_needs=[
            p.ResourceNeed(kind="resource", life_area=HEALTH, text="God støtte fra familien"),
            p.ResourceNeed(kind="need", life_area=HOUSING, text="Trenger tilrettelagt bolig"),
        ],
        participants=[
            p.Participant(party=HOME_NURSING, role="helsetjeneste"),
            p.Participant(party=p.Party(kind=p.PartyKind.NEXT_OF_KIN, ref="mor"), role="pårørende"),
        ],
        contributions=[
            p.Contribution(party=p.Party(kind=p.PartyKind.PERSON), text="Trener hver dag"),
            p.Contribution(party=HOME_NURSING, text="Besøk morgen og kveld"),
        ],
        measures=[
            p.Measure(
                title="Hjemmesykepleie",
                life_area=HEALTH,
                scope="To besøk daglig",
                how="Hjelp med medisiner",
                where="Hjemme",
                responsible=HOME_NURSING,
                start=today,
                deadline=today + timedelta(days=90),
                evaluation_date=today + timedelta(days=14),
            ),
            p.Measure(
                title="Skoleplass med støtte",
                life_area=DAYTIME,
                responsible=p.Party(kind=p.PartyKind.SERVICE, ref="skolen"),
                start=today,
            ),
        ],
        period=p.PlanPeriod(
            start=today, end=today + timedelta(days=365), revision_dates=[today + timedelta(180)]
        ),
        cooperation=[p.Cooperation(agency="NAV", purpose="Arbeidsavklaring senere")],
    )


async def coordinator_of(system: System, case_id: uuid.UUID) -> c.GateActor:
    head = p.PlanView.model_validate(
        await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=case_id))
    )
    return c.GateActor(kind="coordinator", id=str(head.coordinator_id))


async def withdraw_ip(system: System, case_id: uuid.UUID) -> None:
    """The person withdraws the IP consent (R7); returns once planning has frozen the plan."""
    ip = (await gate(system, case_id, action="create_plan")).consent_id
    assert ip is not None
    await system.client.command(
        "consent", c.WithdrawConsent(actor=STAFF, consent_id=ip, form="oral", recorded_by=STAFF.id)
    )
    ev = system.events
    await ev.wait_until(lambda: ev.matching("planning.plan_frozen", case_id), WAIT)


async def write(system: System, command: Any) -> p.PlanWritten:
    return p.PlanWritten.model_validate(await system.client.command("planning", command))


async def refused(system: System, command: Any) -> Any:
    with pytest.raises(RequestFailed) as info:
        await system.client.command("planning", command)
    return info.value.error


async def read(system: System, case_id: uuid.UUID, who: c.GateActor, **kw: Any) -> p.PlanDocument:
    access = p.PlanAccess.model_validate(
        await system.client.query(
            "planning", p.ViewPlan(actor=STAFF, case_id=case_id, who=who, **kw)
        )
    )
    assert access.document is not None
    return access.document


async def saved_plan(
    system: System, today: date, clock: FixedClock | None = None
) -> tuple[uuid.UUID, c.GateActor, p.PlanWritten]:
    case_id = await case_with_plan(system, clock)
    by = await coordinator_of(system, case_id)
    written = await write(
        system,
        p.SavePlan(
            actor=STAFF, case_id=case_id, expected_version=1, by=by, content=full_content(today)
        ),
    )
    return case_id, by, written


async def test_r14_r15_r16_the_plan_holds_all_nine_points_in_versions_that_stay_readable(
    system: System,
) -> None:
    today = oslo_today()
    case_id, by, written = await saved_plan(system, today)
    assert written.version == 2
    assert written.assigned_ids["goals[0]"] == "G1" and written.assigned_ids["measures[1]"] == "M10"
    doc = await read(system, case_id, by)
    assert doc.version == 2 and doc.saved_by == STAFF.id
    assert str(doc.coordinator_id) == by.id  # R14 point 3
    assert {r.kind for r in doc.consents} == {"coordinator", "ip"}  # R14 point 8
    assert doc.content.goals[0].text == "Jeg vil klare meg selv hjemme"
    assert doc.content.measures[0].responsible == HOME_NURSING  # R16

    # Version 3: a goal reworded, a need removed, a measure added.
    content = doc.content
    changed = content.model_copy(
        update={
            "goals": [
                content.goals[0].model_copy(update={"text": "Jeg vil bo hjemme"}),
                content.goals[1],
            ],
            "resources_needs": content.resources_needs[:1],
            "measures": [
                *content.measures,
                p.Measure(
                    title="Støttekontakt",
                    life_area=c.LifeArea.NETWORK,
                    responsible=p.Party(kind=p.PartyKind.PERSON),
                    goal_ids=["G1"],
                ),
            ],
        }
    )
    third = await write(
        system,
        p.SavePlan(
            actor=STAFF,
            case_id=case_id,
            expected_version=2,
            by=by,
            content=changed,
            note="Etter møte",
        ),
    )
    assert third.version == 3 and third.assigned_ids == {"measures[2]": "M12"}
    versions = p.PlanVersions.model_validate(
        await system.client.query(
            "planning", p.ListPlanVersions(actor=STAFF, case_id=case_id, who=by)
        )
    )
    assert [(v.version, v.change) for v in versions.versions] == [
        (1, "created"),
        (2, "saved"),
        (3, "saved"),
    ]
    assert versions.versions[2].note == "Etter møte" and not versions.notes_withheld
    # Earlier versions stay readable (R16).
    old = await read(system, case_id, by, version=2)
    assert old.content.goals[0].text == "Jeg vil klare meg selv hjemme"
    assert len(old.content.resources_needs) == 2
    diff = p.PlanDiff.model_validate(
        await system.client.query(
            "planning",
            p.ComparePlanVersions(
                actor=STAFF, case_id=case_id, who=by, from_version=2, to_version=3
            ),
        )
    )
    assert [(e.section, e.item_id) for e in diff.added] == [("measures", "M12")]
    assert [(e.section, e.item_id, e.fields) for e in diff.changed] == [("goals", "G1", ["text"])]
    assert [(e.section, e.item_id) for e in diff.removed] == [("resources_needs", "R4")]


async def test_r9_r16_bad_edits_are_refused_with_the_field_named_and_nothing_is_lost(
    system: System,
) -> None:
    today = oslo_today()
    case_id, by, _ = await saved_plan(system, today)
    before = await read(system, case_id, by)
    base = before.content
    no_owner = base.model_copy(
        update={"measures": [*base.measures, p.Measure(title="Uten ansvar", life_area=HEALTH)]}
    )
    error = await refused(
        system,
        p.SavePlan(actor=STAFF, case_id=case_id, expected_version=2, by=by, content=no_owner),
    )
    assert error.code == "rule_violation"
    assert error.fields[0].field == "measures[2].responsible" and "(R16)" in error.fields[0].reason

    early = base.model_copy(
        update={
            "measures": [
                base.measures[0].model_copy(update={"evaluation_date": today - timedelta(days=1)}),
                base.measures[1],
            ]
        }
    )
    error = await refused(
        system, p.SavePlan(actor=STAFF, case_id=case_id, expected_version=2, by=by, content=early)
    )
    assert error.fields[0].field == "measures[0].evaluation_date"
    assert "before the measure starts" in error.fields[0].reason

    # An unknown life area (R15) fails validation, naming the field.
    raw = base.model_dump(mode="json")
    raw["goals"][0]["life_area"] = "hobby"
    body = {
        "actor": STAFF.model_dump(),
        "case_id": str(case_id),
        "expected_version": 2,
        "by": by.model_dump(),
        "content": raw,
    }
    msg = await system.nc.request(
        command_subject("testorg", "planning", "save"), json.dumps(body).encode(), timeout=WAIT
    )
    reply = Reply.model_validate_json(msg.data)
    assert not reply.ok and reply.error is not None
    info_error = reply.error
    assert info_error.code == "validation_failed"
    assert info_error.fields[0].field == "content.goals.0.life_area"
    assert "forebygging_helse_omsorg" in info_error.fields[0].reason
    assert "hobby" not in info_error.model_dump_json()

    # A concurrent edit: two editors open version 2; the second save is refused, not merged.
    first = base.model_copy(update={"cooperation": []})
    await write(
        system, p.SavePlan(actor=STAFF, case_id=case_id, expected_version=2, by=by, content=first)
    )
    error = await refused(
        system, p.SavePlan(actor=STAFF, case_id=case_id, expected_version=2, by=by, content=base)
    )
    assert error.code == "conflict"
    assert "version 3" in error.fields[0].reason

    # Someone other than the coordinator; an invented id.
    other = c.GateActor(kind="coordinator", id=str(uuid.uuid4()))
    error = await refused(
        system, p.SavePlan(actor=STAFF, case_id=case_id, expected_version=3, by=other, content=base)
    )
    assert error.code == "forbidden"
    invented = base.model_copy(
        update={"goals": [*base.goals, base.goals[0].model_copy(update={"id": "G99"})]}
    )
    error = await refused(
        system,
        p.SavePlan(actor=STAFF, case_id=case_id, expected_version=3, by=by, content=invented),
    )
    assert error.fields[0].field == "goals[2].id"

    after = await read(system, case_id, by)
    assert after.version == 3 and after.content == first
    assert (await read(system, case_id, by, version=2)).content == base


async def test_r7_r8_a_provider_sees_only_the_parts_their_sharing_consent_covers(
    system: System,
) -> None:
    today = oslo_today()
    case_id, _, _ = await saved_plan(system, today)
    await consent(
        system,
        case_id,
        c.ConsentKind.SHARING,
        sharing=c.SharingScope(
            recipients=["hjemmesykepleien"],
            life_areas=[HEALTH],
            content_kinds=[c.ContentKind.MEASURES, c.ContentKind.GOALS],
        ),
    )
    doc = await read(system, case_id, NURSING)
    assert [m.title for m in doc.content.measures] == ["Hjemmesykepleie"]
    assert [g.life_area for g in doc.content.goals] == [HEALTH]
    assert doc.content.resources_needs == [] and doc.content.participants == []
    assert doc.content.cooperation == [] and doc.content.contributions == []
    assert set(doc.withheld) == {
        "goals",
        "measures",
        "resources_needs",
        "participants",
        "contributions",
        "cooperation",
    }
    # Earlier versions and comparisons are cut the same way.
    diff = p.PlanDiff.model_validate(
        await system.client.query(
            "planning",
            p.ComparePlanVersions(
                actor=STAFF, case_id=case_id, who=NURSING, from_version=1, to_version=2
            ),
        )
    )
    assert {(e.section, e.item_id) for e in diff.added} == {
        ("goals", "G1"),
        ("measures", "M9"),
        ("period", None),  # the plan period is part of the head every reader sees
    }
    # The group and the FHIR export too; and a provider cannot write.
    await system.client.command(
        "planning", p.AddMember(actor=STAFF, case_id=case_id, party=HOME_NURSING, role="sykepleier")
    )
    group = p.GroupView.model_validate(
        await system.client.query("planning", p.GetGroup(actor=STAFF, case_id=case_id, who=NURSING))
    )
    assert group.members == [] and set(group.withheld) == {"members", "meetings", "tasks"}
    bundle = p.FhirBundle.model_validate(
        await system.client.query(
            "planning", p.ExportPlanFhir(actor=STAFF, case_id=case_id, who=NURSING)
        )
    ).bundle
    goals = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Goal"]
    assert len(goals) == 1
    careplan = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan")
    assert len(careplan["resource"]["activity"]) == 1
    error = await refused(
        system,
        p.SavePlan(
            actor=STAFF, case_id=case_id, expected_version=2, by=NURSING, content=p.PlanContent()
        ),
    )
    assert error.code == "forbidden"
    # Next of kin take part through the coordinator, not by editing (R8).
    relative = c.GateActor(kind="next_of_kin", id="mor")
    error = await refused(
        system,
        p.SavePlan(
            actor=STAFF, case_id=case_id, expected_version=2, by=relative, content=p.PlanContent()
        ),
    )
    assert error.code == "forbidden" and "(R8, R9)" in error.fields[0].reason
    # Reading "as coordinator" is for the case's coordinator only.
    with pytest.raises(RequestFailed) as info:
        await read(system, case_id, c.GateActor(kind="coordinator", id=str(uuid.uuid4())))
    assert info.value.error.code == "forbidden"
    # Someone no consent names sees nothing at all.
    with pytest.raises(RequestFailed) as info:
        await read(system, case_id, c.GateActor(kind="provider", id="skolen"))
    assert info.value.error.code == "forbidden"


async def test_r7_free_text_on_the_head_and_versions_only_for_a_reader_of_the_whole_plan(
    system: System,
) -> None:
    """A save's note and a revision's reason are free text a staff member wrote, and may carry
    health details: the head (GetPlan) and the version list give them only to a reader the
    consent gate lets see the whole plan; anyone else learns only that they are there."""
    today = oslo_today()
    case_id, by, _ = await saved_plan(system, today)
    await write(
        system,
        p.ChangePlanStatus(actor=STAFF, case_id=case_id, expected_version=2, by=by, to="active"),
    )
    await write(
        system,
        p.ChangePlanStatus(
            actor=STAFF,
            case_id=case_id,
            expected_version=3,
            by=by,
            to="under_revision",
            reason="Innlagt etter fall",
        ),
    )
    await consent(
        system,
        case_id,
        c.ConsentKind.SHARING,
        sharing=c.SharingScope(
            recipients=["hjemmesykepleien"],
            life_areas=[HEALTH],
            content_kinds=[c.ContentKind.MEASURES],
        ),
    )

    async def head(who: c.GateActor | None) -> p.PlanView:
        return p.PlanView.model_validate(
            await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=case_id, who=who))
        )

    async def versions(who: c.GateActor | None) -> p.PlanVersions:
        return p.PlanVersions.model_validate(
            await system.client.query(
                "planning", p.ListPlanVersions(actor=STAFF, case_id=case_id, who=who)
            )
        )

    whole = await head(by)
    assert (whole.status_reason, whole.text_withheld) == ("Innlagt etter fall", False)
    assert (await versions(by)).versions[-1].note == "Innlagt etter fall"
    for reader in (None, NURSING):  # no role named; a provider who sees only some measures
        cut = await head(reader)
        assert (cut.status, cut.status_reason, cut.text_withheld) == (
            "under_revision",
            None,
            True,
        )
        listed = await versions(reader)
        assert listed.notes_withheld and all(v.note is None for v in listed.versions)
        assert [v.change for v in listed.versions][-1] == "revision_started"  # the rest is there
    # Someone no consent names is refused, and the refusal is an access attempt on record; so
    # is anyone who says they are a coordinator without being the case's (R9).
    for stranger in (
        c.GateActor(kind="provider", id="skolen"),
        c.GateActor(kind="coordinator", id=str(uuid.uuid4())),
    ):
        for ask in (head, versions):
            with pytest.raises(RequestFailed) as info:
                await ask(stranger)
            assert info.value.error.code == "forbidden", (stranger, ask)
    # A provider whose consent covers every life area and kind of content reads the whole plan.
    physio = c.GateActor(kind="provider", id="fysioterapeuten")
    await consent(
        system,
        case_id,
        c.ConsentKind.SHARING,
        sharing=c.SharingScope(
            recipients=[physio.id], life_areas=list(c.LifeArea), content_kinds=list(c.ContentKind)
        ),
    )
    assert (await head(physio)).status_reason == "Innlagt etter fall"
    assert not (await versions(physio)).notes_withheld
    # The person withdraws the IP consent: the plan freezes and keeps the revision's reason,
    # still free text, still withheld.
    await withdraw_ip(system, case_id)
    frozen = await head(None)
    assert (frozen.status, frozen.status_reason, frozen.text_withheld) == ("frozen", None, True)
    person = c.GateActor(kind="person", id="self")
    assert (await head(person)).status_reason == "Innlagt etter fall"
    # A closed plan's reason is a code, not free text: everyone sees why it closed.
    await write(
        system,
        p.ChangePlanStatus(
            actor=STAFF,
            case_id=case_id,
            expected_version=frozen.version,
            by=by,
            to="closed",
            close_reason=p.CloseReason.PERSON_DECLINED,
        ),
    )
    closed = await head(None)
    assert (closed.status_reason, closed.text_withheld) == ("person_declined", False)


async def test_r5_r6_no_plan_without_ip_consent_and_r7_withdrawal_freezes_it(
    system: System,
) -> None:
    today = oslo_today()
    case_id, by, _ = await saved_plan(system, today)
    await withdraw_ip(system, case_id)
    person = c.GateActor(kind="person", id="self")
    doc = await read(system, case_id, person)  # the person still sees their plan (R7)
    assert doc.status == "frozen" and doc.content.goals
    error = await refused(
        system,
        p.SavePlan(actor=STAFF, case_id=case_id, expected_version=2, by=by, content=doc.content),
    )
    assert error.code == "forbidden" and "frozen" in error.message
    head = p.PlanView.model_validate(
        await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=case_id))
    )
    assert head.next_evaluation_on is None  # a frozen plan has no evaluations falling due
    # The person no longer wants an IP: the frozen plan is closed, which needs no consent.
    closed = await write(
        system,
        p.ChangePlanStatus(
            actor=STAFF,
            case_id=case_id,
            expected_version=2,
            by=by,
            to="closed",
            close_reason=p.CloseReason.PERSON_DECLINED,
        ),
    )
    assert closed.status == "closed" and closed.version == 3


async def test_r5_no_plan_and_no_ip_tool_without_ip_consent(system: System) -> None:
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    await system.client.command("assignment", register_coordinator())
    await consent(system, report.case_id, c.ConsentKind.COORDINATOR)
    ev = system.events
    appointed = await ev.wait_until(
        lambda: ev.matching("assignment.coordinator_appointed", report.case_id), WAIT
    )
    await system.settled("planning", appointed[0])
    with pytest.raises(RequestFailed) as info:
        await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=report.case_id))
    assert info.value.error.code == "not_found"
    # The person may choose meetings (R5: a coordinator without a plan), but not an IP.
    error = await refused(
        system,
        p.SwitchTool(
            actor=STAFF, case_id=report.case_id, tool=p.CoordinationTool.IP, chosen_by="person"
        ),
    )
    assert error.code == "forbidden" and "(R5)" in error.message
    state = p.ToolState.model_validate(
        await system.client.command(
            "planning",
            p.SwitchTool(
                actor=STAFF,
                case_id=report.case_id,
                tool=p.CoordinationTool.MEETINGS,
                chosen_by="person",
            ),
        )
    )
    assert state.tool == "meetings"
    with pytest.raises(RequestFailed):
        await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=report.case_id))


async def test_r6_r13_the_tool_is_chosen_by_whoever_decides_for_the_person_at_their_age(
    system: System, clock: FixedClock
) -> None:
    """The person chooses the tool (R13); under 16 those with parental responsibility choose
    and the child is heard, from 16 the young person chooses themself (R6). A choice recorded
    for the wrong chooser is refused with the reason on ``chosen_by``, and the tool is kept."""
    today = local_today(clock)

    async def choose(case_id: uuid.UUID, chosen_by: str) -> Any:
        return await system.client.command(
            "planning",
            p.SwitchTool(
                actor=STAFF, case_id=case_id, tool=p.CoordinationTool.MEETINGS, chosen_by=chosen_by
            ),
        )

    async def tool_of(case_id: uuid.UUID) -> str | None:
        state = await system.client.query("planning", p.GetTool(actor=STAFF, case_id=case_id))
        return p.ToolState.model_validate(state).tool

    child = await case_with_plan(
        system, clock, birth=today.replace(year=today.year - 10), parents=True
    )
    for wrong in ("person", "representative"):
        error = await refused(
            system,
            p.SwitchTool(
                actor=STAFF, case_id=child, tool=p.CoordinationTool.MEETINGS, chosen_by=wrong
            ),
        )
        assert error.code == "forbidden" and error.fields[0].field == "chosen_by"
        assert "under 16" in error.message and "(R6)" in error.message
    # Barnevernet chooses only where it consents for the child, having taken over care.
    error = await refused(
        system,
        p.SwitchTool(
            actor=STAFF, case_id=child, tool=p.CoordinationTool.MEETINGS, chosen_by="barnevern"
        ),
    )
    assert error.code == "forbidden" and "no consent in force was given by barnevern" in (
        error.message
    )
    assert await tool_of(child) == "ip"
    assert p.ToolState.model_validate(await choose(child, "parent")).tool == "meetings"

    adult = await case_with_plan(system, clock)
    for wrong in ("parent", "barnevern", "representative"):
        error = await refused(
            system,
            p.SwitchTool(
                actor=STAFF, case_id=adult, tool=p.CoordinationTool.MEETINGS, chosen_by=wrong
            ),
        )
        assert error.code == "forbidden" and error.fields[0].field == "chosen_by"
        # A representative is refused for an adult who consents themself (no consent of theirs).
        why = "no consent in force" if wrong == "representative" else "16 or over"
        assert why in error.message
    assert await tool_of(adult) == "ip"
    assert p.ToolState.model_validate(await choose(adult, "person")).tool == "meetings"

    error = await refused(
        system,
        p.SwitchTool(
            actor=STAFF, case_id=uuid.uuid4(), tool=p.CoordinationTool.IP, chosen_by="person"
        ),
    )
    assert (error.code, error.fields[0].field) == ("not_found", "case_id")


async def test_r13_the_person_switches_tool_the_group_meets_and_the_history_stays(
    system: System, clock: FixedClock
) -> None:
    today = local_today(clock)
    case_id, by, _ = await saved_plan(system, today, clock)
    client = system.client
    nurse = p.GroupChanged.model_validate(
        await client.command(
            "planning",
            p.AddMember(actor=STAFF, case_id=case_id, party=HOME_NURSING, role="sykepleier"),
        )
    ).id
    # The same party twice for the same period is one membership, not two (R13).
    with pytest.raises(RequestFailed) as twice:
        await client.command(
            "planning",
            p.AddMember(actor=STAFF, case_id=case_id, party=HOME_NURSING, role="sykepleier"),
        )
    assert twice.value.error.code == "conflict" and twice.value.error.fields[0].field == "party"
    mother = p.GroupChanged.model_validate(
        await client.command(
            "planning",
            p.AddMember(
                actor=STAFF,
                case_id=case_id,
                party=p.Party(kind=p.PartyKind.NEXT_OF_KIN, ref="mor"),
                role="pårørende",
            ),
        )
    ).id
    state = p.ToolState.model_validate(
        await client.command(
            "planning",
            p.SwitchTool(
                actor=STAFF,
                case_id=case_id,
                tool=p.CoordinationTool.MEETINGS,
                chosen_by="person",
                note="Vil heller ha ansvarsgruppemøter",
            ),
        )
    )
    assert [h.tool for h in state.history] == ["ip", "meetings"]
    # Under meetings the plan is kept and readable, and not edited (R13).
    doc = await read(system, case_id, by)
    error = await refused(
        system,
        p.SavePlan(actor=STAFF, case_id=case_id, expected_version=2, by=by, content=doc.content),
    )
    assert error.code == "rule_violation" and "(R13)" in error.message

    # A meeting is called: the coordinator and the home nursing service are told.
    at = clock.now() + timedelta(days=7)
    meeting = p.GroupChanged.model_validate(
        await client.command(
            "planning",
            p.ScheduleMeeting(
                actor=STAFF, case_id=case_id, at=at, place="Rådhuset, møterom 2", agenda=["Skole"]
            ),
        )
    ).id
    ev = system.events
    scheduled = await ev.wait_until(
        lambda: ev.matching("planning.meeting_scheduled", case_id), WAIT
    )
    recipients = set(scheduled[0].payload["recipients"])
    nursing_inbox = p.party_inbox("testorg", HOME_NURSING)
    assert recipients == {by.id, str(nursing_inbox)}
    assert "Rådhuset" not in str(scheduled[0].payload)  # place and agenda stay in planning
    await ev.wait_until(
        lambda: [
            e
            for e in ev.matching("notifications.notification_created", case_id)
            if e.payload["kind"] == "meeting_scheduled"
        ][1:],
        WAIT,
    )
    inbox = Inbox.model_validate(
        await client.query("notifications", ListInbox(actor=STAFF, recipient_id=nursing_inbox))
    )
    assert [n.kind for n in inbox.notifications] == ["meeting_scheduled"]
    assert "Rådhuset" not in inbox.notifications[0].text

    # Minutes before the meeting is held are refused; after it, decisions and tasks.
    minutes = p.RecordMinutes(
        actor=STAFF,
        case_id=case_id,
        meeting_id=meeting,
        attended=[nurse, mother],
        summary="Gjennomgang av skolestart",
        decisions=["Skolestart etter jul"],
        tasks=[
            p.TaskInput(
                member_id=nurse, text="Avklare medisiner", deadline=at.date() + timedelta(14)
            )
        ],
    )
    error = await refused(system, minutes)
    assert error.message == "the meeting has not been held yet"
    clock.advance(timedelta(days=8))
    held = p.GroupChanged.model_validate(await client.command("planning", minutes))
    assert len(held.task_ids) == 1
    await client.command(
        "planning", p.CompleteTask(actor=STAFF, case_id=case_id, task_id=held.task_ids[0])
    )
    group = p.GroupView.model_validate(
        await client.query("planning", p.GetGroup(actor=STAFF, case_id=case_id, who=by))
    )
    assert group.meetings[0].status == "held"
    assert group.meetings[0].decisions == ["Skolestart etter jul"]
    assert group.tasks[0].done_at is not None
    assert (await refused(system, minutes)).message == "the meeting is held"

    # Back to the IP: the plan is edited again, and every choice is in the history.
    state = p.ToolState.model_validate(
        await client.command(
            "planning",
            p.SwitchTool(
                actor=STAFF, case_id=case_id, tool=p.CoordinationTool.IP, chosen_by="person"
            ),
        )
    )
    assert [h.tool for h in state.history] == ["ip", "meetings", "ip"]
    await write(
        system,
        p.SavePlan(actor=STAFF, case_id=case_id, expected_version=2, by=by, content=doc.content),
    )
    await client.command("planning", p.EndMember(actor=STAFF, case_id=case_id, member_id=mother))
    group = p.GroupView.model_validate(
        await client.query("planning", p.GetGroup(actor=STAFF, case_id=case_id, who=by))
    )
    assert {m.member_id: m.to_date is not None for m in group.members} == {
        nurse: False,
        mother: True,
    }


async def test_r16_evaluations_fall_due_on_the_clock_and_a_revision_makes_a_new_version(
    system: System, clock: FixedClock
) -> None:
    today = local_today(clock)
    case_id, by, _ = await saved_plan(system, today, clock)
    client = system.client

    async def status(to: str, version: int, **kw: Any) -> p.PlanWritten:
        return await write(
            system,
            p.ChangePlanStatus(
                actor=STAFF, case_id=case_id, expected_version=version, by=by, to=to, **kw
            ),
        )

    assert (await status("active", 2)).status == "active"
    head = p.PlanView.model_validate(
        await client.query("planning", p.GetPlan(actor=STAFF, case_id=case_id))
    )
    assert head.next_evaluation_on == today + timedelta(days=14)  # the measure's, M9

    clock.advance(timedelta(days=15))
    swept = p.PlanningSweepResult.model_validate(
        await client.command("planning", p.SweepPlanning(actor=STAFF))
    )
    assert swept.evaluations_overdue == 1
    ev = system.events
    overdue = await ev.wait_until(lambda: ev.matching("planning.evaluation_overdue", case_id), WAIT)
    assert overdue[0].payload["item_id"] == "M9"
    # Once only: a second sweep announces nothing new.
    again = p.PlanningSweepResult.model_validate(
        await client.command("planning", p.SweepPlanning(actor=STAFF))
    )
    assert again.evaluations_overdue == 0
    await ev.wait_until(
        lambda: [
            e
            for e in ev.matching("notifications.notification_created", case_id)
            if e.payload["kind"] == "evaluation_overdue"
        ],
        WAIT,
    )
    listing = p.PlanListing.model_validate(
        await client.query("planning", p.ListPlans(actor=STAFF, overdue_evaluations=True))
    )
    assert [r.case_id for r in listing.plans] == [case_id] and listing.total == 1

    # Evaluated: the measure is partly achieved; the next evaluation in a month.
    evaluated = await write(
        system,
        p.EvaluateItem(
            actor=STAFF,
            case_id=case_id,
            expected_version=3,
            by=by,
            item_id="M9",
            outcome=p.Outcome.PARTLY,
            comment="Medisinene går bedre",
            next_evaluation_date=local_today(clock) + timedelta(days=30),
        ),
    )
    assert evaluated.version == 4
    listing = p.PlanListing.model_validate(
        await client.query("planning", p.ListPlans(actor=STAFF, overdue_evaluations=True))
    )
    assert listing.total == 0
    doc = await read(system, case_id, by)
    m9 = next(m for m in doc.content.measures if m.id == "M9")
    assert [(e.outcome, e.by) for e in m9.evaluations] == [(p.Outcome.PARTLY, STAFF.id)]
    # A recorded evaluation cannot be rewritten by a later save (R16: the history stays).
    rewritten = doc.content.model_copy(
        update={
            "measures": [
                m.model_copy(update={"evaluations": []}) if m.id == "M9" else m
                for m in doc.content.measures
            ]
        }
    )
    error = await refused(
        system,
        p.SavePlan(actor=STAFF, case_id=case_id, expected_version=4, by=by, content=rewritten),
    )
    assert error.fields[0].field == "measures[0].evaluations"

    # Revision: active → under revision (a reason) → active, each a version.
    error = await refused(
        system,
        p.ChangePlanStatus(
            actor=STAFF, case_id=case_id, expected_version=4, by=by, to="under_revision"
        ),
    )
    assert error.fields[0].field == "reason"
    assert (await status("under_revision", 4, reason="Ny skole")).status == "under_revision"
    assert (await status("active", 5)).version == 6
    closed = await status("closed", 6, close_reason=p.CloseReason.GOALS_REACHED)
    assert closed.status == "closed"
    error = await refused(
        system,
        p.SavePlan(actor=STAFF, case_id=case_id, expected_version=7, by=by, content=doc.content),
    )
    assert error.code == "rule_violation" and "closed" in error.message
    versions = p.PlanVersions.model_validate(
        await client.query("planning", p.ListPlanVersions(actor=STAFF, case_id=case_id))
    )
    assert [v.change for v in versions.versions] == [
        "created",
        "saved",
        "activated",
        "evaluated",
        "revision_started",
        "revised",
        "closed",
    ]
    by_status = p.PlanListing.model_validate(
        await client.query("planning", p.ListPlans(actor=STAFF, status=["closed"]))
    )
    assert [r.case_ref for r in by_status.plans] == [doc.case_ref]


async def test_r14_a_revision_date_falls_due_and_a_revision_meets_it(
    system: System, clock: FixedClock
) -> None:
    """R14 point 7: the plan's revision dates are dates the coordinator is held to, as
    evaluation dates are (R16): overdue once announced, met by starting a revision."""
    today = local_today(clock)
    case_id, by, _ = await saved_plan(system, today, clock)
    revision_on = today + timedelta(days=180)  # full_content's revision date
    await write(
        system,
        p.ChangePlanStatus(actor=STAFF, case_id=case_id, expected_version=2, by=by, to="active"),
    )
    clock.advance(timedelta(days=181))
    await system.client.command("planning", p.SweepPlanning(actor=STAFF))
    ev = system.events
    overdue = await ev.wait_until(
        lambda: ev.matching("planning.evaluation_overdue", case_id, item_kind="revision"), WAIT
    )
    assert overdue[0].payload["item_id"] == f"REV-{revision_on}"
    assert overdue[0].payload["due_on"] == revision_on.isoformat()
    told = await ev.wait_until(
        lambda: [
            e
            for e in ev.matching("notifications.notification_created", case_id)
            if e.payload["kind"] == "revision_overdue"
        ],
        WAIT,
    )
    assert len(told) == 1
    before = len(ev.matching("planning.schedule_changed", case_id))
    assert any(
        i["item_kind"] == "revision"
        for i in ev.matching("planning.schedule_changed", case_id)[-1].payload["items"]
    )

    await write(
        system,
        p.ChangePlanStatus(
            actor=STAFF,
            case_id=case_id,
            expected_version=3,
            by=by,
            to="under_revision",
            reason="Halvårlig revisjon",
        ),
    )
    changed = await ev.wait_until(
        lambda: ev.matching("planning.schedule_changed", case_id)[before:], WAIT
    )
    # The revision met the date: it is no longer on the clock; the goals' dates still are.
    assert [i["item_kind"] for i in changed[-1].payload["items"]].count("revision") == 0
    assert changed[-1].payload["items"]
    swept = p.PlanningSweepResult.model_validate(
        await system.client.command("planning", p.SweepPlanning(actor=STAFF))
    )
    assert swept.evaluations_overdue == 0


async def _as_assignment(
    system: System, event: Any, case_id: uuid.UUID, at: datetime | None = None
) -> None:
    """Publish ``event`` as assignment would (``at``: when it happened), and wait until
    planning has handled it."""
    env = Envelope.wrap(
        event,
        org=system.settings.org,
        occurred_at=at or datetime.now(UTC),
        actor=Actor(kind="service", id="assignment"),
        case_id=case_id,
    )
    await system.nc.jetstream().publish(
        env.subject, env.model_dump_json().encode(), headers={"Nats-Msg-Id": str(env.id)}
    )
    await system.settled("planning", env)


async def test_r11_an_overlap_told_out_of_order_or_cut_short_leaves_nobody_handing_over(
    system: System,
) -> None:
    """The consumers are separate: a handover's completion may be handled before its
    appointment, and coordination may stop in the middle of an overlap. Either way the one who
    handed over does not keep the plan."""
    case_id, old, _ = await saved_plan(system, oslo_today())
    head = p.PlanView.model_validate(
        await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=case_id))
    )
    old_id, new_id, handover = uuid.UUID(old.id), uuid.uuid4(), uuid.uuid4()
    ref = head.case_ref
    await _as_assignment(
        system,
        a.HandoverCompleted(
            handover_id=handover,
            case_id=case_id,
            case_ref=ref,
            from_coordinator_id=old_id,
            to_coordinator_id=new_id,
        ),
        case_id,
    )
    await _as_assignment(
        system,
        a.CoordinatorAppointed(
            appointment_id=uuid.uuid4(),
            case_id=case_id,
            case_ref=ref,
            coordinator_id=new_id,
            handover_id=handover,
        ),
        case_id,
    )
    with pytest.raises(RequestFailed) as late:
        await read(system, case_id, old)
    assert late.value.error.code == "forbidden"

    # A second handover, and coordination stops before its overlap ends.
    newest, second = uuid.uuid4(), uuid.uuid4()
    await _as_assignment(
        system,
        a.CoordinatorAppointed(
            appointment_id=uuid.uuid4(),
            case_id=case_id,
            case_ref=ref,
            coordinator_id=newest,
            handover_id=second,
        ),
        case_id,
    )
    handing_over = c.GateActor(kind="coordinator", id=str(new_id))
    assert (await read(system, case_id, handing_over)).content.goals  # in the overlap
    await _as_assignment(
        system,
        a.CoordinationStopped(
            case_id=case_id, case_ref=ref, coordinator_id=newest, cause="consent withdrawn"
        ),
        case_id,
    )
    with pytest.raises(RequestFailed) as stopped:
        await read(system, case_id, handing_over)
    assert stopped.value.error.code == "forbidden"


async def test_r4_r9_a_coordinator_whose_coordination_stopped_no_longer_reads_or_edits_the_plan(
    system: System,
) -> None:
    """Coordination stops (a decision refuses a coordinator, R4; the coordinator consent ends,
    R7): that coordinator is no longer the case's (R9). The person still reads the plan. An
    appointment told late, from before the stop, does not give the plan back; a new one does."""
    case_id, old, _ = await saved_plan(system, oslo_today())
    head = p.PlanView.model_validate(
        await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=case_id))
    )
    old_id, ref = uuid.UUID(old.id), head.case_ref
    stopped_at = datetime.now(UTC)
    await _as_assignment(
        system,
        a.CoordinationStopped(
            case_id=case_id, case_ref=ref, coordinator_id=old_id, cause="coordinator refused (R4)"
        ),
        case_id,
        at=stopped_at,
    )
    with pytest.raises(RequestFailed) as reading:
        await read(system, case_id, old)
    assert reading.value.error.code == "forbidden"
    with pytest.raises(RequestFailed) as editing:
        await write(
            system,
            p.SavePlan(
                actor=STAFF,
                case_id=case_id,
                expected_version=head.version,
                by=old,
                content=full_content(oslo_today()),
            ),
        )
    assert editing.value.error.code == "forbidden"
    assert (await read(system, case_id, c.GateActor(kind="person", id="self"))).content.goals

    # The appointment that preceded the stop, told late (separate consumers): still stopped.
    appointed = a.CoordinatorAppointed(
        appointment_id=uuid.uuid4(), case_id=case_id, case_ref=ref, coordinator_id=old_id
    )
    await _as_assignment(system, appointed, case_id, at=stopped_at - timedelta(minutes=5))
    with pytest.raises(RequestFailed):
        await read(system, case_id, old)
    # An appointment at the very moment of the stop (one transaction): the stop wins.
    same = appointed.model_copy(update={"appointment_id": uuid.uuid4()})
    await _as_assignment(system, same, case_id, at=stopped_at)
    with pytest.raises(RequestFailed):
        await read(system, case_id, old)
    # Appointed again after the stop (a new decision and consent): the plan is theirs again.
    again = appointed.model_copy(update={"appointment_id": uuid.uuid4()})
    await _as_assignment(system, again, case_id, at=stopped_at + timedelta(minutes=5))
    assert (await read(system, case_id, old)).content.goals

    # A handover, and coordination stops before planning hears that the new one took over:
    # neither the one handing over nor the one taking over (told late) keeps the plan.
    newest = uuid.uuid4()
    taking_over = a.CoordinatorAppointed(
        appointment_id=uuid.uuid4(),
        case_id=case_id,
        case_ref=ref,
        coordinator_id=newest,
        handover_id=uuid.uuid4(),
    )
    base = stopped_at + timedelta(minutes=10)
    await _as_assignment(
        system,
        a.CoordinationStopped(
            case_id=case_id, case_ref=ref, coordinator_id=newest, cause="consent withdrawn"
        ),
        case_id,
        at=base + timedelta(minutes=1),
    )
    await _as_assignment(system, taking_over, case_id, at=base)
    for who in (old, c.GateActor(kind="coordinator", id=str(newest))):
        with pytest.raises(RequestFailed) as stopped:
            await read(system, case_id, who)
        assert stopped.value.error.code == "forbidden"


async def _decide_ip(system: System, case_id: uuid.UUID, granted: bool) -> Any:
    return await decide(system, case_id, "ip", granted, by="planning")


async def test_r3_a_refused_ip_gets_no_plan_until_a_decision_grants_it(system: System) -> None:
    await system.client.command("assignment", register_coordinator())
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    case_id = report.case_id
    await _decide_ip(system, case_id, granted=False)
    for kind in (c.ConsentKind.COORDINATOR, c.ConsentKind.IP):
        await consent(system, case_id, kind)
    ev = system.events
    appointed = await ev.wait_until(
        lambda: ev.matching("assignment.coordinator_appointed", case_id), WAIT
    )
    await system.settled("planning", appointed[0])
    for e in ev.matching("consent.consent_recorded", case_id):
        await system.settled("planning", e)
    with pytest.raises(RequestFailed) as none:
        await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=case_id))
    assert none.value.error.code == "not_found"  # consent and a coordinator, but IP refused

    await _decide_ip(system, case_id, granted=True)  # e.g. after an appeal
    await ev.wait_until(lambda: ev.matching("planning.plan_created", case_id), WAIT)
    head = p.PlanView.model_validate(
        await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=case_id))
    )
    assert head.status == "draft"


async def test_r3_a_plan_freezes_when_ip_is_refused_and_thaws_when_it_is_granted(
    system: System,
) -> None:
    today = oslo_today()
    case_id, by, written = await saved_plan(system, today)
    await consent(
        system,
        case_id,
        c.ConsentKind.SHARING,
        sharing=c.SharingScope(
            recipients=["hjemmesykepleien"],
            life_areas=[HEALTH],
            content_kinds=[c.ContentKind.GOALS],
        ),
    )
    assert (await read(system, case_id, NURSING)).content.goals  # shared, before the refusal
    await _decide_ip(system, case_id, granted=False)
    ev = system.events
    frozen = await ev.wait_until(lambda: ev.matching("planning.plan_frozen", case_id), WAIT)
    assert [e.payload["cause"] for e in frozen] == ["ip_refused"]
    head = p.PlanView.model_validate(
        await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=case_id))
    )
    assert head.status == "frozen"
    error = await refused(
        system,
        p.SavePlan(
            actor=STAFF,
            case_id=case_id,
            expected_version=written.version,
            by=by,
            content=full_content(today),
        ),
    )
    assert "refused" in error.message  # the real reason, not an ended consent
    # The person and the coordinator still see the plan; a provider whose sharing consent
    # stands sees nothing of it while IP is refused.
    assert (await read(system, case_id, c.GateActor(kind="person", id="self"))).content.goals
    assert (await read(system, case_id, by)).content.goals
    with pytest.raises(RequestFailed) as shut:
        await read(system, case_id, NURSING)
    assert shut.value.error.code == "forbidden" and "refused" in shut.value.error.message

    await _decide_ip(system, case_id, granted=True)
    await ev.wait_until(lambda: ev.matching("planning.plan_unfrozen", case_id), WAIT)
    head = p.PlanView.model_validate(
        await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=case_id))
    )
    assert head.status == "draft" and head.version == written.version
    assert (await read(system, case_id, NURSING)).content.goals  # granted: shared again


async def test_r11_both_coordinators_work_on_the_plan_during_the_overlap(
    system: System, clock: FixedClock
) -> None:
    """A handover with an overlap: the old and the new coordinator work together (R11), so
    both read and edit the plan until the overlap ends; then only the new one does."""
    today = local_today(clock)
    case_id, old, _ = await saved_plan(system, today, clock)
    new_id = (await system.client.command("assignment", register_coordinator()))["coordinator_id"]
    new = c.GateActor(kind="coordinator", id=new_id)
    end = clock.now() + timedelta(days=14)
    await system.client.command(
        "assignment",
        a.PlanHandover(
            actor=STAFF, case_id=case_id, to_coordinator_id=uuid.UUID(new_id), overlap_end=end
        ),
    )
    ev = system.events
    appointed = await ev.wait_until(
        lambda: ev.matching("assignment.coordinator_appointed", case_id, coordinator_id=new_id),
        WAIT,
    )
    await system.settled("planning", appointed[0])
    assert (await coordinator_of(system, case_id)) == new
    for who in (old, new):
        assert (await read(system, case_id, who)).content.goals
    written = await write(
        system,
        p.ChangePlanStatus(actor=STAFF, case_id=case_id, expected_version=2, by=old, to="active"),
    )
    assert written.version == 3  # the one handing over still edits, in the overlap
    await write(
        system,
        p.EvaluateItem(
            actor=STAFF,
            case_id=case_id,
            expected_version=3,
            by=new,
            item_id="M9",
            outcome=p.Outcome.PARTLY,
            comment="Overtatt",
            next_evaluation_date=today + timedelta(days=30),
        ),
    )

    clock.set(end + timedelta(minutes=1))
    await system.client.command("assignment", a.SweepAssignment(actor=STAFF))
    done = await ev.wait_until(lambda: ev.matching("assignment.handover_completed", case_id), WAIT)
    await system.settled("planning", done[0])
    with pytest.raises(RequestFailed) as after:
        await system.client.query("planning", p.ViewPlan(actor=STAFF, case_id=case_id, who=old))
    assert after.value.error.code == "forbidden"
    error = await refused(
        system,
        p.ChangePlanStatus(
            actor=STAFF,
            case_id=case_id,
            expected_version=4,
            by=old,
            to="under_revision",
            reason="Ny vurdering",
        ),
    )
    assert error.code == "forbidden"
    assert (await read(system, case_id, new)).content.goals


@pytest.mark.kenett_settings(plan_retention_days=30)
async def test_r16_r18_a_closed_case_closes_its_plan_and_nothing_falls_due_on_it(
    system: System, clock: FixedClock
) -> None:
    """The person died: the KE closes the case. The plan closes with it (it stayed active, its
    evaluations fell due and reminded the coordinator, and it never reached retention)."""
    today = local_today(clock)
    case_id, by, _ = await saved_plan(system, today, clock)
    await write(
        system,
        p.ChangePlanStatus(actor=STAFF, case_id=case_id, expected_version=2, by=by, to="active"),
    )
    await system.client.command(
        "intake", intake.CloseCase(actor=STAFF, case_id=case_id, reason="died")
    )
    ev = system.events
    closed = await ev.wait_until(
        lambda: ev.matching("planning.status_changed", case_id, to_status="closed"), WAIT
    )
    assert closed[0].payload["from_status"] == "active"
    assert closed[0].payload["close_reason"] == "deceased"
    head = p.PlanView.model_validate(
        await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=case_id))
    )
    assert (head.status, head.status_reason, head.version) == ("closed", "deceased", 4)
    assert head.next_evaluation_on is None
    person = c.GateActor(kind="person", id="self")  # the notes are for a reader of the whole plan
    versions = p.PlanVersions.model_validate(
        await system.client.query(
            "planning", p.ListPlanVersions(actor=STAFF, case_id=case_id, who=person)
        )
    )
    last = versions.versions[-1]
    assert (last.change, last.status, last.note) == ("closed", "closed", "Saken er avsluttet")

    clock.advance(timedelta(days=15))  # past the measure's evaluation date (M9)
    swept = p.PlanningSweepResult.model_validate(
        await system.client.command("planning", p.SweepPlanning(actor=STAFF))
    )
    assert swept.evaluations_overdue == 0
    listing = p.PlanListing.model_validate(
        await system.client.query("planning", p.ListPlans(actor=STAFF, overdue_evaluations=True))
    )
    assert listing.total == 0
    error = await refused(
        system,
        p.SavePlan(
            actor=STAFF, case_id=case_id, expected_version=4, by=by, content=full_content(today)
        ),
    )
    assert "closed" in error.message + " ".join(f.reason for f in error.fields)
    # The retention clock started when the case closed (30 days in this test's settings).
    clock.advance(timedelta(days=16))
    due = p.PurgeReport.model_validate(
        await system.client.command("planning", p.PurgePlans(actor=STAFF, dry_run=True))
    )
    assert due.plans == 1 and due.case_refs == [head.case_ref]


@pytest.mark.kenett_settings(auto_appoint=False)
async def test_r5_a_case_closed_before_it_had_a_plan_gets_none(system: System) -> None:
    """The person declined and the KE closed the case while an appointment was on its way:
    the appointment's news comes after the close, and no plan is drafted for a closed case."""
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    for kind in (c.ConsentKind.COORDINATOR, c.ConsentKind.IP):
        await consent(system, report.case_id, kind)
    ev = system.events
    for e in await ev.wait_until(
        lambda: ev.matching("consent.consent_recorded", report.case_id), WAIT
    ):
        await system.settled("planning", e)
    await system.client.command(
        "intake", intake.CloseCase(actor=STAFF, case_id=report.case_id, reason="declined")
    )
    change = await ev.wait_until(
        lambda: ev.matching("intake.case_status_changed", report.case_id, status="closed"), WAIT
    )
    await system.settled("planning", change[0])
    late = Envelope.wrap(
        CoordinatorAppointed(
            appointment_id=uuid.uuid4(),
            case_id=report.case_id,
            case_ref=report.case_ref,
            coordinator_id=uuid.uuid4(),
        ),
        org=system.settings.org,
        occurred_at=datetime.now(UTC),
        actor=Actor(kind="service", id="assignment"),
        case_id=report.case_id,
    )
    await system.nc.jetstream().publish(
        late.subject, late.model_dump_json().encode(), headers={"Nats-Msg-Id": str(late.id)}
    )
    await system.settled("planning", late)
    with pytest.raises(RequestFailed) as none:
        await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=report.case_id))
    assert none.value.error.code == "not_found"
    assert not ev.matching("planning.plan_created", report.case_id)


@pytest.mark.kenett_settings(plan_retention_days=30)
async def test_closed_plans_past_retention_are_anonymised_or_deleted_with_a_report(
    system: System, clock: FixedClock
) -> None:
    today = local_today(clock)
    plans = [await saved_plan(system, today, clock) for _ in range(2)]
    # The second person's group goes on meeting after the plan closes (R13).
    member = p.GroupChanged.model_validate(
        await system.client.command(
            "planning",
            p.AddMember(actor=STAFF, case_id=plans[1][0], party=HOME_NURSING, role="sykepleier"),
        )
    ).id
    for case_id, by, _ in plans:
        await write(
            system,
            p.ChangePlanStatus(
                actor=STAFF,
                case_id=case_id,
                expected_version=2,
                by=by,
                to="closed",
                close_reason=p.CloseReason.MOVED,
            ),
        )
    client = system.client
    clock.advance(timedelta(days=29))
    report = p.PurgeReport.model_validate(
        await client.command("planning", p.PurgePlans(actor=STAFF))
    )
    assert report.plans == 0  # not yet past retention
    clock.advance(timedelta(days=2))
    dry = p.PurgeReport.model_validate(
        await client.command("planning", p.PurgePlans(actor=STAFF, dry_run=True))
    )
    assert dry.plans == 2 and dry.versions == 6 and dry.mode == "anonymise"
    first, second = plans[0][0], plans[1][0]
    assert (await read(system, first, c.GateActor(kind="person", id="self"))).content.goals

    done = p.PurgeReport.model_validate(await client.command("planning", p.PurgePlans(actor=STAFF)))
    assert done.plans == 2 and len(done.case_refs) == 2
    for case_id in (first, second):
        with pytest.raises(RequestFailed) as info:
            await client.query("planning", p.GetPlan(actor=STAFF, case_id=case_id))
        assert info.value.error.code == "not_found"
    # What is kept is the shape: no text, no name, no link to the case.
    async with system.host.contexts["planning"].uow() as uow:
        from sqlmodel import select

        from services.planning.store import Plan, PlanVersion

        contents = [r.content for r in await uow.session.exec(select(PlanVersion))]
        kept = [(pl.case_id, pl.case_ref) for pl in await uow.session.exec(select(Plan))]
    assert {ref for _, ref in kept} == {"anonymisert"}
    assert not {case for case, _ in kept} & {first, second}
    text = " ".join(contents)
    assert "Jeg vil" not in text and "hjemmesykepleien" not in text and "(anonymisert)" in text
    again = p.PurgeReport.model_validate(
        await client.command("planning", p.PurgePlans(actor=STAFF))
    )
    assert again.plans == 0
    # The group still in use is kept whole, and its coordinator still reads it.
    group = p.GroupView.model_validate(
        await client.query("planning", p.GetGroup(actor=STAFF, case_id=second, who=plans[1][1]))
    )
    assert [(m.member_id, m.role) for m in group.members] == [(member, "sykepleier")]


async def test_r14_the_plan_exports_as_fhir_and_prints_as_pdf_through_the_bus(
    system: System,
) -> None:
    today = oslo_today()
    case_id, by, _ = await saved_plan(system, today)
    bundle = p.FhirBundle.model_validate(
        await system.client.query(
            "planning", p.ExportPlanFhir(actor=STAFF, case_id=case_id, who=by)
        )
    ).bundle
    parsed = Bundle.model_validate(bundle)
    kinds = sorted({e.resource.__resource_type__ for e in parsed.entry or []})
    assert {"CarePlan", "Goal", "CareTeam"} <= set(kinds)
    pdf = p.PlanPdf.model_validate(
        await system.client.query("planning", p.RenderPlanPdf(actor=STAFF, case_id=case_id, who=by))
    )
    data = base64.b64decode(pdf.pdf_base64)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    for heading in ("Individuell plan", "Mål", "Tiltak", "Planperiode og revisjon", "Samtykker"):
        assert heading in text
    assert "Jeg vil klare meg selv hjemme" in text
    assert pdf.filename.endswith("-v2.pdf")


async def test_r18_the_ke_pages_through_the_overview_with_cursors(system: System) -> None:
    today = oslo_today()
    cases = [(await saved_plan(system, today))[0] for _ in range(3)]
    client = system.client
    seen: list[uuid.UUID] = []
    after = None
    while True:
        page = p.PlanListing.model_validate(
            await client.query("planning", p.ListPlans(actor=STAFF, limit=2, after=after))
        )
        assert page.total == 3
        seen += [r.case_id for r in page.plans]
        if page.next is None:
            break
        after = page.next
    assert sorted(seen) == sorted(cases) and len(seen) == 3
    # A cursor from another list, or made up, is refused with the field named.
    with pytest.raises(RequestFailed) as info:
        await client.query(
            "planning", p.ListPlans(actor=STAFF, overdue_evaluations=True, after=after or "x|y")
        )
    assert info.value.error.code == "validation_failed"
    assert info.value.error.fields[0].field == "after"
    with pytest.raises(RequestFailed) as info:
        await client.query("planning", p.ListPlans(actor=STAFF, status=["paused"]))
    assert info.value.error.fields[0].field == "status"


async def test_r5_r13_a_coordinator_reads_the_group_of_a_meetings_only_case(
    system: System, clock: FixedClock
) -> None:
    """A person who declines an IP still has a coordinator and a group (R5, R13)."""
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    await system.client.command("assignment", register_coordinator())
    await consent(system, report.case_id, c.ConsentKind.COORDINATOR, clock)
    ev = system.events
    appointed = await ev.wait_until(
        lambda: ev.matching("assignment.coordinator_appointed", report.case_id), WAIT
    )
    coordinator = c.GateActor(kind="coordinator", id=appointed[0].payload["coordinator_id"])
    await system.settled("planning", appointed[0])  # planning learns of the case from it
    await system.client.command(
        "planning",
        p.SwitchTool(
            actor=STAFF,
            case_id=report.case_id,
            tool=p.CoordinationTool.MEETINGS,
            chosen_by="person",
        ),
    )
    await system.client.command(
        "planning",
        p.AddMember(actor=STAFF, case_id=report.case_id, party=HOME_NURSING, role="sykepleier"),
    )
    group = p.GroupView.model_validate(
        await system.client.query(
            "planning", p.GetGroup(actor=STAFF, case_id=report.case_id, who=coordinator)
        )
    )
    assert [m.role for m in group.members] == ["sykepleier"] and group.withheld == []


async def test_r13_a_meeting_is_on_its_norwegian_day(system: System, clock: FixedClock) -> None:
    """A meeting at 00:50 in Norway is on that Norwegian day, though it is still the day before
    in UTC: a member listed from that day is in the group at the meeting (it was refused with
    "no members on that day" when the day was taken in UTC)."""
    case_id, _by, _ = await saved_plan(system, local_today(clock), clock)
    late = clock.now().replace(hour=23, minute=10, second=0, microsecond=0) + timedelta(days=1)
    clock.set(late)  # 00:10 (01:10 in summer) the next day in Norway
    await system.client.command(
        "planning",
        p.AddMember(actor=STAFF, case_id=case_id, party=HOME_NURSING, role="sykepleier"),
    )
    meeting = p.GroupChanged.model_validate(
        await system.client.command(
            "planning",
            p.ScheduleMeeting(
                actor=STAFF, case_id=case_id, at=late + timedelta(minutes=40), place="Rådhuset"
            ),
        )
    )
    group = p.GroupView.model_validate(
        await system.client.query("planning", p.GetGroup(actor=STAFF, case_id=case_id, who=_by))
    )
    assert [m.meeting_id for m in group.meetings] == [meeting.id]


async def test_r13_a_closed_case_calls_no_meeting_and_its_meetings_ahead_are_cancelled(
    system: System,
) -> None:
    """When the case closes, the group's meetings still ahead are cancelled (the members are
    told, their reminders stop), and no new one is called for it."""
    case_id, _by, _ = await saved_plan(system, oslo_today())
    await system.client.command(
        "planning",
        p.AddMember(actor=STAFF, case_id=case_id, party=HOME_NURSING, role="sykepleier"),
    )
    at = datetime.now(UTC) + timedelta(days=7)
    meeting = p.GroupChanged.model_validate(
        await system.client.command(
            "planning", p.ScheduleMeeting(actor=STAFF, case_id=case_id, at=at, place="Rådhuset")
        )
    )
    await system.client.command(
        "intake", intake.CloseCase(actor=STAFF, case_id=case_id, reason="no_longer_needed")
    )
    ev = system.events
    cancelled = await ev.wait_until(
        lambda: ev.matching("planning.meeting_cancelled", case_id), WAIT
    )
    assert [e.payload["meeting_id"] for e in cancelled] == [str(meeting.id)]
    with pytest.raises(RequestFailed) as refused:
        await system.client.command(
            "planning", p.ScheduleMeeting(actor=STAFF, case_id=case_id, at=at, place="Rådhuset")
        )
    assert refused.value.error.code == "conflict"
    assert refused.value.error.fields[0].field == "case_id"
