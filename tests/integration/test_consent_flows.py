"""Consent end to end across services on a real nats-server, SQLite and PostgreSQL (R5-R8):
the gate really denies, the plan really freezes, 16th birthdays are found on the clock."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from shared.client import RequestFailed
from shared.clock import OSLO, FixedClock
from shared.contracts import consent as c
from shared.contracts import intake, planning
from tests.conftest import System
from tests.helpers import (
    STAFF,
    decide,
    national_id,
    oslo_today,
    register_coordinator,
    report_need,
)

pytestmark = pytest.mark.nats
WAIT = 15.0
PROVIDER = c.GateActor(kind="provider", id="hjemmesykepleien")
HEALTH, MEASURES = c.LifeArea.HEALTH_CARE, c.ContentKind.MEASURES


async def consent(
    system: System, case_id: uuid.UUID, kind: c.ConsentKind, clock: FixedClock | None = None, **kw
) -> uuid.UUID:
    now = clock.now() if clock else datetime.now(UTC)
    body = {
        "actor": STAFF,
        "case_id": case_id,
        "kind": kind,
        "given_by": c.GivenBy(role=c.GiverRole.PERSON),
        "form": "written",
        "recorded_by": STAFF.id,
        "given_at": now - timedelta(hours=1),
        **kw,
    }
    result = await system.client.command("consent", c.RecordConsent(**body))
    return uuid.UUID(result["consent_id"])


async def gate(
    system: System, case_id: uuid.UUID, who: c.GateActor = PROVIDER, action: str = "read_plan", **kw
) -> c.GateDecision:
    return c.GateDecision.model_validate(
        await system.client.query(
            "consent", c.MayQuery(actor=STAFF, case_id=case_id, who=who, action=action, **kw)
        )
    )


async def case_with_plan(
    system: System,
    clock: FixedClock | None = None,
    birth: date | None = None,
    parents: bool = False,
    staff_id: str | None = None,
    barnevern: bool = False,
) -> uuid.UUID:
    await system.client.command("assignment", register_coordinator(staff_id))
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need(national_id=national_id(birth)))
    )
    givers = (
        {
            "given_by": c.GivenBy(role=c.GiverRole.PARENT),
            "also_given_by": c.GivenBy(role=c.GiverRole.PARENT),
            "parental_responsibility": "both",
            "child_heard": c.ChildHeard.HEARD,  # R6: from 12 the child is heard
        }
        if parents
        else {"given_by": c.GivenBy(role=c.GiverRole.BARNEVERN), "child_heard": c.ChildHeard.HEARD}
        if barnevern
        else {}
    )
    for kind in (c.ConsentKind.COORDINATOR, c.ConsentKind.IP):
        await consent(system, report.case_id, kind, clock, **givers)
    ev = system.events
    await ev.wait_until(lambda: ev.matching("planning.plan_created", report.case_id), WAIT)
    return report.case_id


async def view_plan(
    system: System, case_id: uuid.UUID, who: c.GateActor = PROVIDER, **kw
) -> planning.PlanAccess:
    return planning.PlanAccess.model_validate(
        await system.client.query(
            "planning", planning.ViewPlan(actor=STAFF, case_id=case_id, who=who, **kw)
        )
    )


@pytest.mark.parametrize(
    ("today", "birth"),
    [
        (datetime(2026, 11, 23, 12, tzinfo=OSLO), date(2010, 11, 24)),
        (datetime(2028, 2, 28, 12, tzinfo=OSLO), date(2012, 2, 29)),  # a 29 February birth
    ],
    ids=["ordinary", "29-february"],
)
async def test_r6_parents_consent_lapses_at_16_and_the_gate_says_no_until_renewed(
    system: System, clock: FixedClock, today: datetime, birth: date
) -> None:
    clock.set(today.astimezone(UTC))
    case_id = await case_with_plan(system, clock, birth, parents=True)
    assert (await gate(system, case_id, action="create_plan")).allow
    swept = c.SweepResult.model_validate(
        await system.client.command("consent", c.SweepConsents(actor=STAFF))
    )
    assert swept.renewal_needed == []  # the day before the 16th birthday
    clock.advance(timedelta(days=1))
    # The birthday has begun and the sweep has not run yet: the gate says no all the same.
    early = await gate(system, case_id, action="create_plan")
    assert not early.allow and "16th birthday" in early.reason
    swept = c.SweepResult.model_validate(
        await system.client.command("consent", c.SweepConsents(actor=STAFF))
    )
    assert len(swept.renewal_needed) == 2  # IP and coordinator consent, both from parents
    verdict = await gate(system, case_id, action="create_plan")
    assert not verdict.allow
    assert "16th birthday" in verdict.reason
    ev = system.events
    await ev.wait_until(lambda: ev.matching("planning.plan_frozen", case_id), WAIT)
    await ev.wait_until(lambda: ev.matching("assignment.coordination_stopped", case_id), WAIT)
    told = await ev.wait_until(
        lambda: (
            {e.payload["kind"] for e in ev.matching("notifications.notification_created", case_id)}
            >= {"consent_renewal_coordinator", "consent_renewal_person"}
        ),
        WAIT,
    )
    assert told
    # The young person renews: the plan thaws.
    await consent(system, case_id, c.ConsentKind.IP, clock)
    await ev.wait_until(lambda: ev.matching("planning.plan_unfrozen", case_id), WAIT)
    assert (await gate(system, case_id, action="create_plan")).allow


async def test_r6_a_child_of_12_or_over_is_heard_before_the_parents_consent(
    system: System, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 11, 23, 12, tzinfo=OSLO).astimezone(UTC))
    report = intake.ReportNeedResult.model_validate(
        await system.client.command(
            "intake",
            report_need(national_id=national_id(date(2013, 5, 2))),  # 13 years old
        )
    )
    parents = {
        "given_by": c.GivenBy(role=c.GiverRole.PARENT),
        "parental_responsibility": "one",
    }
    with pytest.raises(RequestFailed) as info:
        await consent(system, report.case_id, c.ConsentKind.IP, clock, **parents)
    error = info.value.error
    assert error.code == "rule_violation"
    assert [(f.field, "12 or over" in f.reason) for f in error.fields] == [("child_heard", True)]
    # The young person's own "heard" on a consent they give themself is refused too.
    with pytest.raises(RequestFailed) as info:
        await consent(
            system, report.case_id, c.ConsentKind.IP, clock, child_heard=c.ChildHeard.HEARD
        )
    assert "child_heard" in {f.field for f in info.value.error.fields}
    consent_id = await consent(
        system,
        report.case_id,
        c.ConsentKind.IP,
        clock,
        child_heard=c.ChildHeard.DECLINED,
        **parents,
    )
    history = c.ConsentHistory.model_validate(
        await system.client.query("consent", c.ListConsents(actor=STAFF, case_id=report.case_id))
    )
    assert [(v.consent_id, v.child_heard) for v in history.consents] == [
        (consent_id, c.ChildHeard.DECLINED)
    ]


@pytest.mark.parametrize(
    ("starts", "swept_after"),
    [(OSLO, timedelta(hours=9)), (UTC, timedelta(minutes=30))],
    ids=["from-oslo-midnight", "from-utc-midnight-swept-before-it-starts"],
)
async def test_r6_r11_the_young_person_consents_before_16_and_nothing_stops_at_the_birthday(
    system: System, clock: FixedClock, starts, swept_after: timedelta
) -> None:
    """Shortly before turning 16 the young person consents themself, valid from the birthday:
    the parents' consents lapse then, the young person's take over, and the coordinator and the
    plan carry on without a gap (R6, R11). Nobody is asked to renew what was renewed, also when
    the own consent starts at 00:00 UTC (01:00 in Oslo) and the sweep runs before that hour."""
    clock.set(datetime(2026, 11, 13, 12, tzinfo=OSLO).astimezone(UTC))
    birthday = date(2026, 11, 24)  # 16 in eleven days
    case_id = await case_with_plan(system, clock, date(2010, 11, 24), parents=True)
    from_birthday = datetime.combine(birthday, datetime.min.time(), starts)
    for kind in (c.ConsentKind.COORDINATOR, c.ConsentKind.IP):
        await consent(system, case_id, kind, clock, valid_from=from_birthday)
    # A parent's consent from the birthday on is not theirs to give (R6); and an own consent
    # further ahead than the advance limit is judged by today's age.
    parents = {
        "given_by": c.GivenBy(role=c.GiverRole.PARENT),
        "also_given_by": c.GivenBy(role=c.GiverRole.PARENT),
        "parental_responsibility": "both",
    }
    for kw in (
        {**parents, "valid_from": from_birthday},
        {"valid_from": from_birthday + timedelta(days=365)},
    ):
        with pytest.raises(RequestFailed) as refused:
            await consent(system, case_id, c.ConsentKind.IP, clock, **kw)
        assert refused.value.error.fields[0].field == "given_by.role"

    oslo_midnight = datetime.combine(birthday, datetime.min.time(), OSLO).astimezone(UTC)
    clock.set(oslo_midnight + swept_after)
    swept = c.SweepResult.model_validate(
        await system.client.command("consent", c.SweepConsents(actor=STAFF))
    )
    assert (len(swept.renewed), swept.renewal_needed) == (2, [])
    ev = system.events
    if clock.now() < from_birthday:  # R6: the parents' consent ended at midnight; no overlap
        assert not (await gate(system, case_id, action="coordinate")).allow
        # Assignment and planning handle the parents' ends before the own consents start: the
        # coordinator stays and the plan does not freeze for that hour (R6, R11).
        await ev.wait_until(lambda: len(ev.matching("consent.consent_ended", case_id)) == 2, WAIT)
        ended = ev.matching("consent.consent_ended", case_id)
        for e in ended:
            await system.settled("assignment", e)
            await system.settled("planning", e)
        assert not ev.matching("assignment.coordination_stopped", case_id)
        assert not ev.matching("planning.plan_frozen", case_id)
        clock.set(oslo_midnight + timedelta(hours=9))
        started = await _sweep(system)
        assert sorted(started.in_force) == sorted(
            v.consent_id
            for v in (await _history(system, case_id)).consents
            if v.status == "active" and v.valid_from == from_birthday
        )
        await ev.wait_until(
            lambda: len(ev.matching("consent.consent_in_force", case_id)) == 2, WAIT
        )
        in_force = ev.matching("consent.consent_in_force", case_id)
        for e in in_force:
            await system.settled("assignment", e)
            await system.settled("planning", e)
    with pytest.raises(RequestFailed) as nothing:  # a lapsed consent: nothing to withdraw
        await system.client.command(
            "consent",
            c.WithdrawConsent(
                actor=STAFF, consent_id=swept.renewed[0], form="oral", recorded_by=STAFF.id
            ),
        )
    assert nothing.value.error.code == "rule_violation"
    assert "took over" in nothing.value.error.fields[0].reason
    assert (await gate(system, case_id, action="create_plan")).allow
    assert (await gate(system, case_id, action="coordinate")).allow
    ended = await ev.wait_until(lambda: ev.matching("consent.consent_ended", case_id), WAIT)
    for e in ended:
        await system.settled("assignment", e)
        await system.settled("planning", e)
    assert not ev.matching("assignment.coordination_stopped", case_id)
    assert not ev.matching("planning.plan_frozen", case_id)
    head = planning.PlanView.model_validate(
        await system.client.query("planning", planning.GetPlan(actor=STAFF, case_id=case_id))
    )
    assert head.status == "draft"


async def test_r6_r7_an_own_consent_withdrawn_in_the_hour_before_it_starts_stops_coordination(
    system: System, clock: FixedClock
) -> None:
    """The parents' consents lapsed at the 16th birthday and the young person's own, from
    00:00 UTC (01:00 in Oslo), took over (R6). Withdrawn in that hour before it started, it
    never carries anything: coordination stops and the plan freezes (R7)."""
    clock.set(datetime(2026, 11, 13, 12, tzinfo=OSLO).astimezone(UTC))
    birthday = date(2026, 11, 24)
    case_id = await case_with_plan(system, clock, date(2010, 11, 24), parents=True)
    from_birthday = datetime.combine(birthday, datetime.min.time(), UTC)
    own = [
        await consent(system, case_id, kind, clock, valid_from=from_birthday)
        for kind in (c.ConsentKind.COORDINATOR, c.ConsentKind.IP)
    ]
    clock.set(datetime.combine(birthday, datetime.min.time(), OSLO).astimezone(UTC))
    clock.advance(timedelta(minutes=30))
    assert len((await _sweep(system)).renewed) == 2
    ev = system.events
    await ev.wait_until(lambda: len(ev.matching("consent.consent_ended", case_id)) == 2, WAIT)
    for e in ev.matching("consent.consent_ended", case_id):
        await system.settled("assignment", e)
        await system.settled("planning", e)
    assert not ev.matching("assignment.coordination_stopped", case_id)
    for consent_id in own:
        await system.client.command(
            "consent",
            c.WithdrawConsent(actor=STAFF, consent_id=consent_id, form="oral", recorded_by="ung"),
        )
    stopped = await ev.wait_until(
        lambda: ev.matching("assignment.coordination_stopped", case_id), WAIT
    )
    assert stopped[0].payload["cause"] == "consent withdrawn"
    await ev.wait_until(lambda: ev.matching("planning.plan_frozen", case_id), WAIT)
    assert not (await gate(system, case_id, action="coordinate")).allow


async def _history(system: System, case_id: uuid.UUID) -> c.ConsentHistory:
    return c.ConsentHistory.model_validate(
        await system.client.query("consent", c.ListConsents(actor=STAFF, case_id=case_id))
    )


async def _sweep(system: System) -> c.SweepResult:
    return c.SweepResult.model_validate(
        await system.client.command("consent", c.SweepConsents(actor=STAFF))
    )


async def test_r7_a_consent_that_starts_later_does_not_stand_in_for_one_withdrawn_before(
    system: System, clock: FixedClock
) -> None:
    """The young person has consented, valid from their 16th birthday; the parents withdraw
    theirs before it. Until the birthday nothing is in force: coordination stops and the plan
    freezes (R7: nothing is done on a withdrawn consent). From the birthday the young person's
    own consents count: coordination starts again and the plan thaws (R5, R6)."""
    clock.set(datetime(2026, 11, 13, 12, tzinfo=OSLO).astimezone(UTC))
    birthday = date(2026, 11, 24)
    case_id = await case_with_plan(system, clock, date(2010, 11, 24), parents=True)
    parents = [v.consent_id for v in (await _history(system, case_id)).consents]
    from_birthday = datetime.combine(birthday, datetime.min.time(), OSLO)
    for kind in (c.ConsentKind.COORDINATOR, c.ConsentKind.IP):
        await consent(system, case_id, kind, clock, valid_from=from_birthday)
    for consent_id in parents:
        await system.client.command(
            "consent",
            c.WithdrawConsent(
                actor=STAFF, consent_id=consent_id, form="written", recorded_by="mor"
            ),
        )
    ev = system.events
    await ev.wait_until(lambda: ev.matching("planning.plan_frozen", case_id), WAIT)
    await ev.wait_until(lambda: ev.matching("assignment.coordination_stopped", case_id), WAIT)
    verdict = await gate(system, case_id, action="coordinate")
    assert not verdict.allow and "not yet in force" in verdict.reason
    assert (await _sweep(system)).in_force == []  # not yet

    clock.set(datetime.combine(birthday, datetime.min.time(), OSLO).astimezone(UTC))
    clock.advance(timedelta(hours=8))
    swept = await _sweep(system)
    assert len(swept.in_force) == 2 and swept.renewal_needed == []
    assert (await _sweep(system)).in_force == []  # once
    await ev.wait_until(lambda: ev.matching("planning.plan_unfrozen", case_id), WAIT)
    appointed = await ev.wait_until(
        lambda: len(ev.matching("assignment.coordinator_appointed", case_id)) == 2, WAIT
    )
    assert appointed
    history = {v.consent_id: v for v in (await _history(system, case_id)).consents}
    started = [history[i] for i in swept.in_force]
    assert all([h["change"] for h in v.history][-1] == "in_force" for v in started)


async def test_r5_r7_a_consent_that_starts_after_its_case_closed_reopens_nothing(
    system: System, clock: FixedClock
) -> None:
    """A coordinator consent recorded to start in a month; the case closes before then. When
    it starts, it is announced (and in the history), but the closed case gets no coordinator
    and does not go back on the KE's worklist."""
    await system.client.command("assignment", register_coordinator())
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    case_id = report.case_id
    starts = clock.now() + timedelta(days=30)
    await consent(system, case_id, c.ConsentKind.COORDINATOR, clock, valid_from=starts)
    await system.client.command(
        "intake", intake.CloseCase(actor=STAFF, case_id=case_id, reason="moved")
    )
    ev = system.events
    closing = await ev.wait_until(lambda: ev.matching("intake.case_status_changed", case_id), WAIT)
    for e in closing:
        await system.settled("assignment", e)
    clock.set(starts + timedelta(minutes=1))
    started = (await _sweep(system)).in_force
    assert len(started) == 1
    told = await ev.wait_until(lambda: ev.matching("consent.consent_in_force", case_id), WAIT)
    await system.settled("assignment", told[0])
    assert not ev.matching("assignment.coordinator_appointed", case_id)
    assert not ev.matching("assignment.case_awaiting_coordinator", case_id)
    history = {v.consent_id: v for v in (await _history(system, case_id)).consents}
    assert [h["change"] for h in history[started[0]].history] == [
        "recorded",
        "starts_later",
        "in_force",
    ]


async def test_r5_no_plan_is_made_on_an_ip_consent_before_it_starts(
    system: System, clock: FixedClock
) -> None:
    """An IP consent recorded now to start in a month: the gate says it is not yet in force,
    and no plan is drafted until it is (R5: no IP without consent)."""
    await system.client.command("assignment", register_coordinator())
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    case_id = report.case_id
    await consent(system, case_id, c.ConsentKind.COORDINATOR, clock)
    starts = clock.now() + timedelta(days=30)
    ip = await consent(system, case_id, c.ConsentKind.IP, clock, valid_from=starts)
    ev = system.events
    await ev.wait_until(lambda: ev.matching("assignment.coordinator_appointed", case_id), WAIT)
    for e in ev.matching("consent.consent_recorded", case_id):
        await system.settled("planning", e)
    assert not ev.matching("planning.plan_created", case_id)
    with pytest.raises(RequestFailed) as none:
        await system.client.query("planning", planning.GetPlan(actor=STAFF, case_id=case_id))
    assert none.value.error.code == "not_found"

    clock.set(starts + timedelta(minutes=1))
    assert (await _sweep(system)).in_force == [ip]
    await ev.wait_until(lambda: ev.matching("planning.plan_created", case_id), WAIT)


async def test_r6_a_parent_cannot_consent_for_a_16_year_old(system: System) -> None:
    report = intake.ReportNeedResult.model_validate(
        await system.client.command(
            "intake", report_need(national_id=national_id(oslo_today() - timedelta(days=365 * 17)))
        )
    )
    with pytest.raises(RequestFailed) as exc:
        await consent(
            system,
            report.case_id,
            c.ConsentKind.IP,
            given_by=c.GivenBy(role=c.GiverRole.PARENT),
            parental_responsibility="one",
        )
    assert "(R6)" in exc.value.error.fields[0].reason


async def test_r7_withdrawal_freezes_the_plan_the_person_still_sees_it(system: System) -> None:
    case_id = await case_with_plan(system)
    ip = (await gate(system, case_id, action="create_plan")).consent_id
    await consent(
        system,
        case_id,
        c.ConsentKind.SHARING,
        sharing=c.SharingScope(
            recipients=["hjemmesykepleien"], life_areas=[HEALTH], content_kinds=[MEASURES]
        ),
    )
    access = await view_plan(system, case_id, life_area=HEALTH, content_kind=MEASURES)
    assert access.plan.status == "draft"
    await system.client.command(
        "consent", c.WithdrawConsent(actor=STAFF, consent_id=ip, form="oral", recorded_by=STAFF.id)
    )
    ev = system.events
    await ev.wait_until(lambda: ev.matching("planning.plan_frozen", case_id), WAIT)
    with pytest.raises(RequestFailed) as exc:
        await view_plan(system, case_id, life_area=HEALTH, content_kind=MEASURES)
    assert exc.value.error.code == "forbidden"
    assert "withdrawn" in exc.value.error.message
    assert "frozen" in exc.value.error.message
    person = await view_plan(system, case_id, who=c.GateActor(kind="person", id="self"))
    assert person.plan.status == "frozen"
    # R5: declining an IP keeps the coordinator while the coordinator consent stands.
    assert (await gate(system, case_id, action="coordinate")).allow
    assert ev.matching("assignment.coordination_stopped", case_id) == []


async def test_r7_a_provider_sees_only_its_scope_until_the_consent_expires(
    system: System, clock: FixedClock
) -> None:
    case_id = await case_with_plan(system, clock)
    await consent(
        system,
        case_id,
        c.ConsentKind.SHARING,
        clock,
        valid_until=clock.now() + timedelta(days=1),
        sharing=c.SharingScope(
            recipients=["hjemmesykepleien"], life_areas=[HEALTH], content_kinds=[MEASURES]
        ),
    )
    assert (await gate(system, case_id, life_area=HEALTH, content_kind=MEASURES)).allow
    other = await gate(system, case_id, life_area=c.LifeArea.ECONOMY, content_kind=MEASURES)
    assert not other.allow
    nav = await gate(
        system,
        case_id,
        who=c.GateActor(kind="provider", id="nav"),
        life_area=HEALTH,
        content_kind=MEASURES,
    )
    assert not nav.allow
    assert "no sharing consent names nav" in nav.reason
    clock.advance(timedelta(days=2))
    swept = c.SweepResult.model_validate(
        await system.client.command("consent", c.SweepConsents(actor=STAFF))
    )
    assert len(swept.expired) == 1
    expired = await gate(system, case_id, life_area=HEALTH, content_kind=MEASURES)
    assert not expired.allow
    assert "expired" in expired.reason


async def test_r8_next_of_kin_see_what_the_person_allows(system: System) -> None:
    case_id = await case_with_plan(system)
    await consent(
        system,
        case_id,
        c.ConsentKind.NEXT_OF_KIN,
        next_of_kin=c.NextOfKinScope(
            relatives=["mor"], life_areas=[c.LifeArea.LEISURE], content_kinds=[c.ContentKind.GOALS]
        ),
    )
    mor, far = c.GateActor(kind="next_of_kin", id="mor"), c.GateActor(kind="next_of_kin", id="far")
    assert (
        await gate(
            system, case_id, who=mor, life_area=c.LifeArea.LEISURE, content_kind=c.ContentKind.GOALS
        )
    ).allow
    assert not (
        await gate(
            system, case_id, who=far, life_area=c.LifeArea.LEISURE, content_kind=c.ContentKind.GOALS
        )
    ).allow
    assert not (
        await gate(
            system,
            case_id,
            who=mor,
            life_area=c.LifeArea.HEALTH_CARE,
            content_kind=c.ContentKind.GOALS,
        )
    ).allow


async def _consent_rows(system: System) -> int:
    async with system.host.contexts["consent"].uow() as uow:
        return int((await uow.session.exec(text("SELECT count(*) FROM consent_consent"))).one()[0])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"case_id": "unknown"}, "case_id"),
        ({"given_by": {"role": "parent"}, "parental_responsibility": "one"}, "given_by.role"),
        ({"valid_until": "past"}, "valid_until"),
        (
            {
                "kind": "sharing",
                "sharing": {
                    "recipients": ["nav"],
                    "life_areas": ["månen"],
                    "content_kinds": ["goals"],
                },
            },
            "sharing.life_areas.0",
        ),
        ({"kind": "sharing"}, "sharing"),
    ],
)
async def test_r7_bad_consents_are_refused_and_store_nothing(system: System, change, field) -> None:
    import json

    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    before = await _consent_rows(system)
    now = datetime.now(UTC)
    body = {
        "actor": STAFF.model_dump(),
        "case_id": str(report.case_id),
        "kind": "ip",
        "given_by": {"role": "person"},
        "form": "oral",
        "recorded_by": STAFF.id,
        "given_at": (now - timedelta(hours=1)).isoformat(),
    }
    body.update(change)
    if body["case_id"] == "unknown":
        body["case_id"] = str(uuid.uuid4())
    if body.get("valid_until") == "past":
        body["valid_until"] = (now - timedelta(days=1)).isoformat()
    msg = await system.nc.request(
        "kenett.testorg.cmd.consent.record", json.dumps(body).encode(), timeout=10
    )
    reply = json.loads(msg.data)
    assert reply["ok"] is False
    assert field in {f["field"] for f in reply["error"]["fields"]}, reply["error"]
    assert await _consent_rows(system) == before


async def test_r7_the_full_history_is_kept_and_cannot_be_rewritten(system: System) -> None:
    case_id = await case_with_plan(system)
    ip = (await gate(system, case_id, action="create_plan")).consent_id
    await system.client.command(
        "consent",
        c.WithdrawConsent(actor=STAFF, consent_id=ip, form="written", recorded_by="koordinator-1"),
    )
    history = c.ConsentHistory.model_validate(
        await system.client.query("consent", c.ListConsents(actor=STAFF, case_id=case_id))
    )
    ip_view = next(v for v in history.consents if v.consent_id == ip)
    assert ip_view.status == "withdrawn"
    assert [h["change"] for h in ip_view.history] == ["recorded", "withdrawn"]
    assert ip_view.history[1]["by"] == "koordinator-1"
    with pytest.raises(RequestFailed) as exc:
        await system.client.command(
            "consent",
            c.WithdrawConsent(actor=STAFF, consent_id=ip, form="oral", recorded_by=STAFF.id),
        )
    assert "already withdrawn" in exc.value.error.fields[0].reason
    async with system.host.contexts["consent"].uow() as uow:
        with pytest.raises(Exception, match="append-only"):
            await uow.session.exec(text("DELETE FROM consent_change"))


async def test_consents_export_as_valid_fhir_r4_consent_resources(system: System) -> None:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.consent import Consent

    case_id = await case_with_plan(system)
    await consent(
        system,
        case_id,
        c.ConsentKind.SHARING,
        sharing=c.SharingScope(
            recipients=["hjemmesykepleien", "fastlegen"],
            life_areas=[HEALTH],
            content_kinds=[MEASURES],
        ),
        valid_until=datetime.now(UTC) + timedelta(days=90),
    )
    exported = c.FhirBundle.model_validate(
        await system.client.query("consent", c.ExportFhir(actor=STAFF, case_id=case_id))
    )
    bundle = Bundle.model_validate(exported.bundle)
    resources = [Consent.model_validate(e.resource.model_dump()) for e in bundle.entry]
    assert len(resources) == 3
    sharing = next(r for r in resources if r.category[0].coding[0].code == "sharing")
    assert sharing.status == "active"
    assert {a.reference.display for a in sharing.provision.actor} == {
        "hjemmesykepleien",
        "fastlegen",
    }
    assert sharing.provision.period.end is not None
    assert "EpisodeOfCare/" in sharing.patient.reference


async def _intake_trail(system: System, case_id: uuid.UUID) -> list[tuple[str, str]]:
    async with system.host.contexts["intake"].uow() as uow:
        return [(a.action, a.actor_id) for a in await uow.audit_trail(case_id)]


@pytest.mark.kenett_settings(projection_wait_s=5)
async def test_r5_a_consent_recorded_as_the_case_opens_waits_for_the_case_not_for_intake(
    system: System,
) -> None:
    """Consent hears of a case through ``intake.case_opened``; a consent recorded the moment
    the case is reported waits for that event (woken by its commit, well inside the patience)
    instead of asking intake for the case."""
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    for kind in (c.ConsentKind.COORDINATOR, c.ConsentKind.IP):
        await consent(system, report.case_id, kind)
    assert await _intake_trail(system, report.case_id) == [("intake.report_need", STAFF.id)]


@pytest.mark.kenett_settings(projection_wait_s=0.2)
async def test_r5_when_the_case_does_not_come_consent_asks_intake_for_it(system: System) -> None:
    """Without consent's consumer of ``case_opened`` the case never reaches its projection:
    after its patience, consent asks intake (an audited read), and records the consent."""
    await system.host.js.delete_consumer("KENETT_EVENTS", "consent-case-opened")
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    await consent(system, report.case_id, c.ConsentKind.IP)
    async with system.host.contexts["consent"].uow() as uow:
        assert [a.action for a in await uow.audit_trail(report.case_id)] == ["consent.record"]
    assert await _intake_trail(system, report.case_id) == [
        ("intake.report_need", STAFF.id),
        ("intake.get_case", "consent"),
    ]


@pytest.mark.parametrize("plan_before", [False, True], ids=["no-plan-yet", "plan-frozen"])
async def test_r5_r6_the_plan_waits_for_the_young_persons_own_consent_to_start(
    system: System, clock: FixedClock, plan_before: bool
) -> None:
    """The parents' IP consent lapsed at the 16th birthday, and the young person's own takes
    over from 00:00 UTC (01:00 in Oslo), R6. An IP granted in that hour (after an appeal, say)
    drafts no plan yet, and does not thaw one frozen by the refusal: no consent is in force
    (R5). When the own consent starts, the plan follows (or thaws)."""
    clock.set(datetime(2026, 11, 13, 12, tzinfo=OSLO).astimezone(UTC))
    birthday = date(2026, 11, 24)
    await system.client.command("assignment", register_coordinator())
    report = intake.ReportNeedResult.model_validate(
        await system.client.command(
            "intake", report_need(national_id=national_id(date(2010, 11, 24)))
        )
    )
    case_id = report.case_id
    if not plan_before:
        await decide(system, case_id, "ip", False, by="planning")  # R3: refused, so no plan
    parents = {
        "given_by": c.GivenBy(role=c.GiverRole.PARENT),
        "also_given_by": c.GivenBy(role=c.GiverRole.PARENT),
        "parental_responsibility": "both",
        "child_heard": c.ChildHeard.HEARD,
    }
    for kind in (c.ConsentKind.COORDINATOR, c.ConsentKind.IP):
        await consent(system, case_id, kind, clock, **parents)
    ev = system.events
    appointed = await ev.wait_until(
        lambda: ev.matching("assignment.coordinator_appointed", case_id), WAIT
    )
    await system.settled("planning", appointed[0])
    if plan_before:
        await ev.wait_until(lambda: ev.matching("planning.plan_created", case_id), WAIT)
        await decide(system, case_id, "ip", False, by="planning")  # R3: the plan freezes
        await ev.wait_until(lambda: ev.matching("planning.plan_frozen", case_id), WAIT)
    from_birthday = datetime.combine(birthday, datetime.min.time(), UTC)
    for kind in (c.ConsentKind.COORDINATOR, c.ConsentKind.IP):
        await consent(system, case_id, kind, clock, valid_from=from_birthday)
    for e in ev.matching("consent.consent_recorded", case_id):
        await system.settled("planning", e)

    clock.set(datetime.combine(birthday, datetime.min.time(), OSLO).astimezone(UTC))
    clock.advance(timedelta(minutes=30))  # 00:30 in Oslo: the own consents start at 01:00
    assert len((await _sweep(system)).renewed) == 2
    await ev.wait_until(lambda: len(ev.matching("consent.consent_ended", case_id)) == 2, WAIT)
    for e in ev.matching("consent.consent_ended", case_id):
        await system.settled("planning", e)
    assert not (await gate(system, case_id, action="create_plan")).allow
    await decide(system, case_id, "ip", True, by="planning")
    if plan_before:
        head = planning.PlanView.model_validate(
            await system.client.query("planning", planning.GetPlan(actor=STAFF, case_id=case_id))
        )
        assert head.status == "frozen"
        assert not ev.matching("planning.plan_unfrozen", case_id)
    else:
        with pytest.raises(RequestFailed) as none:
            await system.client.query("planning", planning.GetPlan(actor=STAFF, case_id=case_id))
        assert none.value.error.code == "not_found"
        assert not ev.matching("planning.plan_created", case_id)

    clock.set(from_birthday + timedelta(minutes=5))
    assert len((await _sweep(system)).in_force) == 2
    if plan_before:
        await ev.wait_until(lambda: ev.matching("planning.plan_unfrozen", case_id), WAIT)
    else:
        await ev.wait_until(lambda: ev.matching("planning.plan_created", case_id), WAIT)
    assert len(ev.matching("planning.plan_created", case_id)) == 1
