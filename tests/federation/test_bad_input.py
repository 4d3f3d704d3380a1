"""Bad cross-organisation input: a clear reason back to the sender, nothing lost on either side
(R17; architecture.md, Errors)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any, ClassVar

import pytest

from services.federation.store import Incoming, Outgoing
from shared.client import RequestFailed
from shared.contracts import planning as p
from shared.contracts.envelope import Actor
from shared.contracts.federation import ListLinks, ListMessages, SendNeedReport, SweepFederation
from shared.contracts.xorg import HandoverProposal, MeasureUpdate, XPayload
from tests.helpers import oslo_today, register_coordinator

from .conftest import (
    HOSPITAL,
    IVELAND,
    LUND,
    Federation,
    Org,
    link_view,
    report_from_hospital,
    staff,
    until_receipt,
)
from .test_plan_and_move import municipal_plan, share_consent

pytestmark = pytest.mark.kenett_settings(auto_appoint=True)


class HandoverProposalV9(XPayload):
    """A version of the proposal nobody has agreed on (not registered as a contract)."""

    TYPE: ClassVar[str] = "handover_proposal"
    VERSION: ClassVar[int] = 9

    coordinator: str
    start: date
    overlap_days: int
    priority: str


async def send_raw(org: Org, link_id: uuid.UUID, to: str, payload: XPayload) -> str:
    """Send through the organisation's own federation service, past its command checks."""
    rt = org.rt
    async with org.host.contexts["federation"].uow() as uow:
        message_id = await rt.send(
            uow, link_id=link_id, to=to, payload=payload, actor=Actor(kind="user", id="test")
        )
        await uow.commit()
    return str(message_id)


async def incoming(org: Org, message_id: str) -> dict[str, Any] | None:
    async with org.host.contexts["federation"].uow(readonly=True) as uow:
        row = await uow.session.get(Incoming, uuid.UUID(message_id))
        return row.model_dump() if row else None


async def test_an_unknown_organisation_is_refused_at_once_and_nothing_is_stored(
    federation: Federation, national_id: str
) -> None:
    hospital = federation[HOSPITAL]
    with pytest.raises(RequestFailed) as refused:
        await hospital.cmd(
            "federation",
            SendNeedReport(
                actor=staff(HOSPITAL),
                to="oslo",
                national_id=national_id,
                needs=["ip"],
                department="Medisinsk avdeling",
                basis="consent",
            ),
        )
    assert refused.value.error.code == "not_found"
    assert [(f.field, f.reason) for f in refused.value.error.fields] == [
        ("to", "is not in the federation directory (known: iveland, lund)")
    ]
    assert national_id not in str(refused.value)
    links = await hospital.query("federation", ListLinks(actor=staff(HOSPITAL)))
    assert links["links"] == []
    # A bad identity number is refused before anything leaves, without echoing it.
    with pytest.raises(RequestFailed) as bad:
        await hospital.cmd(
            "federation",
            SendNeedReport(
                actor=staff(HOSPITAL),
                to=LUND,
                national_id="12345678901",
                needs=["ip"],
                department="Medisinsk avdeling",
                basis="consent",
            ),
        )
    assert bad.value.error.fields[0].field == "national_id"
    assert "12345678901" not in str(bad.value)


async def test_an_organisation_that_is_not_a_party_to_the_case_is_refused(
    federation: Federation, national_id: str
) -> None:
    lund, iveland = federation[LUND], federation[IVELAND]
    link_id, _ = await report_from_hospital(federation, national_id)
    # Iveland learns the link id somehow and proposes a handover on it to Lund.
    sent = await send_raw(
        iveland,
        link_id,
        LUND,
        HandoverProposal(
            coordinator="iv-1", start=oslo_today() + timedelta(days=3), overlap_days=1
        ),
    )

    async def refused() -> bool:
        async with iveland.host.contexts["federation"].uow(readonly=True) as uow:
            row = await uow.session.get(Outgoing, uuid.UUID(sent))
            return row is not None and row.status == "refused"

    await iveland.until(refused)
    async with iveland.host.contexts["federation"].uow(readonly=True) as uow:
        row = await uow.session.get(Outgoing, uuid.UUID(sent))
        assert row is not None
        assert (row.code, row.reason) == ("not_party", "iveland is not a party to this case link")
    told = await iveland.event("federation.message_refused")
    assert told.payload["code"] == "not_party"
    # Lund kept a record of what it refused, and has nothing to answer.
    record = await incoming(lund, sent)
    assert record is not None and record["status"] == "refused"
    pending = await lund.query(
        "federation", ListMessages(actor=staff(LUND), direction="in", status="pending")
    )
    assert pending["messages"] == []


async def test_an_unknown_contract_version_is_refused_with_the_versions_accepted(
    federation: Federation, national_id: str
) -> None:
    hospital, lund = federation[HOSPITAL], federation[LUND]
    link_id, _ = await report_from_hospital(federation, national_id)
    sent = await send_raw(
        hospital,
        link_id,
        LUND,
        HandoverProposalV9(coordinator="hk-1", start=oslo_today(), overlap_days=2, priority="høy"),
    )
    receipt = await until_receipt(hospital, link_id, sent)
    assert receipt["status"] == "refused"
    assert receipt["code"] == "unknown_version"
    assert receipt["reason"] == (
        "unsupported version 9 of handover_proposal; this organisation accepts versions [1]"
    )
    await hospital.event("federation.message_refused", code="unknown_version")
    # The order on the link goes on: the next message is applied.
    view = await link_view(hospital, link_id)
    assert [m["status"] for m in view["messages"] if m["direction"] == "out"] == [
        "accepted",
        "refused",
    ]
    record = await incoming(lund, sent)
    assert record is not None and record["code"] == "unknown_version"


async def test_a_message_the_receiver_refuses_comes_back_with_its_reason(
    federation: Federation, national_id: str
) -> None:
    hospital, lund = federation[HOSPITAL], federation[LUND]
    link_id, case_id = await report_from_hospital(federation, national_id)
    await municipal_plan(lund, case_id)
    await share_consent(
        lund,
        case_id,
        HOSPITAL,
        life_areas=[p.LifeArea.HEALTH_CARE],
        content_kinds=[p.ContentKind.MEASURES],
    )
    # The home nursing's measure is not the hospital's: planning refuses the status report.
    doc = p.PlanAccess.model_validate(
        await lund.query(
            "planning",
            p.ViewPlan(
                actor=staff(LUND),
                case_id=case_id,
                who=p.GateActor(kind="provider", id=HOSPITAL),
            ),
        )
    ).document
    assert doc is not None
    nursing = next(m for m in doc.content.measures if m.responsible.ref == "hjemmesykepleien")
    sent = await send_raw(
        hospital,
        link_id,
        LUND,
        MeasureUpdate(measure_id=nursing.id or "", status=p.MeasureStatus.STOPPED, seen_version=2),
    )
    receipt = await until_receipt(hospital, link_id, sent)
    assert receipt["status"] == "refused" and receipt["code"] == "refused"
    assert "not this service's responsibility" in receipt["reason"]
    head = p.PlanView.model_validate(
        await lund.query("planning", p.GetPlan(actor=staff(LUND), case_id=case_id))
    )
    assert head.version == 2  # nothing changed


async def test_a_message_without_a_receipt_in_time_tells_the_senders_ke(
    federation: Federation, national_id: str
) -> None:
    hospital = federation[HOSPITAL]
    link_id, _ = await report_from_hospital(federation, national_id)
    federation.servers.stop_hub()
    sent = await send_raw(
        hospital,
        link_id,
        LUND,
        HandoverProposal(
            coordinator="hk-1", start=oslo_today() + timedelta(days=2), overlap_days=1
        ),
    )
    result = await hospital.cmd("federation", SweepFederation(actor=staff(HOSPITAL)))
    assert result["overdue"] == 0  # not yet
    hospital.clock.advance(timedelta(seconds=hospital.settings.xorg_receipt_timeout_s + 1))
    result = await hospital.cmd("federation", SweepFederation(actor=staff(HOSPITAL)))
    assert result["overdue"] == 1
    told = await hospital.event("federation.receipt_overdue")
    assert told.payload["message_id"] == sent and told.payload["to_org"] == LUND
    again = await hospital.cmd("federation", SweepFederation(actor=staff(HOSPITAL)))
    assert again["overdue"] == 0  # told once
    federation.servers.start_hub()
    receipt = await until_receipt(hospital, link_id, sent)
    assert receipt["status"] == "accepted"


async def test_r17_the_hospital_coordinator_is_registered_health_personnel(
    federation: Federation, national_id: str
) -> None:
    """A hospital coordinator must be health personnel (R17): the coordinator a hospital's
    report of need names is an active coordinator in its registry who is; otherwise nothing
    leaves and nothing is stored."""
    hospital = federation[HOSPITAL]
    await hospital.cmd(
        "assignment", register_coordinator("hk-sekretær", actor=staff(HOSPITAL))
    )  # not health personnel

    async def report(coordinator: str) -> RequestFailed:
        with pytest.raises(RequestFailed) as refused:
            await hospital.cmd(
                "federation",
                SendNeedReport(
                    actor=staff(HOSPITAL),
                    to=LUND,
                    national_id=national_id,
                    needs=["ip"],
                    department="Medisinsk avdeling",
                    hospital_coordinator=coordinator,
                    basis="consent",
                ),
            )
        return refused.value

    unknown = await report("hk-ukjent")
    assert unknown.error.code == "rule_violation"
    assert unknown.error.fields[0].field == "hospital_coordinator"
    assert "register them first (R17)" in unknown.error.fields[0].reason
    clerk = await report("hk-sekretær")
    assert "must be health personnel (R17)" in clerk.error.fields[0].reason
    assert national_id not in str(unknown) + str(clerk)
    links = await hospital.query("federation", ListLinks(actor=staff(HOSPITAL)))
    assert links["links"] == []
