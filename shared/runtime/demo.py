"""``kenett demo``: one synthetic case through all five services, waiting on the events."""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.client import KenettClient
from shared.clock import SystemClock
from shared.contracts import assignment, consent, intake
from shared.contracts.envelope import Actor
from shared.ids import new_id
from shared.natsconn import connect_once
from shared.synthetic import synthetic_national_id
from shared.watch import EventWatcher

DEMO_ACTOR = Actor(kind="user", id="demo-saksbehandler")


@dataclass
class DemoResult:
    """The ids the demo waited for, and how long the flow took."""

    case_id: str
    coordinator_id: str
    plan_id: str
    notification_id: str
    elapsed_ms: float

    def as_json(self) -> str:
        return json.dumps(self.__dict__)


async def _appointed(
    client: KenettClient, watcher: EventWatcher, case_id: uuid.UUID, deadline: float
) -> Any:
    """The appointment: made by kenett where the org lets it appoint by itself, else by the
    demo as the KE would, confirming the top suggestion (R9)."""
    found = await watcher.wait_until(
        lambda: (
            watcher.matching("assignment.coordinator_appointed", case_id)
            or watcher.matching("assignment.case_awaiting_coordinator", case_id)
        ),
        max(0.1, deadline - time.monotonic()),
    )
    if found[0].type == "assignment.case_awaiting_coordinator":
        suggestions = assignment.Suggestions.model_validate(
            await client.query(
                "assignment", assignment.SuggestCoordinators(actor=DEMO_ACTOR, case_id=case_id)
            )
        )
        top = next(s for s in suggestions.candidates if s.appointable)
        await client.command(
            "assignment",
            assignment.AppointCoordinator(
                actor=DEMO_ACTOR, case_id=case_id, coordinator_id=top.coordinator_id
            ),
        )
    return await watcher.wait_for(case_id, "assignment.coordinator_appointed", deadline)


async def run_demo(nats_url: str, org: str, timeout: float = 30.0) -> DemoResult:
    """Register a coordinator if none is free, report a need, record both consents, and wait
    until the plan and the coordinator's notification about it exist."""
    nc = await connect_once(nats_url, "kenett-demo")
    try:
        client = KenettClient(nc, org)
        watcher = EventWatcher()
        sub = await nc.subscribe(f"kenett.{org}.evt.>", cb=watcher.on_msg)
        await nc.flush()
        start = time.monotonic()
        deadline = start + timeout
        coordinators = assignment.CoordinatorList.model_validate(
            await client.query("assignment", assignment.ListCoordinators(actor=DEMO_ACTOR))
        )
        if not any(c.active and c.free > 0 for c in coordinators.coordinators):
            suffix = uuid.uuid4().hex[:8]
            await client.command(
                "assignment",
                assignment.RegisterCoordinator(
                    actor=DEMO_ACTOR,
                    staff_id=f"demo-{suffix}",
                    display_name="Demo Koordinator",
                    unit="Helse og omsorg",
                ),
            )
        rng = random.Random()
        reported = intake.ReportNeedResult.model_validate(
            await client.command(
                "intake",
                intake.ReportNeed(
                    actor=DEMO_ACTOR,
                    request_id=new_id(),
                    national_id=synthetic_national_id(rng),
                    reporter=intake.Reporter(
                        kind=intake.ReporterKind.EMPLOYEE, unit="Hjemmetjenesten"
                    ),
                    needs=[intake.Need.IP, intake.Need.COORDINATOR],
                    services=["hjemmesykepleie", "fysioterapi"],
                    form="oral",
                ),
            )
        )
        case_id = reported.case_id
        given_at = SystemClock().now() - timedelta(minutes=1)
        for kind in (consent.ConsentKind.COORDINATOR, consent.ConsentKind.IP):
            await client.command(
                "consent",
                consent.RecordConsent(
                    actor=DEMO_ACTOR,
                    case_id=case_id,
                    kind=kind,
                    given_by=consent.GivenBy(role=consent.GiverRole.PERSON),
                    form="written",
                    recorded_by=DEMO_ACTOR.id,
                    given_at=given_at,
                ),
            )
        appointed = await _appointed(client, watcher, case_id, deadline)
        plan = await watcher.wait_for(case_id, "planning.plan_created", deadline)
        notice = await watcher.wait_for(
            case_id, "notifications.notification_created", deadline, kind="plan_created"
        )
        elapsed = (time.monotonic() - start) * 1000
        await sub.unsubscribe()
        return DemoResult(
            case_id=str(case_id),
            coordinator_id=appointed.payload["coordinator_id"],
            plan_id=plan.payload["plan_id"],
            notification_id=notice.payload["notification_id"],
            elapsed_ms=round(elapsed, 1),
        )
    finally:
        await nc.drain()
