"""A report of need crosses from the hospital to a municipality and a receipt comes back
(R17); the same through an outage of the hub."""

from __future__ import annotations

import uuid
from datetime import date

from services.federation.handlers import CONSUMER
from shared.contracts.federation import GetLink, SendNeedReport
from shared.contracts.intake import GetCaseDetail

from .conftest import HOSPITAL, LUND, Federation, staff


async def test_r2_r17_need_report_reaches_the_home_municipality_and_a_receipt_comes_back(
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
            basis="no_objection",
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
    assert view["messages"][0]["basis"] == "no_objection"  # what the hospital stated (R17)

    there = await lund.query("federation", GetLink(actor=staff(LUND), link_id=link_id))
    assert there["case_ref"] == ref
    case = await lund.query("intake", GetCaseDetail(actor=staff(LUND), case_id=there["case_id"]))
    assert case["case_ref"] == ref and case["needs"] == ["ip", "coordinator"]
    (report,) = case["reports"]
    assert report["reporter_kind"] == "hospital"
    assert report["department"] == "Medisinsk avdeling (Sykehuset Innlandet)"
    assert report["expected_discharge"] == "2026-12-04"
    assert report["services"] == ["hjemmesykepleie"]
    assert report["recorded_by"] == f"federation:{HOSPITAL}"
    # Why the hospital could pass it on goes with it, for the municipality's KE to see (R17).
    assert report["basis"] == "no_objection"
    # The hospital coordinator is listed on the link at both organisations (R17).
    for org in (hospital, lund):
        view = await org.query("federation", GetLink(actor=staff(org.code), link_id=link_id))
        assert [(c["org"], c["staff_id"]) for c in view["coordinators"]] == [(HOSPITAL, "hk-1")]
    # Messages from other organisations come in through the kernel's fetch loop, as events do
    # (shared.bus.pull): not through a FastStream pull subscriber, whose idle fetches were
    # logged as errors with a traceback every few seconds.
    ctx = lund.host.contexts["federation"]
    assert CONSUMER in {c.durable for c in ctx.pull_consumers}
