"""Planning at the edges of R13 and R16: evaluations not in the future, nothing changed or
falling due while the person has chosen meetings, and the plan back when they return to the IP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.clock import FixedClock, local_today
from shared.contracts import consent as c
from shared.contracts import planning as p
from tests.conftest import System
from tests.helpers import STAFF
from tests.integration.test_consent_flows import consent
from tests.integration.test_planning_flows import (
    HEALTH,
    NURSING,
    read,
    refused,
    saved_plan,
    write,
)

pytestmark = [
    pytest.mark.nats,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
WAIT = 15.0


async def _to_meetings(system: System, case_id: object) -> None:
    await system.client.command(
        "planning",
        p.SwitchTool(
            actor=STAFF, case_id=case_id, tool=p.CoordinationTool.MEETINGS, chosen_by="person"
        ),
    )


async def test_r16_evaluate_refuses_an_evaluation_dated_in_the_future(
    system: System, clock: FixedClock
) -> None:
    """A save may not record an evaluation dated in the future (added_evaluation_problems);
    EvaluateItem records the same thing and must be held to the same (R16: the evaluation
    history is what happened)."""
    today = local_today(clock)
    case_id, by, _ = await saved_plan(system, today, clock)
    error = await refused(
        system,
        p.EvaluateItem(
            actor=STAFF,
            case_id=case_id,
            expected_version=2,
            by=by,
            item_id="G1",
            outcome=p.Outcome.ACHIEVED,
            evaluated_on=today + timedelta(days=60),
            next_evaluation_date=today + timedelta(days=90),
        ),
    )
    assert error.code == "rule_violation"


async def test_r13_under_meetings_a_provider_cannot_change_the_plan(
    system: System, clock: FixedClock
) -> None:
    """R13: the person chose responsibility-group meetings; the plan is kept and readable but
    not edited until they switch back. A provider's measure report still writes a version."""
    today = local_today(clock)
    case_id, _, _ = await saved_plan(system, today, clock)
    await consent(
        system,
        case_id,
        c.ConsentKind.SHARING,
        clock,
        sharing=c.SharingScope(
            recipients=["hjemmesykepleien"],
            life_areas=[HEALTH],
            content_kinds=[c.ContentKind.MEASURES],
        ),
    )
    await _to_meetings(system, case_id)
    error = await refused(
        system,
        p.RecordMeasureStatus(
            actor=STAFF, case_id=case_id, measure_id="M9", status=p.MeasureStatus.DONE, by=NURSING
        ),
    )
    assert error.code == "rule_violation"


async def test_r13_under_meetings_no_plan_evaluation_falls_overdue(
    system: System, clock: FixedClock
) -> None:
    """R13: under meetings the plan is not edited, so none of its evaluations can be recorded;
    the sweep must not tell the coordinator that they are overdue."""
    today = local_today(clock)
    case_id, by, _ = await saved_plan(system, today, clock)
    await write(
        system,
        p.ChangePlanStatus(actor=STAFF, case_id=case_id, expected_version=2, by=by, to="active"),
    )
    await _to_meetings(system, case_id)
    clock.advance(timedelta(days=20))  # past M9's evaluation date (today + 14)
    swept = p.PlanningSweepResult.model_validate(
        await system.client.command("planning", p.SweepPlanning(actor=STAFF))
    )
    # ...and the one it announces cannot be acted on:
    evaluating = p.EvaluateItem(
        actor=STAFF,
        case_id=case_id,
        expected_version=3,
        by=by,
        item_id="M9",
        outcome=p.Outcome.PARTLY,
    )
    blocked = await refused(system, evaluating)
    assert "(R13)" in blocked.message
    assert swept.evaluations_overdue == 0


async def test_r13_ip_then_meetings_then_ip_gives_the_person_a_plan_again(
    system: System, clock: FixedClock
) -> None:
    """R5, R13: a person who no longer wants an IP withdraws the consent, the frozen plan is
    closed (person_declined) and they go on with responsibility-group meetings. They may switch
    back later: with a new IP consent and the tool IP, the plan is worked on again."""
    today = local_today(clock)
    case_id, by, _ = await saved_plan(system, today, clock)
    from tests.integration.test_planning_flows import withdraw_ip

    await withdraw_ip(system, case_id)
    await write(
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
    await _to_meetings(system, case_id)
    await consent(system, case_id, c.ConsentKind.IP, clock)
    ev = system.events
    await ev.wait_until(
        lambda: [
            e for e in ev.matching("consent.consent_recorded", case_id) if e.payload["kind"] == "ip"
        ][1:],
        WAIT,
    )
    state = p.ToolState.model_validate(
        await system.client.command(
            "planning",
            p.SwitchTool(
                actor=STAFF, case_id=case_id, tool=p.CoordinationTool.IP, chosen_by="person"
            ),
        )
    )
    assert state.tool == "ip"
    doc = await read(system, case_id, by)
    assert doc.content.goals  # the history is there
    head = p.PlanView.model_validate(
        await system.client.query("planning", p.GetPlan(actor=STAFF, case_id=case_id))
    )
    assert head.status != "closed", "back on the IP, the person's plan stays closed for good"
