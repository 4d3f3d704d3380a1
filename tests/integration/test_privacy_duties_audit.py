"""A read of duties by coordinator shows each case's R12 mapping (whether the person has
children under 18, whether siblings need follow-up); each case read must be in that case's
access log (domain.md: every read attributable; the person can see who accessed their data)."""

from __future__ import annotations

import pytest

from shared.contracts import assignment as a
from shared.contracts.envelope import Actor
from tests.conftest import System
from tests.helpers import STAFF

from .test_assignment_flows import _appoint, _case_with_consent, _register

pytestmark = [pytest.mark.nats, pytest.mark.kenett_settings(auto_appoint=False)]
READER = Actor(kind="user", id="ansatt-les")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_duties_read_by_coordinator_are_in_each_cases_access_log(system: System) -> None:
    who = await _register(system)
    case_id = await _case_with_consent(system)
    await _appoint(system, case_id, who)
    duties = a.DutyList.model_validate(
        await system.client.query("assignment", a.ListDuties(actor=STAFF, case_id=case_id))
    ).duties
    mapping = next(d for d in duties if d.kind == "map_children")
    found = a.ChildrenMapping(
        minor_children=True, siblings_need_follow_up=False, follow_up_arranged=False
    )
    await system.client.command(
        "assignment", a.CompleteDuty(actor=STAFF, duty_id=mapping.duty_id, children=found)
    )

    listed = a.DutyList.model_validate(
        await system.client.query(
            "assignment", a.ListDuties(actor=READER, coordinator_id=who, open_only=False)
        )
    ).duties
    assert any(d.case_id == case_id and d.children == found for d in listed)  # R12 data read

    log = await system.client.access_log(STAFF, case_id, services=("assignment",))
    reads = [(e.action, e.actor_id) for e in log.entries if e.access == "read"]
    assert ("assignment.duties", READER.id) in reads, reads
