"""The four cross-organisation flows, step by step, against a running federation
(``kenett federation up --demo``): what a KE user at the hospital and in the municipalities
would do, with synthetic data. Waits on messages and events, never on time."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.client import KenettClient
from shared.clock import SystemClock, local_today
from shared.contracts import consent as c
from shared.contracts import planning as p
from shared.contracts.assignment import RegisterCoordinator
from shared.contracts.envelope import Actor
from shared.contracts.federation import (
    AnswerHandover,
    GetLink,
    GetSharedPlan,
    ListMessages,
    ProposeHandover,
    SendNeedReport,
    TransferCase,
    UpdateMeasure,
)
from shared.contracts.intake import DisclosureBasis, GetCaseDetail
from shared.natsconn import connect_once
from shared.synthetic import synthetic_national_id

Say = Callable[[str], None]
NB = {
    "accepted": "mottatt",
    "refused": "avvist",
    "done": "utført",
    "moved": "flyttet",
    "hospital": "sykehuset",
}


@dataclass
class Site:
    """One organisation as the demo talks to it: its NATS, a client and a change signal."""

    code: str
    url: str
    actor: Actor
    nc: Any = None
    client: KenettClient = field(init=False)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def open(self) -> Site:
        self.nc = await connect_once(self.url, f"kenett-federation-demo-{self.code}")
        self.client = KenettClient(self.nc, self.code, timeout=20)

        async def note(_msg: Any) -> None:
            self.changed.set()

        await self.nc.subscribe(f"kenett.{self.code}.evt.>", cb=note)
        return self

    async def until(self, predicate: Callable[[], Awaitable[Any]], timeout: float = 120) -> Any:
        """Re-check on every event here (federation tells of each message it applied)."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    self.changed.clear()
                    if result := await predicate():
                        return result
                    await self.changed.wait()
        except TimeoutError:
            raise TimeoutError(f"{self.code}: nothing came within {timeout:.0f} s") from None

    async def cmd(self, service: str, command: Any) -> dict[str, Any]:
        return await self.client.command(service, command)

    async def query(self, service: str, q: Any) -> dict[str, Any]:
        return await self.client.query(service, q)


@dataclass
class DemoOutcome:
    link_id: str = ""
    municipal_case: str = ""
    coordinator_taken_over_by: str = ""
    shared_measures: int = 0
    measure_status_at_municipality: str = ""
    moved_to_case: str = ""
    old_case_closed_reason: str = ""
    elapsed_ms: float = 0.0


async def run_flows(
    urls: dict[str, str], hospital: str, home: str, new_home: str, say: Say
) -> DemoOutcome:
    sites = {
        code: await Site(code, url, Actor(kind="user", id=f"ke-{code}")).open()
        for code, url in urls.items()
    }
    try:
        return await _flows(sites[hospital], sites[home], sites[new_home], say)
    finally:
        for site in sites.values():
            await site.nc.close()


async def _message(site: Site, link_id: str, message_id: str) -> dict[str, Any] | None:
    view = await site.query("federation", GetLink(actor=site.actor, link_id=uuid.UUID(link_id)))
    return next(
        (m for m in view["messages"] if m["message_id"] == message_id and m["receipt_at"]), None
    )


async def _flows(h: Site, m: Site, n: Site, say: Say) -> DemoOutcome:
    started = time.monotonic()
    out = DemoOutcome()
    rng = random.Random()
    today = local_today(SystemClock())

    say(f"1) {h.code} melder behov for IP og koordinator for en innlagt pasient til {m.code}")
    # The hospital coordinator is health personnel, in the hospital's registry (R17).
    await h.cmd(
        "assignment",
        RegisterCoordinator(
            actor=h.actor,
            staff_id="hk-demo",
            display_name="Demo Sykehuskoordinator",
            unit="Medisinsk avdeling",
            profession="sykepleier",
            health_personnel=True,
        ),
    )
    sent = await h.cmd(
        "federation",
        SendNeedReport(
            actor=h.actor,
            to=m.code,
            national_id=synthetic_national_id(rng),
            needs=["ip", "coordinator"],
            department="Medisinsk avdeling",
            expected_discharge=today + timedelta(days=7),
            services=["hjemmesykepleie"],
            hospital_coordinator="hk-demo",
            basis=DisclosureBasis.CONSENT,
        ),
    )
    out.link_id = sent["link_id"]
    receipt = await h.until(lambda: _message(h, sent["link_id"], sent["message_id"]))
    out.municipal_case = receipt["reference"] or ""
    say(f"   kvittering fra {m.code}: {NB[receipt['status']]}, sak {out.municipal_case}")
    there = await m.query("federation", GetLink(actor=m.actor, link_id=uuid.UUID(out.link_id)))
    case_id = uuid.UUID(there["case_id"])
    detail = await m.query("intake", GetCaseDetail(actor=m.actor, case_id=case_id))
    report = detail["reports"][0]
    say(
        f"   i {m.code}s mottak: melding fra {NB.get(report['reporter_kind'], '?')}, "
        f"{report['department']}, forventet utskrevet {report['expected_discharge']}"
    )

    say(f"2) {m.code} registrerer samtykker og en koordinator; {h.code} foreslår overføring")
    await m.cmd(
        "assignment",
        RegisterCoordinator(
            actor=m.actor,
            staff_id=f"koord-{m.code}",
            display_name="Demo Koordinator",
            unit="Helse og omsorg",
        ),
    )
    for kind in (c.ConsentKind.COORDINATOR, c.ConsentKind.IP):
        await m.cmd("consent", _consent(m, case_id, kind))
    start = today + timedelta(days=7)
    proposal = await h.cmd(
        "federation",
        ProposeHandover(
            actor=h.actor,
            link_id=uuid.UUID(out.link_id),
            coordinator="hk-demo",
            start=start,
            overlap_days=5,
        ),
    )

    async def pending() -> str | None:
        listed = await m.query(
            "federation", ListMessages(actor=m.actor, direction="in", status="pending")
        )
        ids = [
            x["message_id"] for x in listed["messages"] if x["message_id"] == proposal["message_id"]
        ]
        return ids[0] if ids else None

    proposal_id = await m.until(pending)

    async def appointed() -> bool:
        from shared.contracts.assignment import GetCoordination

        coord = await m.query("assignment", GetCoordination(actor=m.actor, case_id=case_id))
        return coord["primary_coordinator_id"] is not None

    await m.until(appointed)
    answer = await m.cmd(
        "federation", AnswerHandover(actor=m.actor, proposal_id=uuid.UUID(proposal_id), accept=True)
    )
    say(f"   {m.code} godtar: {answer['coordinator']} tar over fra {start}")

    async def taken_over() -> list[dict[str, Any]] | None:
        view = await h.query(
            "federation",
            GetLink(actor=h.actor, link_id=uuid.UUID(out.link_id), on=start + timedelta(days=2)),
        )
        active = [k for k in view["coordinators"] if k["active"]]
        return active if any(k["org"] == m.code for k in active) else None

    active = await h.until(taken_over)
    out.coordinator_taken_over_by = answer["coordinator"] or ""
    say("   i overlappen står begge: " + ", ".join(f"{k['org']}: {k['staff_id']}" for k in active))

    say(f"3) {m.code}s plan har et tiltak {h.code} har ansvar for; samtykket gjelder helse")
    await m.until(lambda: _plan_exists(m, case_id))
    head = p.PlanView.model_validate(
        await m.query("planning", p.GetPlan(actor=m.actor, case_id=case_id))
    )
    by = c.GateActor(kind="coordinator", id=str(head.coordinator_id))
    await m.cmd(
        "planning",
        p.SavePlan(
            actor=m.actor,
            case_id=case_id,
            expected_version=head.version,
            by=by,
            content=_plan(today, h.code),
        ),
    )
    await m.cmd("consent", _consent(m, case_id, c.ConsentKind.SHARING, h.code))

    async def shared() -> dict[str, Any] | None:
        view = await h.query(
            "federation", GetSharedPlan(actor=h.actor, link_id=uuid.UUID(out.link_id))
        )
        return view if view["measures"] else None

    view = await h.until(shared)
    out.shared_measures = len(view["measures"])
    say(
        f"   {h.code} ser {out.shared_measures} tiltak: "
        + ", ".join(x["title"] for x in view["measures"])
        + " (resten av planen deles ikke)"
    )
    measure_id = view["measures"][0]["id"]
    update = await h.cmd(
        "federation",
        UpdateMeasure(
            actor=h.actor,
            link_id=uuid.UUID(out.link_id),
            measure_id=measure_id,
            status=p.MeasureStatus.DONE,
        ),
    )
    receipt = await h.until(lambda: _message(h, out.link_id, update["message_id"]))
    doc = p.PlanAccess.model_validate(
        await m.query("planning", p.ViewPlan(actor=m.actor, case_id=case_id, who=by))
    ).document
    assert doc is not None
    out.measure_status_at_municipality = next(
        x.status for x in doc.content.measures if x.id == measure_id
    )
    say(
        f"   {h.code} melder tiltaket utført: {NB[receipt['status']]} ({receipt['reference']}); "
        f"i {m.code}s plan: {NB.get(out.measure_status_at_municipality, '?')}"
    )

    say(
        f"4) personen flytter til {n.code} i dag; samtykke til å dele med {n.code} er registrert "
        f"(med en senere flyttedato beholder {m.code} saken og koordinatoren til flyttedagen)"
    )
    await m.cmd("consent", _consent(m, case_id, c.ConsentKind.SHARING, n.code))
    moved = await m.cmd(
        "federation",
        TransferCase(actor=m.actor, case_id=case_id, to=n.code, moving_on=today),
    )
    receipt = await m.until(lambda: _message(m, moved["link_id"], moved["message_id"]))
    out.moved_to_case = receipt["reference"] or ""
    say(f"   kvittering fra {n.code}: {NB[receipt['status']]}, ny sak {out.moved_to_case}")

    async def closed() -> dict[str, Any] | None:
        d = await m.query("intake", GetCaseDetail(actor=m.actor, case_id=case_id))
        return d if d["status"] == "closed" else None

    d = await m.until(closed)
    out.old_case_closed_reason = d["closed_reason"] or ""
    reason = NB.get(out.old_case_closed_reason, "?")
    say(f"   {m.code}s sak {out.municipal_case} er avsluttet: {reason}")
    out.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    return out


async def _plan_exists(site: Site, case_id: uuid.UUID) -> bool:
    try:
        await site.query("planning", p.GetPlan(actor=site.actor, case_id=case_id))
    except Exception:
        return False
    return True


def _consent(site: Site, case_id: uuid.UUID, kind: c.ConsentKind, to: str | None = None) -> Any:
    return c.RecordConsent(
        actor=site.actor,
        case_id=case_id,
        kind=kind,
        given_by=c.GivenBy(role=c.GiverRole.PERSON),
        form="written",
        recorded_by=site.actor.id,
        given_at=datetime.now(UTC) - timedelta(minutes=1),
        sharing=c.SharingScope(
            recipients=[to],
            life_areas=[c.LifeArea.HEALTH_CARE],
            content_kinds=[c.ContentKind.MEASURES, c.ContentKind.GOALS],
        )
        if to
        else None,
    )


def _plan(today: date, hospital: str) -> p.PlanContent:
    health = c.LifeArea.HEALTH_CARE
    return p.PlanContent(
        goals=[
            p.Goal(
                text="Klare meg hjemme etter utskrivning", horizon=p.Horizon.LONG, life_area=health
            )
        ],
        measures=[
            p.Measure(
                title="Opptrening etter utskrivning",
                life_area=health,
                scope="To ganger i uken",
                responsible=p.Party(kind=p.PartyKind.SERVICE, ref=hospital),
                start=today,
            ),
            p.Measure(
                title="Hjemmesykepleie",
                life_area=health,
                responsible=p.Party(kind=p.PartyKind.SERVICE, ref="hjemmesykepleien"),
                start=today,
            ),
            p.Measure(
                title="Tilrettelagt bolig",
                life_area=c.LifeArea.HOUSING,
                responsible=p.Party(kind=p.PartyKind.SERVICE, ref="boligkontoret"),
            ),
        ],
    )
