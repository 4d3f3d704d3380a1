"""A read of the plan another organisation shared (GetSharedPlan) is in the person's
access log at the organisation that has the case (domain.md: every read is attributable, and
the person can see who accessed their data)."""

from __future__ import annotations

import uuid

import pytest

from shared.contracts import consent as c
from shared.contracts.federation import TransferCase

from .conftest import (
    IVELAND,
    LUND,
    Federation,
    link_view,
    report_from_hospital,
    staff,
    until_receipt,
)
from .test_plan_and_move import HEALTH, municipal_plan, share_consent, shared_with

pytestmark = pytest.mark.kenett_settings(auto_appoint=True)


async def test_reading_a_shared_plan_is_in_the_cases_access_log(
    federation: Federation, national_id: str
) -> None:
    lund, iveland = federation[LUND], federation[IVELAND]
    _link, case_id = await report_from_hospital(federation, national_id)
    await municipal_plan(lund, case_id)
    await share_consent(
        lund, case_id, IVELAND, life_areas=[HEALTH], content_kinds=[c.ContentKind.GOALS]
    )
    sent = await lund.cmd(
        "federation", TransferCase(actor=staff(LUND), case_id=case_id, to=IVELAND)
    )
    link_id = uuid.UUID(sent["link_id"])
    receipt = await until_receipt(lund, link_id, sent["message_id"])
    assert receipt["status"] == "accepted", receipt
    there = await link_view(iveland, link_id)
    iveland_case = uuid.UUID(there["case_id"])

    plan = await shared_with(iveland, link_id)  # the person's goals, read at Iveland
    assert plan["kind"] == "transfer" and plan["plan"]["goals"]

    log = await iveland.client.access_log(staff(IVELAND), iveland_case, services=("federation",))
    reads = [(e.action, e.actor_id) for e in log.entries if e.access == "read"]
    assert ("federation.shared_plan", staff(IVELAND).id) in reads, reads
