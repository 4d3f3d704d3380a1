"""A poison message (not an envelope) and an event of a contract version nobody knows, in the
events stream in the middle of a flow: each is dead-lettered by every consumer it reaches, with
the reason, and the cases behind them still get their coordinator, plan and notice."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.bus.deadletter import H_CONSUMER, H_REASON, read_dead_letters
from shared.contracts import consent, intake
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.subjects import EVENTS_STREAM
from tests.conftest import System
from tests.e2e.conftest import KENETT
from tests.helpers import record_consent, register_coordinator, report_need

pytestmark = [pytest.mark.failure, pytest.mark.nats]
ORG = "testorg"  # the system fixture's


async def start_case(system: System) -> uuid.UUID:
    """Report a need and record both consents: the flow runs on from here by itself."""
    reported = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    for kind in (consent.ConsentKind.COORDINATOR, consent.ConsentKind.IP):
        await system.client.command("consent", record_consent(reported.case_id, kind))
    return reported.case_id


def unknown_version() -> bytes:
    """A valid envelope of ``intake.case_opened``, version 99 (synthetic payload)."""
    case_id = uuid.uuid4()
    event = intake.CaseOpened(
        case_id=case_id,
        case_ref="2026-999999",
        person_id=uuid.uuid4(),
        birth_date=date(1970, 1, 1),
        needs=[intake.Need.IP, intake.Need.COORDINATOR],
        reporter_kind=intake.ReporterKind.EMPLOYEE,
    )
    envelope = Envelope.wrap(
        event,
        org=ORG,
        occurred_at=datetime.now(UTC),
        actor=Actor(kind="service", id="intake"),
        case_id=case_id,
    )
    body = json.loads(envelope.model_dump_json())
    body["version"] = 99
    return json.dumps(body).encode()


async def test_poison_and_unknown_version_are_dead_lettered_and_the_flow_goes_on(
    system: System,
) -> None:
    js = system.nc.jetstream()
    dead: list[Any] = []
    arrived = asyncio.Event()

    async def on_dead(msg: Any) -> None:
        dead.append(msg)
        arrived.set()

    await system.nc.subscribe(f"kenett.{ORG}.dlq.>", cb=on_dead)
    await system.client.command("assignment", register_coordinator())

    before = await start_case(system)  # in flight while the bad messages arrive
    subject = intake.CaseOpened.subject(ORG)
    poison = b'{"id": "not an envelope", '
    odd_version = unknown_version()
    await js.publish(subject, poison, stream=EVENTS_STREAM, headers={"Nats-Msg-Id": "poison-1"})
    await js.publish(
        subject, odd_version, stream=EVENTS_STREAM, headers={"Nats-Msg-Id": "version-99"}
    )
    after = await start_case(system)  # behind them in the stream

    cases = {before, after}
    await system.events.wait_until(
        lambda: (
            {
                e.case_id
                for e in system.events.matching(
                    "notifications.notification_created", kind="plan_created"
                )
            }
            >= cases
        ),
        60,
    )

    # Every consumer of intake.case_opened met both and dead-lettered each once, with a reason.
    consumers = sorted(
        c.name for c in await js.consumers_info(EVENTS_STREAM) if c.config.filter_subject == subject
    )
    assert len(consumers) >= 2  # consent's and assignment's projections at least
    async with asyncio.timeout(30):
        while len(dead) < 2 * len(consumers):
            arrived.clear()
            await arrived.wait()
    letters = await read_dead_letters(js, ORG)
    assert len(letters) == 2 * len(consumers)  # nothing else was dead-lettered
    assert sorted(d.consumer for d in letters) == sorted(consumers * 2)
    assert {d.subject for d in letters} == {subject}
    for name in consumers:
        mine = {d.data: d.reason for d in letters if d.consumer == name}
        assert mine[poison].startswith("invalid envelope"), mine[poison]
        assert (
            "unsupported version 99 of intake.case_opened; this consumer accepts versions [1]"
            in mine[odd_version]
        ), mine[odd_version]
    assert all(m.headers[H_REASON] and m.headers[H_CONSUMER] in consumers for m in dead)

    # The flow behind them went on: each case was appointed a coordinator and has its plan.
    for case_id in cases:
        assert len(system.events.matching("assignment.coordinator_appointed", case_id)) == 1
        assert len(system.events.matching("planning.plan_created", case_id)) == 1

    # ... and an operator sees them, with the reasons, in `kenett dlq`.
    shown = await asyncio.to_thread(
        subprocess.run,
        [KENETT, "dlq", "--nats", system.settings.nats_url, "--org", ORG],
        capture_output=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert shown.returncode == 0, shown.stderr.decode()
    output = shown.stdout.decode()
    assert f"dead letters ({len(letters)})" in output
    assert "invalid envelope" in output
    assert "unsupported version 99 of intake.case_opened" in output
