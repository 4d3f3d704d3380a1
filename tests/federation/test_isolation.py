"""One organisation can read only what is addressed to it and can publish only as itself
(architecture.md, Federation): proved with real connections to the leaf nodes and the hub."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
import pytest
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from shared.bus.deadletter import H_REASON
from shared.contracts.federation import ListLinks, ListMessages, ProposeHandover
from shared.contracts.subjects import DEAD_LETTER_STREAM
from shared.contracts.xorg import NeedReport, XHeader, build_message
from shared.federation.topology import OrgFederation, load_org_file, out_stream, xorg_subject
from shared.synthetic import synthetic_national_id
from tests.helpers import oslo_today, read_stream

from .conftest import HOSPITAL, IVELAND, LUND, Federation, report_from_hospital, staff


def org_file(federation: Federation, code: str) -> OrgFederation:
    return load_org_file(federation.servers.federation_file(code))


async def js_api(nc: Any, subject: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """A JetStream API request; None when nobody answers (the hub does not route it)."""
    try:
        reply = await nc.request(subject, json.dumps(body).encode(), timeout=2)
    except (NoRespondersError, NatsTimeout):
        return None
    return json.loads(reply.data)  # type: ignore[no-any-return]


def consumer_request(stream: str, filter_subject: str) -> dict[str, Any]:
    return {
        "stream_name": stream,
        "config": {
            "name": f"probe-{uuid.uuid4().hex[:8]}",
            "deliver_policy": "all",
            "ack_policy": "none",
            "filter_subject": filter_subject,
            "inactive_threshold": 5_000_000_000,
            "deliver_subject": f"kenett-xdlv.iveland.sykehuset.probe{uuid.uuid4().hex[:6]}",
        },
    }


def concerns(subject: str, org: str) -> bool:
    """Is a subject Iveland's own business: local, or cross-organisation to or from it?"""
    tokens = subject.split(".")
    if tokens[0] in ("kenett-xorg", "kenett-xdlv"):
        return org in tokens[1:3]
    if tokens[0] == "kenett":
        return tokens[1] == org
    return not any(other in subject for other in (LUND, HOSPITAL))


async def test_a_municipality_cannot_read_another_municipalitys_messages(
    federation: Federation, national_id: str, rng: random.Random
) -> None:
    other_national_id = synthetic_national_id(rng)
    iveland = federation[IVELAND]
    spy = await nats.connect(federation.servers.leaf_url(IVELAND))
    seen: list[str] = []

    async def note(msg: Any) -> None:
        seen.append(msg.subject)

    for subject in (">", "kenett-xorg.>", "kenett-xdlv.>"):
        await spy.subscribe(subject, cb=note)
    # The same from the hub itself, with Iveland's own credentials.
    hub_spy = await nats.connect(
        federation.servers.hub.url, nkeys_seed_str=org_file(federation, IVELAND).seed
    )
    await hub_spy.subscribe(">", cb=note)
    await spy.flush()
    await hub_spy.flush()
    try:
        await report_from_hospital(federation, national_id, to=LUND)  # arrived at Lund
        # Positive control: what the hospital sends Iveland, Iveland's spy does see.
        await report_from_hospital(federation, other_national_id, to=IVELAND)
        await spy.flush()
        await hub_spy.flush()
        assert xorg_subject(IVELAND, HOSPITAL) in seen, seen
        # Iveland's server carries its own traffic (e.g. its deliveries to Lund's source,
        # kenett-xdlv.lund.iveland...); anything between two others is a leak.
        leaked = [s for s in seen if not concerns(s, IVELAND)]
        assert leaked == []
        links = await iveland.query("federation", ListLinks(actor=staff(IVELAND)))
        assert len(links["links"]) == 1
    finally:
        await spy.close()
        await hub_spy.close()


async def test_a_municipality_can_only_source_what_is_addressed_to_it(
    federation: Federation, national_id: str
) -> None:
    await report_from_hospital(federation, national_id, to=LUND)
    nc = await nats.connect(federation.servers.leaf_url(IVELAND))
    api = "$JS.sykehuset.API"
    stream = out_stream(HOSPITAL)
    try:
        # Positive control: Iveland may create a consumer for what is addressed to Iveland.
        own = xorg_subject(IVELAND, HOSPITAL)
        ok = await js_api(
            nc, f"{api}.CONSUMER.CREATE.{stream}.probe1.{own}", consumer_request(stream, own)
        )
        assert ok is not None and "error" not in ok, ok
        # Lund's messages, the whole stream, the stream's info or a message by sequence: the
        # hub routes none of these requests from Iveland's account.
        lunds = xorg_subject(LUND, HOSPITAL)
        for subject, body in (
            (f"{api}.CONSUMER.CREATE.{stream}.probe2.{lunds}", consumer_request(stream, lunds)),
            (f"{api}.CONSUMER.CREATE.{stream}", consumer_request(stream, "kenett-xorg.>")),
            (f"{api}.STREAM.INFO.{stream}", {}),
            (f"{api}.STREAM.MSG.GET.{stream}", {"seq": 1}),
            (f"{api}.STREAM.NAMES", {}),
            ("$JS.lund.API.STREAM.NAMES", {}),
            ("$JS.lund.API.STREAM.INFO.XORG_IN_lund", {}),
        ):
            assert await js_api(nc, subject, body) is None, subject
    finally:
        await nc.close()


async def forged(federation: Federation, *, claimed: str, signer: str, to: str) -> bytes:
    """A report of need whose header claims ``claimed`` as sender, signed with ``signer``'s key."""
    fed = org_file(federation, signer)
    target = org_file(federation, to).me().public_key
    header = XHeader(
        id=uuid.uuid4(),
        type=NeedReport.TYPE,
        version=1,
        sender=claimed,
        recipient=to,
        link=uuid.uuid4(),
        seq=1,
        sent_at=datetime.now(UTC),
    )
    payload = NeedReport(national_id="00000000000", needs=["ip"], department="Falsk avdeling")
    return build_message(header, payload, fed.key(), target)


@pytest.mark.parametrize("route", ["own_stream", "hub_direct"])
async def test_a_municipality_cannot_impersonate_the_hospital(
    federation: Federation, national_id: str, route: str
) -> None:
    lund = federation[LUND]
    link_id, _ = await report_from_hospital(federation, national_id, to=LUND)
    body = await forged(federation, claimed=HOSPITAL, signer=IVELAND, to=LUND)
    if route == "own_stream":
        # Iveland's own outbound stream carries it to Lund (Iveland may send to Lund), but the
        # header names the hospital: Lund refuses it without a receipt, as not authentic.
        nc = await nats.connect(federation.servers.leaf_url(IVELAND))
        try:
            await nc.jetstream().publish(xorg_subject(LUND, IVELAND), body)
            # Straight to the hospital's subject on Iveland's server: no stream takes it.
            await nc.publish(xorg_subject(LUND, HOSPITAL), body)
        finally:
            await nc.close()

        async def dead_lettered() -> bool:
            msgs = await read_stream(lund.nc.jetstream(), DEAD_LETTER_STREAM, "kenett.lund.dlq.>")
            return bool(msgs)

        await lund.until(dead_lettered)
        msgs = await read_stream(lund.nc.jetstream(), DEAD_LETTER_STREAM, "kenett.lund.dlq.>")
        assert len(msgs) == 1
        assert "does not match the subject" in msgs[0].headers[H_REASON]
    else:
        # Straight into the hub with Iveland's credentials, on the subjects the hospital's
        # deliveries to Lund use: Iveland's account has no export of them to Lund.
        hub = await nats.connect(
            federation.servers.hub.url, nkeys_seed_str=org_file(federation, IVELAND).seed
        )
        try:
            for subject in (
                "kenett-xdlv.lund.sykehuset.S.forged",
                xorg_subject(LUND, HOSPITAL),
                f"$JS.FC.{out_stream(HOSPITAL)}.x.y",
            ):
                await hub.publish(subject, body)
            await hub.flush()
        finally:
            await hub.close()
    # Then the hospital really sends again, and Lund waits for that: by then a forgery that
    # got through would have arrived too.
    await federation[HOSPITAL].cmd(
        "federation",
        ProposeHandover(
            actor=staff(HOSPITAL),
            link_id=link_id,
            coordinator="hk-1",
            start=oslo_today() + timedelta(days=5),
            overlap_days=2,
        ),
    )

    async def proposal_arrived() -> bool:
        listed = await lund.query(
            "federation", ListMessages(actor=staff(LUND), direction="in", status="pending")
        )
        return bool(listed["messages"])

    await lund.until(proposal_arrived)
    # Whatever Lund holds came from the hospital: one report and one proposal.
    links = await lund.query("federation", ListLinks(actor=staff(LUND)))
    assert [link["link_id"] for link in links["links"]] == [str(link_id)]
    info = await lund.nc.jetstream().stream_info("XORG_IN_lund")
    assert info.state.messages == (3 if route == "own_stream" else 2)
