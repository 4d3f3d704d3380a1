"""The person's contact details (mobile number, e-mail) for notices are the person's
data; registering and reading them must be in the case's access log (domain.md)."""

from __future__ import annotations

import pytest

from shared.contracts import intake
from shared.contracts import notifications as n
from shared.contracts.envelope import Actor
from tests.conftest import System
from tests.helpers import STAFF, report_need

pytestmark = pytest.mark.nats
READER = Actor(kind="user", id="ansatt-les")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_persons_contact_details_are_in_the_cases_access_log(system: System) -> None:
    case = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    person = n.RecipientRef(kind="person", case_id=case.case_id)
    await system.client.command(
        "notifications",
        n.SetPreferences(actor=STAFF, recipient=person, addresses={"sms": "+4791234567"}),
    )
    prefs = await system.client.query(
        "notifications", n.GetPreferences(actor=READER, recipient=person)
    )
    assert prefs["addresses"]["sms"]  # the person's number (masked) was read

    log = await system.client.access_log(STAFF, case.case_id, services=("notifications",))
    seen = {(e.action, e.access, e.actor_id) for e in log.entries}
    assert ("notifications.set_preferences", "change", STAFF.id) in seen, seen
    assert ("notifications.preferences", "read", READER.id) in seen, seen
