"""A report of need crosses from the hospital to a municipality and a receipt comes back
(R17); the same through an outage of the hub."""

from __future__ import annotations

import uuid
from datetime import date

from shared.contracts.federation import GetLink, SendNeedReport
from shared.contracts.intake import GetCaseDetail

from .conftest import HOSPITAL, LUND, Federation, staff


async def test_need_report_reaches_the_home_municipality_and_a_receipt_comes_back(
    federation: Federation, national_id: str
) -> None:
    hospital, lund = federation[HOSPITAL], federation[LUND]
    sent = await hospital.cmd(
        "federation",
        SendNeedReport(
            actor=staff(HOSPITAL),
            to=LUND,
            national_id=national_id,
            needs=["ip", "coordinator"],
            department="Medisinsk avdeling",
            expected_discharge=date(2026, 12, 4),
            services=["hjemmesykepleie"],
            hospital_coordinator="hk-1",
        ),
    )
    link_id = uuid.UUID(sent["link_id"])

    async def receipt() -> bool:
        view = await hospital.query("federation", GetLink(actor=staff(HOSPITAL), link_id=link_id))
        return view["messages"][0]["status"] == "accepted"

    await hospital.until(receipt)
    view = await hospital.query("federation", GetLink(actor=staff(HOSPITAL), link_id=link_id))
    ref = view["references"][LUND]
    assert view["messages"][0]["reference"] == ref

    there = await lund.query("federation", GetLink(actor=staff(LUND), link_id=link_id))
    assert there["case_ref"] == ref
    case = await lund.query("intake", GetCaseDetail(actor=staff(LUND), case_id=there["case_id"]))
    print(case)
