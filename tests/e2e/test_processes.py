"""Five services as five OS processes against one nats-server and one database."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections import Counter
from typing import Any

import nats
import pytest

from shared.client import KenettClient
from shared.contracts import assignment, consent, intake
from shared.contracts.envelope import Envelope
from shared.contracts.subjects import EVENTS_STREAM
from shared.watch import EventWatcher
from tests.e2e.conftest import KENETT
from tests.helpers import read_stream, record_consent, register_coordinator, report_need

pytestmark = [pytest.mark.e2e, pytest.mark.nats, pytest.mark.slow]
SERVICES = ["intake", "consent", "assignment", "planning", "notifications"]


def start_all(spawn: Any, url: str) -> dict[str, Any]:
    # Started in parallel threads: each child takes a moment to import.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(SERVICES)) as pool:
        procs = list(pool.map(lambda s: spawn([s], url), SERVICES))
    return dict(zip(SERVICES, procs, strict=True))


async def test_five_processes_take_a_case_to_a_plan_and_a_notification(
    local_nats_server: Any, spawn: Any
) -> None:
    start_all(spawn, local_nats_server.url)
    done = await asyncio.to_thread(
        subprocess.run,
        [KENETT, "demo", "--json", "--nats", local_nats_server.url, "--org", "e2e"],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert set(result) == {"case_id", "coordinator_id", "plan_id", "notification_id", "elapsed_ms"}
    for key in ("case_id", "coordinator_id", "plan_id", "notification_id"):
        uuid.UUID(result[key])


async def test_killing_planning_mid_flight_loses_no_plan_and_duplicates_none(
    local_nats_server: Any, spawn: Any
) -> None:
    n = 30
    procs = start_all(spawn, local_nats_server.url)
    nc = await nats.connect(local_nats_server.url)
    js = nc.jetstream()
    events = EventWatcher()
    await nc.subscribe("kenett.e2e.evt.>", cb=events.on_msg)
    client = KenettClient(nc, "e2e", timeout=20)
    for _ in range(n // 5):
        await client.command("assignment", register_coordinator())
    cases = []
    for _ in range(n):
        r = await client.command("intake", report_need())
        cases.append(intake.ReportNeedResult.model_validate(r).case_id)

    async def consent_all(batch: list[uuid.UUID]) -> None:
        for case_id in batch:
            for kind in (consent.ConsentKind.COORDINATOR, consent.ConsentKind.IP):
                await client.command("consent", record_consent(case_id, kind))

    def plans() -> set[Any]:
        return {e.case_id for e in events.matching("planning.plan_created")}

    await consent_all(cases[: n // 2])
    await events.wait_until(lambda: len(plans()) >= 1, 60)
    procs["planning"].kill()  # cases are in flight: half consented, plans being made
    await consent_all(cases[n // 2 :])  # these queue in JetStream while planning is down
    spawn(["planning"], local_nats_server.url)

    await events.wait_until(lambda: plans() >= set(cases), 120)
    await events.wait_until(
        lambda: (
            {
                e.case_id
                for e in events.matching("notifications.notification_created", kind="plan_created")
            }
            >= set(cases)
        ),
        60,
    )
    # The durable record: one plan_created per case in the stream, one plan notice per case.
    stored = [
        Envelope.model_validate_json(m.data)
        for m in await read_stream(js, EVENTS_STREAM, "kenett.e2e.evt.planning.plan_created")
    ]
    per_case = Counter(e.case_id for e in stored)
    assert set(per_case) == set(cases)
    assert max(per_case.values()) == 1
    notices = [
        Envelope.model_validate_json(m.data)
        for m in await read_stream(
            js, EVENTS_STREAM, "kenett.e2e.evt.notifications.notification_created"
        )
    ]
    plan_notices = Counter(e.case_id for e in notices if e.payload["kind"] == "plan_created")
    assert plan_notices == Counter(dict.fromkeys(cases, 1))
    coordinators = assignment.CoordinatorList.model_validate(
        await client.query(
            "assignment", assignment.ListCoordinators(actor=register_coordinator().actor)
        )
    )
    assert sum(c.caseload for c in coordinators.coordinators) == n
    assert all(c.caseload <= c.caseload_limit for c in coordinators.coordinators)
    await nc.close()
