"""Cross-organisation messages survive an outage of the hub: they queue in the sender's
outbound stream and arrive after reconnection, once, in order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from services.federation.store import Incoming
from shared.contracts.federation import AnswerHandover, ProposeHandover
from shared.contracts.xorg import HandoverProposal, XHeader, build_message
from shared.federation.topology import load_org_file, out_stream, xorg_subject
from tests.helpers import oslo_today

from .conftest import HOSPITAL, LUND, Federation, Org, link_view, report_from_hospital, staff
from .test_flows import pending_proposal, ready_for_a_coordinator

pytestmark = pytest.mark.slow


async def published(org: Org, subject: str, count: int) -> None:
    """Wait until the organisation's outbound stream holds ``count`` messages on ``subject``:
    they are queued on its own server whatever the hub's state."""
    js = org.nc.jetstream()
    sub = await org.nc.subscribe(subject)
    try:
        while (
            await js.stream_info(out_stream(org.code), subjects_filter=subject)
        ).state.messages < count:
            await sub.next_msg(timeout=10)
    finally:
        await sub.unsubscribe()


async def incoming_of(org: Org, type_: str) -> list[dict[str, Any]]:
    async with org.host.contexts["federation"].uow(readonly=True) as uow:
        rows = await uow.session.exec(select(Incoming).where(Incoming.type == type_))
        return [row.model_dump() for row in rows]


async def test_a_handover_sent_while_the_hub_is_down_arrives_once_after_it_returns(
    federation: Federation, national_id: str
) -> None:
    hospital, lund = federation[HOSPITAL], federation[LUND]
    link_id, case_id = await report_from_hospital(federation, national_id)
    coordinator_id = await ready_for_a_coordinator(lund, case_id, "lund-k9")
    to_lund = xorg_subject(LUND, HOSPITAL)

    federation.servers.stop_hub()
    start = oslo_today() + timedelta(days=7)
    sent = await hospital.cmd(
        "federation",
        ProposeHandover(
            actor=staff(HOSPITAL), link_id=link_id, coordinator="hk-1", start=start, overlap_days=3
        ),
    )
    await published(hospital, to_lund, 2)  # the report and the proposal, queued at home
    assert await incoming_of(lund, "handover_proposal") == []

    # The relay publishes the same message again (as after a crash before marking it sent):
    # the stream's de-duplication drops it.
    js = hospital.nc.jetstream()
    raw = await js.get_last_msg(out_stream(HOSPITAL), to_lund)
    again = await js.publish(to_lund, raw.data, headers={"Nats-Msg-Id": sent["message_id"]})
    assert again.duplicate

    federation.servers.start_hub()
    proposal_id = await pending_proposal(lund)
    assert proposal_id == sent["message_id"]

    # The answer crosses the other way through a second outage.
    federation.servers.stop_hub()
    await lund.cmd(
        "federation",
        AnswerHandover(
            actor=staff(LUND), proposal_id=proposal_id, accept=True, coordinator_id=coordinator_id
        ),
    )
    await published(lund, xorg_subject(HOSPITAL, LUND), 3)  # 2 receipts and the answer
    federation.servers.start_hub()

    async def answered() -> bool:
        view = await link_view(hospital, link_id)
        return any(
            m["type"] == "handover_proposal" and m["answer"] == "accepted" for m in view["messages"]
        )

    await hospital.until(answered, timeout=120)
    assert len(await incoming_of(lund, "handover_proposal")) == 1
    assert len(await incoming_of(hospital, "handover_answer")) == 1
    # Every message got exactly one receipt.
    view = await link_view(hospital, link_id)
    outs = [m for m in view["messages"] if m["direction"] == "out"]
    assert [m["status"] for m in outs] == ["accepted", "accepted"]
    receipts = await incoming_of(hospital, "receipt")
    assert sorted(str(r["reply_to"]) for r in receipts) == sorted(m["message_id"] for m in outs)

    # The hospital's receipt of the answer crosses back to Lund after the hospital applied it.
    async def lund_has_its_receipt() -> bool:
        return len(await incoming_of(lund, "receipt")) >= 1

    await lund.until(lund_has_its_receipt, timeout=60)
    assert len(await incoming_of(lund, "receipt")) == 1  # of the answer, and only one


async def test_messages_on_a_case_are_applied_in_order_whatever_order_they_arrive_in(
    federation: Federation, national_id: str
) -> None:
    """Sequence numbers per (sender, receiver, case link): a message that arrives before its
    predecessor waits for it (here: seq 3 is in the stream before seq 2)."""
    hospital, lund = federation[HOSPITAL], federation[LUND]
    link_id, _ = await report_from_hospital(federation, national_id)
    fed = load_org_file(federation.servers.federation_file(HOSPITAL))
    lund_key = fed.directory[LUND].public_key
    applied: list[int] = []
    lund.rt.observers.append(lambda h: applied.append(h.seq) if h and h.link == link_id else None)

    def proposal(seq: int) -> tuple[str, bytes]:
        header = XHeader(
            id=uuid.uuid4(),
            type=HandoverProposal.TYPE,
            version=1,
            sender=HOSPITAL,
            recipient=LUND,
            link=link_id,
            seq=seq,
            sent_at=datetime.now(UTC),
        )
        body = HandoverProposal(
            coordinator=f"hk-{seq}", start=oslo_today() + timedelta(days=seq), overlap_days=1
        )
        return str(header.id), build_message(header, body, fed.key(), lund_key)

    (id2, second), (id3, third) = proposal(2), proposal(3)
    js = hospital.nc.jetstream()
    await js.publish(xorg_subject(LUND, HOSPITAL), third, headers={"Nats-Msg-Id": id3})
    await js.publish(xorg_subject(LUND, HOSPITAL), second, headers={"Nats-Msg-Id": id2})

    async def both() -> bool:
        return {2, 3} <= set(applied)

    await lund.until(both)
    assert [s for s in applied if s in (2, 3)] == [2, 3]
    pending = await incoming_of(lund, "handover_proposal")
    assert sorted(r["seq"] for r in pending) == [2, 3]
