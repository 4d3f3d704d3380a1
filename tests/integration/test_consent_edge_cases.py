"""Consent at the edges of R6: nothing on a child's behalf for after the 16th birthday, and a
parents' consent past that birthday starts no coordination and drafts no plan, even before the
sweep has marked it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from shared.client import RequestFailed
from shared.clock import OSLO, FixedClock
from shared.contracts import assignment as a
from shared.contracts import consent as c
from shared.contracts import intake, planning
from tests.conftest import System
from tests.helpers import STAFF, national_id, report_need

pytestmark = pytest.mark.nats


async def _case(system: System, birth: date) -> uuid.UUID:
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need(national_id=national_id(birth)))
    )
    return report.case_id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "givers",
    [
        {
            "given_by": c.GivenBy(role=c.GiverRole.PARENT),
            "parental_responsibility": "one",
        },
        {"given_by": c.GivenBy(role=c.GiverRole.BARNEVERN)},
    ],
    ids=["parent", "barnevern"],
)
async def test_r6_no_consent_on_a_childs_behalf_for_a_period_that_starts_after_the_16th_birthday(
    system: System, clock: FixedClock, givers: dict
) -> None:
    """A consent by parents or barnevernet that starts after the 16th birthday is not theirs
    to give (R6). Within the 90-day advance limit it is refused; it must be refused also when
    it starts further ahead."""
    clock.set(datetime(2026, 11, 13, 12, tzinfo=OSLO).astimezone(UTC))
    case_id = await _case(system, date(2011, 1, 20))  # 15 now, 16 on 2027-01-20
    starts = datetime.combine(date(2027, 3, 1), time(), OSLO)  # after the birthday, > 90 days
    with pytest.raises(RequestFailed) as refused:
        await system.client.command(
            "consent",
            c.RecordConsent(
                actor=STAFF,
                case_id=case_id,
                kind=c.ConsentKind.COORDINATOR,
                form="written",
                recorded_by=STAFF.id,
                given_at=clock.now() - timedelta(hours=1),
                valid_from=starts,
                child_heard=c.ChildHeard.HEARD,
                **givers,
            ),
        )
    assert refused.value.error.fields[0].field == "given_by.role"


@pytest.fixture(autouse=True)
def _no_background_consent_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    """The consent service's own sweep runs once at start and then not during the test: the
    time between midnight and the next sweep is what these tests look at."""
    import services.consent.handlers as consent_handlers

    monkeypatch.setattr(consent_handlers, "SWEEP_EVERY_S", 3600.0)


PARENTS = {
    "given_by": c.GivenBy(role=c.GiverRole.PARENT),
    "also_given_by": c.GivenBy(role=c.GiverRole.PARENT),
    "parental_responsibility": "both",
    "child_heard": c.ChildHeard.HEARD,
}
WAIT = 15.0


async def _parents_consent(system: System, clock: FixedClock, case_id: uuid.UUID, kind) -> None:
    await system.client.command(
        "consent",
        c.RecordConsent(
            actor=STAFF,
            case_id=case_id,
            kind=kind,
            form="written",
            recorded_by=STAFF.id,
            given_at=clock.now() - timedelta(hours=1),
            **PARENTS,
        ),
    )


async def _may(system: System, case_id: uuid.UUID, action: str) -> c.GateDecision:
    return c.GateDecision.model_validate(
        await system.client.query(
            "consent",
            c.MayQuery(
                actor=STAFF,
                case_id=case_id,
                who=c.GateActor(kind="coordinator", id="review"),
                action=action,
            ),
        )
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_r5_r6_no_coordinator_is_appointed_on_a_parents_consent_after_the_16th_birthday(
    system: System, clock: FixedClock
) -> None:
    """The KE first refused a coordinator (R4); the parents consented. On the 16th birthday,
    before the sweep has marked their consent, the KE grants a coordinator: the gate says the
    parents' consent no longer counts (R6), so no coordinator may be appointed on it (R5)."""
    from tests.helpers import decide, register_coordinator

    clock.set(datetime(2026, 11, 23, 12, tzinfo=OSLO).astimezone(UTC))
    await system.client.command("assignment", register_coordinator())
    case_id = await _case(system, date(2010, 11, 24))  # 16 tomorrow
    await decide(system, case_id, "coordinator", False, by="assignment")
    await _parents_consent(system, clock, case_id, c.ConsentKind.COORDINATOR)
    ev = system.events
    recorded = await ev.wait_until(lambda: ev.matching("consent.consent_recorded", case_id), WAIT)
    await system.settled("assignment", recorded[0])
    assert not ev.matching("assignment.coordinator_appointed", case_id)

    clock.advance(timedelta(days=1))  # 12:00 on the 16th birthday; the sweep has not run
    verdict = await _may(system, case_id, "coordinate")
    assert not verdict.allow and "16th birthday" in verdict.reason
    await decide(system, case_id, "coordinator", True, by="assignment")  # handled when it returns
    view = a.Coordination.model_validate(
        await system.client.query("assignment", a.GetCoordination(actor=STAFF, case_id=case_id))
    )
    assert view.primary_coordinator_id is None and view.episodes == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_r5_r6_no_plan_is_drafted_on_a_parents_ip_consent_after_the_16th_birthday(
    system: System, clock: FixedClock
) -> None:
    """The IP was first refused (R3); the parents consented to IP and coordinator. On the 16th
    birthday, before the sweep has marked their consents, the IP is granted: the gate says the
    parents' IP consent no longer counts (R6), so no plan may be drafted on it (R5)."""
    from tests.helpers import decide, register_coordinator

    clock.set(datetime(2026, 11, 23, 12, tzinfo=OSLO).astimezone(UTC))
    await system.client.command("assignment", register_coordinator())
    case_id = await _case(system, date(2010, 11, 24))  # 16 tomorrow
    await decide(system, case_id, "ip", False, by="planning")
    for kind in (c.ConsentKind.COORDINATOR, c.ConsentKind.IP):
        await _parents_consent(system, clock, case_id, kind)
    ev = system.events
    appointed = await ev.wait_until(
        lambda: ev.matching("assignment.coordinator_appointed", case_id), WAIT
    )
    await system.settled("planning", appointed[0])
    for e in ev.matching("consent.consent_recorded", case_id):
        await system.settled("planning", e)
    assert not ev.matching("planning.plan_created", case_id)

    clock.advance(timedelta(days=1))  # 12:00 on the 16th birthday; the sweep has not run
    verdict = await _may(system, case_id, "create_plan")
    assert not verdict.allow and "16th birthday" in verdict.reason
    await decide(system, case_id, "ip", True, by="planning")  # handled when it returns
    with pytest.raises(RequestFailed) as no_plan:
        await system.client.query("planning", planning.GetPlan(actor=STAFF, case_id=case_id))
    assert no_plan.value.error.code == "not_found"
