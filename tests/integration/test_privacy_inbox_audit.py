"""Reading the person's own inbox (notices about their case) is a read of the person's
data; it must be in the case's access log (domain.md, "Identifiers and data")."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from shared.clock import OSLO, FixedClock
from shared.contracts import assignment as a
from shared.contracts import consent as c
from shared.contracts import intake
from shared.contracts import notifications as n
from shared.contracts.envelope import Actor
from tests.conftest import System
from tests.helpers import STAFF, register_coordinator, report_need
from tests.integration.test_consent_flows import consent
from tests.integration.test_notification_flows import handled

pytestmark = pytest.mark.nats
READER = Actor(kind="user", id="ansatt-les")


@pytest.fixture
def clock() -> FixedClock:
    """Daytime in Norway, as in test_notification_flows."""
    return FixedClock(datetime(2026, 11, 23, 10, 0, tzinfo=OSLO))


@pytest.mark.kenett_settings(auto_appoint=False)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_reading_the_persons_inbox_is_in_the_cases_access_log(
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
    await handled(system, "assignment.handover_planned", report.case_id)
    box = n.Inbox.model_validate(
        await system.client.query(
            "notifications",
            n.ListInbox(actor=READER, recipient_id=n.person_inbox(report.case_id)),
        )
    )
    assert [x.case_id for x in box.notifications] == [report.case_id]  # the person's notice

    log = await system.client.access_log(STAFF, report.case_id, services=("notifications",))
    reads = [(e.action, e.actor_id) for e in log.entries if e.access == "read"]
    assert ("notifications.inbox", READER.id) in reads, reads
