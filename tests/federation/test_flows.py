"""The flows between a hospital and municipalities, end to end over the hub (R11, R17)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from shared.clock import OSLO
from shared.contracts.assignment import Coordination, GetCoordination
from shared.contracts.consent import ConsentKind
from shared.contracts.federation import AnswerHandover, ListMessages, ProposeHandover
from tests.helpers import oslo_today, record_consent, register_coordinator

from .conftest import (
    BOTH_DATABASES,
    HOSPITAL,
    LUND,
    Federation,
    Org,
    link_view,
    report_from_hospital,
    staff,
)


async def ready_for_a_coordinator(lund: Org, case_id: uuid.UUID, staff_id: str) -> uuid.UUID:
    """Lund records the person's consents (R5) and has a coordinator in its registry."""
    for kind in (ConsentKind.IP, ConsentKind.COORDINATOR):
        await lund.cmd("consent", record_consent(case_id, kind, actor=staff(LUND)))
    recorded = await lund.event("consent.consent_recorded", case_id, kind="coordinator")
    await lund.settled("assignment", recorded)
    registered = await lund.cmd("assignment", register_coordinator(staff_id, actor=staff(LUND)))
    return uuid.UUID(registered["coordinator_id"])


async def pending_proposal(lund: Org) -> str:
    found: list[str] = []

    async def arrived() -> bool:
        listed = await lund.query(
            "federation", ListMessages(actor=staff(LUND), direction="in", status="pending")
        )
        found[:] = [m["message_id"] for m in listed["messages"]]
        return bool(found)

    await lund.until(arrived)
    return found[0]


@BOTH_DATABASES
async def test_r11_r17_handover_at_discharge_both_listed_during_the_overlap(
    federation: Federation, national_id: str
) -> None:
    hospital, lund = federation[HOSPITAL], federation[LUND]
    link_id, case_id = await report_from_hospital(federation, national_id)
    coordinator_id = await ready_for_a_coordinator(lund, case_id, "lund-k1")

    start = oslo_today() + timedelta(days=10)
    await hospital.cmd(
        "federation",
        ProposeHandover(
            actor=staff(HOSPITAL), link_id=link_id, coordinator="hk-1", start=start, overlap_days=5
        ),
    )
    proposal_id = await pending_proposal(lund)
    told = await lund.event("federation.handover_proposed", case_id)
    assert told.payload["from_org"] == HOSPITAL

    answer = await lund.cmd(
        "federation",
        AnswerHandover(
            actor=staff(LUND), proposal_id=proposal_id, accept=True, coordinator_id=coordinator_id
        ),
    )
    assert answer["coordinator"] == "lund-k1"
    coordination = Coordination.model_validate(
        await lund.query("assignment", GetCoordination(actor=staff(LUND), case_id=case_id))
    )
    assert coordination.primary_coordinator_id == coordinator_id

    async def taken_over() -> bool:
        view = await link_view(hospital, link_id)
        return any(c["org"] == LUND for c in view["coordinators"])

    await hospital.until(taken_over)
    await hospital.event("federation.handover_answered", accepted=True)

    for org in (hospital, lund):
        during = await link_view(org, link_id, on=start + timedelta(days=2))
        listed = {(c["org"], c["staff_id"]) for c in during["coordinators"] if c["active"]}
        assert listed == {(HOSPITAL, "hk-1"), (LUND, "lund-k1")}, org.code
        after = await link_view(org, link_id, on=start + timedelta(days=6))
        listed = {(c["org"], c["staff_id"]) for c in after["coordinators"] if c["active"]}
        assert listed == {(LUND, "lund-k1")}, org.code

    view = await link_view(hospital, link_id)
    proposal = next(m for m in view["messages"] if m["type"] == "handover_proposal")
    assert (proposal["status"], proposal["answer"]) == ("accepted", "accepted")
    assert any(m["type"] == "handover_answer" and m["direction"] == "in" for m in view["messages"])


async def test_r11_r17_a_refused_handover_tells_the_hospital_why(
    federation: Federation, national_id: str
) -> None:
    hospital, lund = federation[HOSPITAL], federation[LUND]
    link_id, _case_id = await report_from_hospital(federation, national_id)
    await hospital.cmd(
        "federation",
        ProposeHandover(
            actor=staff(HOSPITAL),
            link_id=link_id,
            coordinator="hk-1",
            start=oslo_today() + timedelta(days=3),
            overlap_days=0,
        ),
    )
    proposal_id = await pending_proposal(lund)
    await lund.cmd(
        "federation",
        AnswerHandover(
            actor=staff(LUND),
            proposal_id=proposal_id,
            accept=False,
            reason="Personen flytter til Iveland før utskrivning",
        ),
    )
    told = await hospital.event("federation.handover_answered", accepted=False)
    assert told.payload["by_org"] == LUND
    view = await link_view(hospital, link_id)
    proposal = next(m for m in view["messages"] if m["type"] == "handover_proposal")
    assert (proposal["status"], proposal["answer"]) == ("accepted", "refused")
    assert proposal["answer_reason"] == "Personen flytter til Iveland før utskrivning"
    listed = {(c["org"], c["staff_id"]) for c in view["coordinators"] if c["active"]}
    assert listed == {(HOSPITAL, "hk-1")}


async def test_r17_dates_on_a_link_are_norwegian_dates(
    federation: Federation, national_id: str
) -> None:
    """At 23:30 UTC it is already tomorrow in Norway. The hospital coordinator is listed from
    the Norwegian date, and the link's view must count "today" the same way: it once used the
    UTC date, and showed that coordinator as not active until midnight UTC."""
    hospital = federation[HOSPITAL]
    late = datetime.now(UTC).replace(hour=23, minute=30, second=0, microsecond=0)
    for org in federation.orgs.values():
        org.clock.set(late)
    link_id, _case_id = await report_from_hospital(federation, national_id)
    view = await link_view(hospital, link_id)
    (listing,) = [c for c in view["coordinators"] if c["org"] == HOSPITAL]
    assert listing["since"] == late.astimezone(OSLO).date().isoformat()
    assert listing["active"] is True
