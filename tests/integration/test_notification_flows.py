"""Notifications end to end on a real nats-server, SQLite and PostgreSQL: who is told what,
reminders on a fake clock (R3, R6, R10-R13, R16), read state and escalation."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from shared.client import RequestFailed
from shared.clock import OSLO, FixedClock, local_today
from shared.contracts import assignment as a
from shared.contracts import consent as c
from shared.contracts import intake
from shared.contracts import notifications as n
from shared.contracts import planning as p
from shared.contracts.envelope import Actor, Envelope
from tests.conftest import System
from tests.helpers import STAFF, register_coordinator, report_need
from tests.integration.test_consent_flows import case_with_plan, consent
from tests.integration.test_intake_flows import assessed
from tests.integration.test_planning_flows import HOME_NURSING, coordinator_of, full_content

pytestmark = pytest.mark.nats
WAIT = 15.0
NURSING_INBOX = p.party_inbox("testorg", HOME_NURSING)
KE = n.ke_inbox("testorg")


@pytest.fixture
def clock() -> FixedClock:
    """Daytime in Norway, so that quiet hours (21-07 by default) hold nothing back."""
    return FixedClock(datetime(2026, 11, 23, 10, 0, tzinfo=OSLO))


async def inbox(system: System, recipient: uuid.UUID, **kw: Any) -> n.Inbox:
    return n.Inbox.model_validate(
        await system.client.query(
            "notifications", n.ListInbox(actor=STAFF, recipient_id=recipient, **kw)
        )
    )


def kinds(box: n.Inbox) -> list[str]:
    return sorted(x.kind for x in box.notifications)


async def sweep(system: System) -> n.SweepResult:
    return n.SweepResult.model_validate(
        await system.client.command("notifications", n.SweepNotifications(actor=STAFF))
    )


async def reminders(system: System, case_id: uuid.UUID) -> list[n.ReminderView]:
    return n.Reminders.model_validate(
        await system.client.query("notifications", n.ListReminders(actor=STAFF, case_id=case_id))
    ).reminders


async def handled(system: System, type_: str, case_id: uuid.UUID | None, **payload: Any) -> Any:
    """The event, once notifications has handled it."""
    ev = system.events
    found = await ev.wait_until(lambda: ev.matching(type_, case_id, **payload), WAIT)
    await system.settled("notifications", found[-1])
    return found[-1]


async def set_policy(system: System, **kw: Any) -> None:
    await system.client.command("notifications", n.SetPolicy(actor=STAFF, policy=n.Policy(**kw)))


async def test_r16_evaluation_dates_and_measure_deadlines_remind_on_the_clock(
    system: System, clock: FixedClock
) -> None:
    today = local_today(clock)
    case_id = await case_with_plan(system, clock)
    by = await coordinator_of(system, case_id)
    await system.client.command(
        "planning",
        p.SavePlan(
            actor=STAFF, case_id=case_id, expected_version=1, by=by, content=full_content(today)
        ),
    )
    await handled(system, "planning.schedule_changed", case_id)
    on_clock = {(r.kind, r.item_id) for r in await reminders(system, case_id) if r.active}
    assert on_clock == {
        ("evaluation", "G1"),  # goal, in 30 days
        ("evaluation", "M9"),  # home nursing, in 14 days
        ("measure_deadline", "M9"),  # in 90 days, home nursing responsible (R16)
        ("revision", f"REV-{today + timedelta(days=180)}"),  # the plan's revision (R14 p. 7)
    }
    coordinator = uuid.UUID(by.id)

    assert (await sweep(system)).reminders == 0  # 14 days away; the lead is 7
    await set_policy(system, lead_times=n.LeadTimes(evaluation_days=14))  # per org
    assert (await sweep(system)).reminders == 1
    box = await inbox(system, coordinator)
    due = [x for x in box.notifications if x.kind == "evaluation_due"]
    assert len(due) == 1 and due[0].case_id == case_id
    assert "skal evalueres innen" in due[0].text
    assert (await sweep(system)).reminders == 0  # once

    clock.advance(timedelta(days=91))  # past the deadline; G1's date passed unannounced
    assert (await sweep(system)).reminders == 2
    assert "measure_deadline_passed" in kinds(await inbox(system, coordinator))
    nursing = await inbox(system, NURSING_INBOX)
    assert kinds(nursing) == ["measure_deadline_passed"]  # the responsible service (R16)
    assert (await sweep(system)).reminders == 0
    clock.advance(timedelta(days=80))  # 9 days before the revision date; the lead is 14
    assert (await sweep(system)).reminders == 1
    revise = [
        x for x in (await inbox(system, coordinator)).notifications if x.kind == "revision_due"
    ]
    assert len(revise) == 1 and "skal revideres innen" in revise[0].text
    # The plan closes: nothing more is on its clock.
    await system.client.command(
        "planning",
        p.ChangePlanStatus(
            actor=STAFF,
            case_id=case_id,
            expected_version=2,
            by=by,
            to="closed",
            close_reason=p.CloseReason.GOALS_REACHED,
        ),
    )
    await handled(system, "planning.schedule_changed", case_id, items=[])
    assert not [r for r in await reminders(system, case_id) if r.active]


async def test_r13_r8_meeting_notices_reach_members_the_person_and_permitted_relatives(
    system: System, clock: FixedClock
) -> None:
    case_id = await case_with_plan(system, clock)
    scope = c.NextOfKinScope(
        relatives=["mor"], life_areas=[c.LifeArea.HEALTH_CARE], content_kinds=[c.ContentKind.GOALS]
    )
    await consent(system, case_id, c.ConsentKind.NEXT_OF_KIN, clock, next_of_kin=scope)
    for relative in ("mor", "far"):  # both registered; only mor is in the consent
        await system.client.command(
            "notifications",
            n.SetPreferences(
                actor=STAFF,
                recipient=n.RecipientRef(kind="next_of_kin", case_id=case_id, relative=relative),
            ),
        )
    await system.client.command(
        "planning", p.AddMember(actor=STAFF, case_id=case_id, party=HOME_NURSING, role="sykepleier")
    )
    at = clock.now() + timedelta(days=3)
    meeting = p.GroupChanged.model_validate(
        await system.client.command(
            "planning",
            p.ScheduleMeeting(
                actor=STAFF, case_id=case_id, at=at, place="Rådhuset", agenda=["Skole"]
            ),
        )
    ).id
    await handled(system, "planning.meeting_scheduled", case_id)
    mor = n.next_of_kin_inbox("testorg", case_id, "mor")
    far = n.next_of_kin_inbox("testorg", case_id, "far")
    person = n.person_inbox(case_id)
    coordinator = uuid.UUID((await coordinator_of(system, case_id)).id)
    for who in (coordinator, NURSING_INBOX, person, mor):
        assert kinds(await inbox(system, who)).count("meeting_scheduled") == 1, who
    assert (await inbox(system, far)).notifications == []  # no consent names far (R8)
    text = (await inbox(system, person)).notifications[0].text
    assert "Rådhuset" not in text and "Skole" not in text  # where and what stay in kenett

    clock.advance(timedelta(days=2, hours=1))  # within 24 hours of the meeting
    assert (await sweep(system)).reminders == 4
    for who in (coordinator, NURSING_INBOX, person, mor):
        assert "meeting_reminder" in kinds(await inbox(system, who))
    assert (await inbox(system, far)).notifications == []

    await system.client.command(
        "planning",
        p.CancelMeeting(actor=STAFF, case_id=case_id, meeting_id=meeting, reason="Syk"),
    )
    await handled(system, "planning.meeting_cancelled", case_id)
    for who in (coordinator, NURSING_INBOX, person, mor):
        assert "meeting_cancelled" in kinds(await inbox(system, who))


async def test_r6_parents_consent_needs_renewal_before_the_16th_birthday(
    system: System, clock: FixedClock
) -> None:
    today = local_today(clock)
    birthday = today + timedelta(days=20)
    birth = birthday.replace(year=birthday.year - 16)
    case_id = await case_with_plan(system, clock, birth=birth, parents=True)
    sixteen = [r for r in await reminders(system, case_id) if r.kind == "consent_renewal"]
    assert len(sixteen) == 1 and sixteen[0].due_at.astimezone(OSLO).date() == birthday
    adult = await case_with_plan(system, clock)
    assert not [r for r in await reminders(system, adult) if r.kind == "consent_renewal"]

    assert (await sweep(system)).reminders == 2  # 20 days ahead; the lead is 30
    coordinator = uuid.UUID((await coordinator_of(system, case_id)).id)
    told = [
        x
        for x in (await inbox(system, coordinator)).notifications
        if x.kind == "consent_renewal_due"
    ]
    assert len(told) == 1 and "fyller 16" in told[0].text
    assert "consent_renewal_due" in kinds(await inbox(system, n.person_inbox(case_id)))
    assert (await sweep(system)).reminders == 0


async def test_r6_barnevernets_consent_needs_renewal_before_the_16th_birthday_too(
    system: System, clock: FixedClock
) -> None:
    """Barnevernet consents where it has taken over care; that consent, like the parents',
    lapses at 16 (R6), so the renewal is due before the birthday as well."""
    birthday = local_today(clock) + timedelta(days=20)
    birth = birthday.replace(year=birthday.year - 16)
    case_id = await case_with_plan(system, clock, birth=birth, barnevern=True)
    sixteen = [r for r in await reminders(system, case_id) if r.kind == "consent_renewal"]
    assert len(sixteen) == 1 and sixteen[0].due_at.astimezone(OSLO).date() == birthday
    assert (await sweep(system)).reminders == 2  # 20 days ahead; the lead is 30
    coordinator = uuid.UUID((await coordinator_of(system, case_id)).id)
    assert "consent_renewal_due" in kinds(await inbox(system, coordinator))
    assert "consent_renewal_due" in kinds(await inbox(system, n.person_inbox(case_id)))


@pytest.mark.kenett_settings(auto_appoint=False)
async def test_r11_r18_unread_important_notices_come_a_page_at_a_time_oldest_first(
    system: System, clock: FixedClock
) -> None:
    """The KE's follow-up list of important notices nobody has read is paged, with the count
    of them all: it was cut at 500 without a word, so a backlog beyond that was invisible."""
    cases = []
    for _ in range(3):
        report = intake.ReportNeedResult.model_validate(
            await system.client.command("intake", report_need())
        )
        await consent(system, report.case_id, c.ConsentKind.COORDINATOR, clock)
        await handled(system, "assignment.case_awaiting_coordinator", report.case_id)
        cases.append(report.case_id)
        clock.advance(timedelta(minutes=5))

    async def page(**kw: Any) -> n.UnreadImportant:
        return n.UnreadImportant.model_validate(
            await system.client.query(
                "notifications", n.ListUnreadImportant(actor=STAFF, older_than_hours=0, **kw)
            )
        )

    first = await page(limit=2)
    assert (len(first.notices), first.total, first.next_offset) == (2, 3, 2)
    rest = await page(limit=2, offset=2)
    assert (len(rest.notices), rest.total, rest.next_offset) == (1, 3, None)
    assert [u.case_id for u in first.notices + rest.notices] == cases  # oldest first
    assert {u.kind for u in first.notices + rest.notices} == {"case_needs_coordinator"}
    assert (await page(offset=3)).notices == [] and (await page(offset=3)).total == 3
    # Not yet old enough: none on the list, and the count says so too.
    young = n.UnreadImportant.model_validate(
        await system.client.query(
            "notifications", n.ListUnreadImportant(actor=STAFF, older_than_hours=1)
        )
    )
    assert (young.notices, young.total, young.next_offset) == ([], 0, None)


@pytest.mark.kenett_settings(auto_appoint=False)
async def test_r11_a_case_without_coordinator_is_told_reminded_and_escalated_until_read(
    system: System, clock: FixedClock
) -> None:
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    await consent(system, report.case_id, c.ConsentKind.COORDINATOR, clock)
    await handled(system, "assignment.case_awaiting_coordinator", report.case_id)
    first = await inbox(system, KE)
    assert kinds(first) == ["case_needs_coordinator"] and first.notifications[0].important

    clock.advance(timedelta(days=3, minutes=1))
    result = await sweep(system)
    assert result.reminders == 1 and result.escalated == 1  # the first notice, unread > 24 h
    box = await inbox(system, KE)
    assert kinds(box) == [
        "case_needs_coordinator",
        "case_still_without_coordinator",
        "unread_escalation",
    ]
    ev = system.events
    await ev.wait_until(lambda: ev.matching("notifications.notice_escalated", report.case_id), WAIT)
    unread = n.UnreadImportant.model_validate(
        await system.client.query(
            "notifications", n.ListUnreadImportant(actor=STAFF, older_than_hours=1)
        )
    )
    assert [u.kind for u in unread.notices] == ["case_needs_coordinator"]
    assert unread.notices[0].escalated_at is not None and unread.notices[0].hours_unread >= 72

    marked = n.MarkReadResult.model_validate(
        await system.client.command(
            "notifications",
            n.MarkRead(
                actor=STAFF,
                recipient_id=KE,
                notification_ids=[unread.notices[0].notification_id],
                by="leder-1",
            ),
        )
    )
    assert marked.changed == 1 and marked.unread == 2
    unread = n.UnreadImportant.model_validate(
        await system.client.query(
            "notifications", n.ListUnreadImportant(actor=STAFF, older_than_hours=0)
        )
    )
    assert [u.kind for u in unread.notices] == ["case_still_without_coordinator"]
    assert (await sweep(system)).escalated == 0  # read, or not yet old enough

    # A coordinator is appointed: the case no longer waits, the reminder stops (R11).
    who = uuid.UUID(
        (await system.client.command("assignment", register_coordinator()))["coordinator_id"]
    )
    await system.client.command(
        "assignment", a.AppointCoordinator(actor=STAFF, case_id=report.case_id, coordinator_id=who)
    )
    await handled(system, "assignment.coordinator_appointed", report.case_id)
    assert not [r for r in await reminders(system, report.case_id) if r.active]
    assert kinds(await inbox(system, who)) == ["coordinator_appointed"]


@pytest.mark.kenett_settings(auto_appoint=False)
async def test_r10_r12_over_the_caseload_limit_and_overdue_duties(
    system: System, clock: FixedClock
) -> None:
    who = uuid.UUID(
        (await system.client.command("assignment", register_coordinator(caseload_limit=1)))[
            "coordinator_id"
        ]
    )
    cases = []
    for _ in range(2):
        report = intake.ReportNeedResult.model_validate(
            await system.client.command("intake", report_need())
        )
        await consent(system, report.case_id, c.ConsentKind.COORDINATOR, clock)
        await handled(system, "assignment.case_awaiting_coordinator", report.case_id)
        cases.append(report.case_id)
    await system.client.command(
        "assignment", a.AppointCoordinator(actor=STAFF, case_id=cases[0], coordinator_id=who)
    )
    await system.client.command(
        "assignment",
        a.AppointCoordinator(
            actor=STAFF,
            case_id=cases[1],
            coordinator_id=who,
            override_limit=True,
            override_reason="Personens ønske",
        ),
    )
    await handled(system, "assignment.coordinator_over_limit", None)
    over = [
        x for x in (await inbox(system, KE)).notifications if x.kind == "coordinator_over_limit"
    ]
    assert len(over) == 1 and over[0].important and "(2)" in over[0].text
    assert "coordinator_over_limit" in kinds(await inbox(system, who))

    clock.advance(timedelta(days=31))  # duties after appointment fall due (R12)
    await system.client.command("assignment", a.SweepAssignment(actor=STAFF))
    await handled(system, "assignment.duty_overdue", cases[0], kind="map_children")
    overdue = [x for x in (await inbox(system, who)).notifications if x.kind == "duty_overdue"]
    assert overdue and all(x.important for x in overdue)


async def test_r3_the_ke_is_reminded_of_appeal_deadlines_until_an_appeal_comes(
    system: System, clock: FixedClock
) -> None:
    today = local_today(clock)

    async def decide() -> intake.DecisionResult:
        case_id = await assessed(system)
        return intake.DecisionResult.model_validate(
            await system.client.command(
                "intake",
                intake.MakeDecision(
                    actor=STAFF,
                    case_id=case_id,
                    kind="ip",
                    granted=False,
                    grounds="Behovet er ikke langvarig.",
                    notified_on=today,
                ),
            )
        )

    appealed, final = await decide(), await decide()
    for d in (appealed, final):
        await handled(system, "intake.decision_made", d.case_id)
    assert appealed.appeal_deadline is not None
    clock.set(
        datetime.combine(appealed.appeal_deadline - timedelta(days=6), datetime.min.time(), OSLO)
        + timedelta(hours=10)
    )
    assert (await sweep(system)).reminders == 2
    assert kinds(await inbox(system, KE)).count("appeal_deadline_due") == 2

    appeal = await system.client.command(
        "intake",
        intake.RegisterAppeal(
            actor=STAFF, decision_id=appealed.decision_id, received_on=local_today(clock)
        ),
    )
    assert appeal["in_time"]
    await handled(system, "intake.appeal_registered", appealed.case_id)
    assert "appeal_registered" in kinds(await inbox(system, KE))

    clock.advance(timedelta(days=8))
    assert (await sweep(system)).reminders == 1  # only the decision nobody appealed
    passed = [
        x for x in (await inbox(system, KE)).notifications if x.kind == "appeal_deadline_passed"
    ]
    assert [x.case_id for x in passed] == [final.case_id]


async def test_an_event_for_a_case_notifications_does_not_know_goes_to_the_ke_with_the_reason(
    system: System,
) -> None:
    """Bad input: an evaluation overdue for a case without a known coordinator."""
    case_id = uuid.uuid4()
    event = p.EvaluationOverdue(
        plan_id=uuid.uuid4(),
        case_id=case_id,
        case_ref="2026-999999",
        item_id="M1",
        item_kind="measure",
        due_on=date(2026, 11, 1),
        coordinator_id=uuid.uuid4(),
    )
    env = Envelope.wrap(
        event,
        org="testorg",
        occurred_at=datetime.now(OSLO),
        actor=Actor(kind="service", id="planning"),
        case_id=case_id,
    )
    js = system.nc.jetstream()
    await js.publish(p.EvaluationOverdue.subject("testorg"), env.model_dump_json().encode())
    await system.settled("notifications", env)
    told = [x for x in (await inbox(system, KE)).notifications if x.case_id == case_id]
    assert len(told) == 1 and told[0].kind == "evaluation_overdue"
    assert told[0].problem and "no coordinator known" in told[0].problem


async def _publish(system: System, event: Any, case_id: uuid.UUID, at: datetime) -> Envelope:
    """An event as its service would publish it, occurred at ``at``; once notifications has
    handled it."""
    env = Envelope.wrap(
        event,
        org="testorg",
        occurred_at=at,
        actor=Actor(kind="service", id=event.TYPE.split(".")[0]),
        case_id=case_id,
    )
    await system.nc.jetstream().publish(event.subject("testorg"), env.model_dump_json().encode())
    await system.settled("notifications", env)
    return env


async def test_r4_a_stale_awaiting_event_does_not_undo_a_decision_against_a_coordinator(
    system: System, clock: FixedClock
) -> None:
    """Intake's decisions and assignment's "case awaiting coordinator" reach notifications by
    different streams, in either order. The latest decision counts (R4): an awaiting event
    flagged before assignment knew of a refusal neither tells the KE nor brings the reminder
    back; one flagged after a later grant does, even when it overtakes that grant (R11)."""
    case_id, ref = uuid.uuid4(), "2026-900001"
    now = clock.now()

    def decision(granted: bool) -> intake.DecisionMade:
        return intake.DecisionMade(
            case_id=case_id,
            case_ref=ref,
            decision_id=uuid.uuid4(),
            kind="coordinator",
            granted=granted,
            appeal_deadline=None,
        )

    def awaiting(known: datetime | None) -> a.CaseAwaitingCoordinator:
        return a.CaseAwaitingCoordinator(
            case_id=case_id, case_ref=ref, reason="no capacity", coordinator_decided_at=known
        )

    async def active() -> list[str]:
        return [r.kind for r in await reminders(system, case_id) if r.active]

    async def told() -> list[str]:
        box = await inbox(system, KE)
        return [x.kind for x in box.notifications if x.case_id == case_id]

    await _publish(system, decision(False), case_id, now)
    # Flagged before assignment knew of any decision, delivered after the refusal.
    await _publish(system, awaiting(None), case_id, now - timedelta(minutes=5))
    assert await active() == [] and await told() == []
    # An older grant delivered late changes nothing; nor does an event flagged after it.
    earlier = now - timedelta(minutes=1)
    await _publish(system, decision(True), case_id, earlier)
    await _publish(system, awaiting(earlier), case_id, earlier + timedelta(seconds=1))
    assert await active() == [] and await told() == []

    # A later grant: assignment flags the case, and its event overtakes the grant here.
    later = now + timedelta(minutes=1)
    await _publish(system, awaiting(later), case_id, later + timedelta(seconds=1))
    assert await active() == ["without_coordinator"]
    assert await told() == ["case_needs_coordinator"]
    await _publish(system, decision(True), case_id, later)
    assert await active() == ["without_coordinator"]


async def test_preferences_refuse_bad_addresses_and_unknown_channels_and_keep_what_was_stored(
    system: System,
) -> None:
    who = n.RecipientRef(kind="coordinator", id=uuid.uuid4())
    installed = {
        c.name
        for c in n.Channels.model_validate(
            await system.client.query("notifications", n.ListChannels(actor=STAFF))
        ).channels
    }
    assert "sms" in installed  # e-mail and webhooks need settings (see the channel tests)
    good = n.Preferences.model_validate(
        await system.client.command(
            "notifications",
            n.SetPreferences(
                actor=STAFF, recipient=who, addresses={"sms": "912 34 567"}, channels=["sms"]
            ),
        )
    )
    assert good.addresses == {"sms": "+47***67"} and good.channels == ["sms"]
    for addresses, channels, field in (
        ({"sms": "12"}, ["sms"], "addresses.sms"),
        ({"fax": "123"}, None, "addresses.fax"),
        ({}, ["fax"], "channels.0"),
    ):
        with pytest.raises(RequestFailed) as info:
            await system.client.command(
                "notifications",
                n.SetPreferences(
                    actor=STAFF, recipient=who, addresses=addresses, channels=channels
                ),
            )
        error = info.value.error
        assert error.code == "validation_failed" and error.fields[0].field == field
        assert "12" not in error.fields[0].reason.replace("+47", "")  # the input is not echoed
    kept = n.Preferences.model_validate(
        await system.client.query("notifications", n.GetPreferences(actor=STAFF, recipient=who))
    )
    assert kept == good


@pytest.mark.kenett_settings(auto_appoint=False)
async def test_r11_a_handover_tells_both_coordinators_and_the_person(
    system: System, clock: FixedClock
) -> None:
    old, new = [
        uuid.UUID(
            (await system.client.command("assignment", register_coordinator()))["coordinator_id"]
        )
        for _ in range(2)
    ]
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    await consent(system, report.case_id, c.ConsentKind.COORDINATOR, clock)
    await handled(system, "assignment.case_awaiting_coordinator", report.case_id)
    await system.client.command(
        "assignment", a.AppointCoordinator(actor=STAFF, case_id=report.case_id, coordinator_id=old)
    )
    start = clock.now() + timedelta(days=1)
    handover = a.HandoverResult.model_validate(
        await system.client.command(
            "assignment",
            a.PlanHandover(
                actor=STAFF,
                case_id=report.case_id,
                to_coordinator_id=new,
                overlap_start=start,
                overlap_end=start + timedelta(days=14),
            ),
        )
    )
    await handled(system, "assignment.handover_planned", report.case_id)
    for who in (old, new):
        told = [x for x in (await inbox(system, who)).notifications if x.kind == "handover_planned"]
        assert len(told) == 1 and "overlapp fra" in told[0].text
    person = await inbox(system, n.person_inbox(report.case_id))
    assert kinds(person) == ["new_coordinator_for_person"]
    assert handover.handover_id is not None
    clock.advance(timedelta(days=16))  # the overlap ends
    await system.client.command("assignment", a.SweepAssignment(actor=STAFF))
    await handled(system, "assignment.handover_completed", report.case_id)
    for who in (old, new):
        assert "handover_completed" in kinds(await inbox(system, who))
