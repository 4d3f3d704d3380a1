"""Federation at the edges (R2, R17): a case moves only between municipalities, a sender's
clock ahead of ours loses no report, and an old service code does not stop a move."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from shared.client import RequestFailed
from shared.contracts import consent as c
from shared.contracts.federation import SendNeedReport, TransferCase
from shared.contracts.intake import GetCaseDetail
from tests.helpers import oslo_today

from .conftest import (
    HOSPITAL,
    IVELAND,
    LUND,
    Federation,
    report_from_hospital,
    staff,
    until_receipt,
)
from .test_plan_and_move import HEALTH, municipal_plan, share_consent

pytestmark = pytest.mark.kenett_settings(auto_appoint=True)


async def test_r17_a_case_is_not_moved_to_the_hospital(
    federation: Federation, national_id: str
) -> None:
    """R17: the municipality is responsible for the plan and its coordination; a hospital
    takes part. A "move" of the case to the hospital must be refused: it would close the
    municipality's case (reason moved) and leave the hospital holding the plan."""
    lund = federation[LUND]
    # One time for all (the fixture starts each organisation's clock when it starts it).
    now = max(org.clock.now() for org in federation.orgs.values())
    for org in federation.orgs.values():
        org.clock.set(now)
    _link, case_id = await report_from_hospital(federation, national_id)
    await municipal_plan(lund, case_id)
    # The person lets the hospital see their plan (it takes part in it, R7/R17).
    await share_consent(
        lund,
        case_id,
        HOSPITAL,
        life_areas=[HEALTH],
        content_kinds=[c.ContentKind.MEASURES, c.ContentKind.GOALS],
    )
    with pytest.raises(RequestFailed) as refused:
        await lund.cmd("federation", TransferCase(actor=staff(LUND), case_id=case_id, to=HOSPITAL))
    assert refused.value.error.code == "rule_violation"
    assert [f.field for f in refused.value.error.fields] == ["to"]
    # Nothing moved: Lund's case is still open, and still Lund's.
    d = await lund.query("intake", GetCaseDetail(actor=staff(LUND), case_id=case_id))
    assert d["status"] != "closed", d["closed_reason"]


async def test_r2_r17_a_hospital_clock_a_little_ahead_does_not_lose_the_report(
    federation: Federation, national_id: str
) -> None:
    """R2: a report of need must be recorded. The hospital's send time is used as the
    report's received_at at the municipality; a sender clock a couple of minutes ahead of the
    municipality's must not get the report refused as 'in the future'."""
    hospital = federation[HOSPITAL]
    hospital.clock.advance(timedelta(minutes=2))
    sent = await hospital.cmd(
        "federation",
        SendNeedReport(
            actor=staff(HOSPITAL),
            to=LUND,
            national_id=national_id,
            needs=["ip", "coordinator"],
            department="Medisinsk avdeling",
            hospital_coordinator="hk-1",
            basis="consent",
        ),
    )
    receipt = await until_receipt(hospital, uuid.UUID(sent["link_id"]), sent["message_id"])
    assert receipt["status"] == "accepted", receipt["reason"]


async def test_r2_r17_a_move_is_not_refused_for_a_service_code_of_an_old_report(
    federation: Federation, national_id: str
) -> None:
    """A case whose old reports name a service code no longer in the catalogue (intake skips
    such codes in assessments) must still follow the person who moves: the new municipality's
    intake refuses the whole report if the export carries the unknown code."""
    lund = federation[LUND]
    _link, case_id = await report_from_hospital(
        federation, national_id, services=["hjemmesykepleie", "fysioterapi"]
    )
    async with lund.host.contexts["intake"].uow() as uow:
        await uow.session.exec(
            text("UPDATE intake_report SET services = :s WHERE case_id = :c").bindparams(
                s='["hjemmesykepleie", "fysioterapi", "gammel_tjenestekode"]', c=case_id
            )
        )
        await uow.commit()
    await municipal_plan(lund, case_id)
    await share_consent(
        lund,
        case_id,
        IVELAND,
        life_areas=[HEALTH],
        content_kinds=[c.ContentKind.MEASURES, c.ContentKind.GOALS],
    )
    sent = await lund.cmd(
        "federation",
        TransferCase(
            actor=staff(LUND),
            case_id=case_id,
            to=IVELAND,
            moving_on=oslo_today() + timedelta(days=7),
        ),
    )
    receipt = await until_receipt(lund, uuid.UUID(sent["link_id"]), sent["message_id"])
    assert receipt["status"] == "accepted", receipt["reason"]
