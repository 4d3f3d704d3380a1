"""Assignment at the edges (R5, R7, R20, case closing): a closed case stays closed, an
appointment rests on the consent the gate found, and no barnekoordinator for an adult."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from services.assignment.handlers import cases
from shared.client import RequestFailed
from shared.clock import FixedClock, local_today
from shared.contracts import assignment as a
from shared.contracts import consent, intake
from tests.conftest import System
from tests.helpers import STAFF, national_id, record_consent, report_need
from tests.integration.test_assignment_flows import _coordination, _register

pytestmark = [pytest.mark.nats]
WAIT = 15.0


async def _reported(system: System, **report: Any) -> uuid.UUID:
    """A reported case, once assignment has handled its case_opened."""
    case = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need(**report))
    )
    ev = system.events
    (opened,) = await ev.wait_until(lambda: ev.matching("intake.case_opened", case.case_id), WAIT)
    await system.settled("assignment", opened)
    return case.case_id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.kenett_settings(auto_appoint=True)
async def test_r10_r18_a_closed_case_is_not_reopened_by_a_coordinator_consent(
    system: System,
) -> None:
    """Intake's closed is final ("report a new need to open a new case"). A coordinator consent
    recorded for the case afterwards (consent accepts it) must not start coordination."""
    await _register(system)
    case_id = await _reported(system)
    await system.client.command(
        "intake", intake.CloseCase(actor=STAFF, case_id=case_id, reason="no_longer_needed")
    )
    ev = system.events
    (closed,) = await ev.wait_until(
        lambda: ev.matching("intake.case_status_changed", case_id, status="closed"), WAIT
    )
    await system.settled("assignment", closed)

    await system.client.command(
        "consent",
        record_consent(
            case_id,
            consent.ConsentKind.COORDINATOR,
            given_at=system.host.clock.now() - timedelta(minutes=5),
        ),
    )
    (recorded,) = await ev.wait_until(
        lambda: ev.matching("consent.consent_recorded", case_id), WAIT
    )
    await system.settled("assignment", recorded)
    view = await _coordination(system, case_id)
    assert not ev.matching("assignment.coordinator_appointed", case_id)
    assert view.episodes == [] and view.primary_coordinator_id is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.kenett_settings(auto_appoint=False)
async def test_r5_r7_appointment_after_consent_withdrawn_while_gate_answer_in_hand(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The KE appoints; the gate answers "in force"; before the appointment's transaction the
    consent is withdrawn and assignment handles the end. The appointment must not then open
    coordination on a consent that has ended (R5, R7)."""
    who = await _register(system)
    case_id = await _reported(system)
    recorded = await system.client.command(
        "consent",
        record_consent(
            case_id,
            consent.ConsentKind.COORDINATOR,
            given_at=system.host.clock.now() - timedelta(minutes=5),
        ),
    )
    ev = system.events
    await ev.wait_until(
        lambda: ev.matching("assignment.case_awaiting_coordinator", case_id, cause="new"), WAIT
    )

    held, release = asyncio.Event(), asyncio.Event()
    real = cases._gate

    async def gate_then_hold(*args: Any, **kw: Any) -> Any:
        answer = await real(*args, **kw)  # "in force"
        held.set()
        await release.wait()
        return answer

    monkeypatch.setattr(cases, "_gate", gate_then_hold)
    appointing = asyncio.create_task(
        system.client.command(
            "assignment", a.AppointCoordinator(actor=STAFF, case_id=case_id, coordinator_id=who)
        )
    )
    try:
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
        (ended,) = await ev.wait_until(lambda: ev.matching("consent.consent_ended", case_id), WAIT)
        await system.settled("assignment", ended)
    finally:
        release.set()
    with contextlib.suppress(RequestFailed):  # refused: what R5/R7 want
        await appointing
    view = await _coordination(system, case_id)
    assert view.episodes == [] and view.primary_coordinator_id is None, view


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.kenett_settings(auto_appoint=True)
async def test_r20_no_barnekoordinator_is_auto_appointed_for_someone_who_turned_18(
    system: System, clock: FixedClock
) -> None:
    """The KE marked the case for a barnekoordinator while the person was 17; when coordinator
    consent comes after the 18th birthday, kenett must not appoint a barnekoordinator (R20),
    as the KE's own appointment (check_kind) and the registration's auto-appointment refuse."""
    await _register(system)
    today = local_today(clock)
    birth = date(today.year - 18, today.month, today.day) + timedelta(days=1)  # 18 tomorrow
    case_id = await _reported(system, national_id=national_id(birth))
    await system.client.command(
        "assignment",
        a.SetCoordinatorNeeds(actor=STAFF, case_id=case_id, kind=a.CoordinatorKind.CHILD),
    )
    clock.advance(timedelta(days=2))
    assert local_today(clock) > birth.replace(year=birth.year + 18)
    await system.client.command(
        "consent",
        record_consent(
            case_id, consent.ConsentKind.COORDINATOR, given_at=clock.now() - timedelta(minutes=5)
        ),
    )
    ev = system.events
    (recorded,) = await ev.wait_until(
        lambda: ev.matching("consent.consent_recorded", case_id), WAIT
    )
    await system.settled("assignment", recorded)
    view = await _coordination(system, case_id)
    assert [e.kind for e in view.episodes if e.kind == "child"] == [], view.episodes
    assert not ev.matching("assignment.coordinator_appointed", case_id, kind="child")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.kenett_settings(auto_appoint=False)
async def test_r7_withdrawal_stops_a_coordination_appointed_before_assignment_heard_of_consent(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The KE appoints as soon as the consent is recorded (the gate says "in force"), before
    assignment's consent-recorded consumer has handled it. The person then withdraws the
    consent: coordination must stop (R7), whatever order assignment hears of it in."""
    who = await _register(system)
    case_id = await _reported(system)
    held, release = asyncio.Event(), asyncio.Event()
    real = cases.coordinator_consent
    calls = 0

    async def first_answer_held(ctx: Any, cid: uuid.UUID) -> consent.GateDecision:
        nonlocal calls
        calls += 1
        answer = await real(ctx, cid)
        if calls == 1:  # consent_recorded's: held, as if that consumer lagged
            held.set()
            await release.wait()
        return answer

    monkeypatch.setattr(cases, "coordinator_consent", first_answer_held)
    try:
        recorded = await system.client.command(
            "consent",
            record_consent(
                case_id,
                consent.ConsentKind.COORDINATOR,
                given_at=system.host.clock.now() - timedelta(minutes=5),
            ),
        )
        await asyncio.wait_for(held.wait(), WAIT)
        await system.client.command(
            "assignment", a.AppointCoordinator(actor=STAFF, case_id=case_id, coordinator_id=who)
        )
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
        (ended,) = await ev.wait_until(lambda: ev.matching("consent.consent_ended", case_id), WAIT)
        await system.settled("assignment", ended)
        release.set()
        (started,) = ev.matching("consent.consent_recorded", case_id)
        await system.settled("assignment", started)
    finally:
        release.set()
    view = await _coordination(system, case_id)
    assert view.primary_coordinator_id is None and view.current == [], view
