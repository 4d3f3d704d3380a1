"""``kenett bench plans``: one large plan, and the KE's overview of many plans (R16, R18).

Loads N plans (default 50,000) for about 2,000 coordinators straight into planning's tables:
the head, the case, one version with a small content (2-5 goals, 3-8 measures) and the pending
evaluations that follow from it (those already overdue marked as announced, as the sweeper
would have left them). Plus one large plan: 50 goals and 300 measures with responsible parties,
dates, life areas and evaluations, saved in 100 versions that grow towards the last one.

The consent gate must let the large plan's coordinator in, so the IP and coordinator consents
of its case are inserted straight into consent's tables (status active, in force since well
before the run), which is all the gate reads; no intake case or NATS command is needed for it.

Planning and consent are then started together (``ServiceHost``) on a nats-server of their own,
and the benchmark asks over NATS, one request at a time, as a KE user would: ``ViewPlan`` of the
large plan as its coordinator (the latest version, version 1 and version 50; each is gated and
audited), and ``ListPlans`` by coordinator, by status, by overdue evaluations and unfiltered.
Of each answer only a few numbers are kept, so the benchmark holds no large replies while the
services (in the same process) are measured.

On PostgreSQL each service gets a fresh schema (``bench<hex>_planning``, ``bench<hex>_consent``),
dropped afterwards; the loaded tables are vacuumed and analysed first, as autovacuum would
leave them, so that it does not start mid-run.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import random
import resource
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import text

from shared.client import KenettClient
from shared.config import Settings
from shared.contracts.consent import GateActor, LifeArea
from shared.contracts.envelope import Actor
from shared.contracts.planning import (
    Contribution,
    Cooperation,
    Evaluation,
    Goal,
    ListPlans,
    Measure,
    Participant,
    Party,
    PlanContent,
    PlanPeriod,
    ResourceNeed,
    ViewPlan,
)
from shared.db.engine import Database
from shared.db.kernel import kernel_registry
from shared.natsconn import connect_once
from shared.plugins import discover, select
from shared.runtime.bench import percentiles
from shared.runtime.host import ServiceHost
from shared.runtime.natsserver import NatsServer

from .domain import content_problems, due_evaluations
from .store import ConsentNote, EvaluationDue, Plan, PlanningCase, PlanVersion, registry

ORG = "bench"
ACTOR = Actor(kind="user", id="bench")
CHUNK = 2000
TARGET_MS = 100.0
BIG = {"goals": 50, "measures": 300, "versions": 100}

# Realistic shares of the plans' statuses: most plans are active.
STATUSES = {"active": 0.70, "draft": 0.08, "under_revision": 0.07, "closed": 0.13, "frozen": 0.02}
AREAS = list(LifeArea)
GOALS = [
    "Jeg vil klare å handle mat selv",
    "Jeg vil komme tilbake i jobb, først på deltid",
    "Jeg vil bo i egen leilighet",
    "Jeg vil ha noen å gå tur med i helgene",
    "Jeg vil ha oversikt over økonomien min",
    "Jeg vil trene to ganger i uka",
    "Jeg vil fullføre videregående skole",
    "Jeg vil sove bedre om natta",
    "Jeg vil klare morgenstellet uten hjelp",
    "Jeg vil delta på fritidsklubben",
    "Jeg vil ha færre innleggelser enn i fjor",
    "Jeg vil lage middag selv tre dager i uka",
]
MEASURES = [
    "Hjemmesykepleie morgen og kveld",
    "Støttekontakt",
    "Fysioterapi",
    "Arbeidsavklaring",
    "Budsjettveiledning",
    "Tilrettelagt skoledag",
    "Avlastning",
    "Praktisk bistand i hjemmet",
    "Samtaler med psykisk helsetjeneste",
    "Treningsgruppe",
    "Matlagingskurs",
    "Oppfølging av fastlegen",
]
SERVICES = [
    "hjemmesykepleien",
    "NAV",
    "fysioterapitjenesten",
    "skolen",
    "psykisk helsetjeneste",
    "boligkontoret",
    "frivilligsentralen",
    "fastlegen",
    "habiliteringstjenesten",
]
RELATIONS = ["mor", "far", "søster", "bror", "datter", "sønn"]
PLACES = ["hjemme", "på dagsenteret", "på NAV-kontoret", "på skolen", "på treningssenteret"]
SCOPES = ["to timer i uka", "hver morgen", "en gang i måneden", "tre dager i uka", "ved behov"]
HOW = [
    "Vi går gjennom ukeplanen sammen og avtaler hva som skal gjøres.",
    "Tjenesten kommer hjem og hjelper med det som er avtalt i planen.",
    "Personen sier selv fra når noe ikke fungerer, og vi justerer tiltaket.",
    "Koordinator følger opp og tar det opp på neste møte i ansvarsgruppen.",
    "Pårørende er med når personen ønsker det.",
]
COMMENTS = [
    "Går bedre enn ventet.",
    "Trenger mer tid; vi fortsetter som før.",
    "Personen er fornøyd med tiltaket.",
    "Tiltaket passer ikke lenger; vurderes endret.",
]


def _party(rng: random.Random, coordinator: uuid.UUID) -> Party:
    roll = rng.random()
    if roll < 0.15:
        return Party(kind="person")
    if roll < 0.25:
        return Party(kind="next_of_kin", ref=rng.choice(RELATIONS))
    if roll < 0.30:
        return Party(kind="coordinator", ref=str(coordinator))
    return Party(kind="service", ref=rng.choice(SERVICES))


def _evaluation(rng: random.Random, on: date, staff: str) -> Evaluation:
    return Evaluation(
        on=on,
        outcome=rng.choice(["achieved", "partly", "partly", "not_achieved"]),
        comment=rng.choice(COMMENTS),
        by=staff,
    )


# --- The many small plans -----------------------------------------------------------------


def _small_content(
    rng: random.Random, coordinator: uuid.UUID, start: date, next_on: date | None
) -> tuple[PlanContent, int]:
    """2-5 goals and 3-8 measures; when ``next_on`` is set, one to three items are due for
    evaluation, the earliest on ``next_on``."""
    number = 0

    def next_id(prefix: str) -> str:
        nonlocal number
        number += 1
        return f"{prefix}{number}"

    goals = [
        Goal(
            id=next_id("G"),
            text=rng.choice(GOALS),
            horizon=rng.choice(["long", "short"]),
            life_area=rng.choice(AREAS),
        )
        for _ in range(rng.randint(2, 5))
    ]
    measures = [
        Measure(
            id=next_id("M"),
            title=rng.choice(MEASURES),
            life_area=rng.choice(AREAS),
            goal_ids=[rng.choice(goals).id or ""],
            scope=rng.choice(SCOPES),
            how=rng.choice(HOW),
            where=rng.choice(PLACES),
            responsible=_party(rng, coordinator),
            start=start,
            status="ongoing",
        )
        for _ in range(rng.randint(3, 8))
    ]
    if next_on is not None:
        dates = [next_on] + [next_on + timedelta(days=rng.randint(0, 120)) for _ in range(2)]
        for d in dates[: rng.randint(1, 3)]:
            if rng.random() < 0.3:
                n = rng.randrange(len(goals))
                goals[n] = goals[n].model_copy(update={"evaluation_date": d})
            else:
                n = rng.randrange(len(measures))
                measures[n] = measures[n].model_copy(
                    update={"evaluation_date": d, "start": min(start, d)}
                )
    content = PlanContent(
        goals=goals,
        resources_needs=[
            ResourceNeed(
                id=next_id("R"),
                kind="need",
                life_area=measures[0].life_area,
                text="Trenger hjelp til " + measures[0].title.lower(),
            )
        ],
        participants=[
            Participant(id=next_id("P"), party=Party(kind="person"), role="planeier"),
            Participant(
                id=next_id("P"),
                party=Party(kind="coordinator", ref=str(coordinator)),
                role="koordinator",
            ),
        ],
        measures=measures,
        # R14 point 7: an active plan has a date for adjustment and revision.
        period=PlanPeriod(
            start=start,
            end=start + timedelta(days=365),
            revision_dates=[start + timedelta(days=182)],
        ),
    )
    return content, number


@dataclass
class Rows:
    """Rows for planning's and consent's tables, in insertion order."""

    cases: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    due: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)


def _due_rows(
    plan_id: uuid.UUID, case_id: uuid.UUID, content: PlanContent, today: date, now: datetime
) -> tuple[list[dict[str, Any]], date | None]:
    """What ``project_due`` keeps for a version: overdue ones already announced by the sweep."""
    rows = [
        {
            "plan_id": plan_id,
            "item_id": d.item_id,
            "org": ORG,
            "case_id": case_id,
            "item_kind": d.item_kind,
            "due_on": d.due_on,
            "announced_at": now if d.due_on < today else None,
        }
        for d in due_evaluations(content)
    ]
    return rows, min((r["due_on"] for r in rows), default=None)


def _small_plans(
    rng: random.Random, n: int, coordinators: list[uuid.UUID], now: datetime, rows: Rows
) -> None:
    today = now.date()
    statuses, weights = list(STATUSES), list(STATUSES.values())
    for i in range(n):
        case_id, plan_id = uuid.UUID(int=rng.getrandbits(128)), uuid.UUID(int=rng.getrandbits(128))
        coordinator = rng.choice(coordinators)
        status = rng.choices(statuses, weights)[0]
        updated = now - timedelta(seconds=rng.randint(0, 365 * 86400))
        created = updated - timedelta(seconds=rng.randint(0, 365 * 86400))
        start = created.date()
        # ~82 % of the open plans (~70 % of all) have an evaluation pending; ~20 % of those
        # are overdue. Closed and frozen plans have none (project_due).
        pending = status not in ("closed", "frozen") and rng.random() < 0.82
        next_on = today + timedelta(days=rng.randint(-60, 240)) if pending else None
        content, numbered = _small_content(rng, coordinator, start, next_on)
        due, next_evaluation_on = _due_rows(plan_id, case_id, content, today, now)
        case_ref = f"2026-{i:06d}"
        rows.cases.append(
            {
                "case_id": case_id,
                "org": ORG,
                "case_ref": case_ref,
                "ip_consent_id": uuid.UUID(int=rng.getrandbits(128)),
                "coordinator_id": coordinator,
                "tool": "ip",
            }
        )
        rows.plans.append(
            {
                "id": plan_id,
                "org": ORG,
                "case_id": case_id,
                "case_ref": case_ref,
                "coordinator_id": coordinator,
                "status": status,
                "frozen_from": "active" if status == "frozen" else None,
                "version": 1,
                "created_at": created,
                "updated_at": updated,
                "items_numbered": numbered,
                "period_start": start,
                "period_end": start + timedelta(days=365),
                "next_evaluation_on": next_evaluation_on,
                "status_reason": "goals_reached" if status == "closed" else None,
                "closed_at": updated if status == "closed" else None,
                "anonymised_at": None,
            }
        )
        rows.versions.append(
            {
                "plan_id": plan_id,
                "version": 1,
                "saved_at": updated,
                "saved_by": "bench",
                "by_kind": "coordinator",
                "by_id": str(coordinator),
                "change": "saved",
                "status": status,
                "note": None,
                "content": content.model_dump_json(exclude_defaults=True),
            }
        )
        rows.due += due


# --- The large plan -----------------------------------------------------------------------


@dataclass
class BigPlan:
    case_id: uuid.UUID
    plan_id: uuid.UUID
    coordinator: uuid.UUID
    content_kb: float = 0.0


def _big_versions(
    rng: random.Random, coordinator: uuid.UUID, created: datetime
) -> tuple[list[tuple[datetime, PlanContent]], int]:
    """100 versions, three days apart, each adding measures (three) and goals (one every
    other version) and the evaluations that fell before it was saved."""
    goals_n, measures_n, versions = BIG["goals"], BIG["measures"], BIG["versions"]
    staff = [f"k{n:05d}" for n in range(5)]
    saved = [created + timedelta(days=3 * k, minutes=rng.randint(0, 600)) for k in range(versions)]
    number = 0

    def next_id(prefix: str) -> str:
        nonlocal number
        number += 1
        return f"{prefix}{number}"

    fixed: dict[str, list[Any]] = {
        "participants": [
            Participant(id=next_id("P"), party=Party(kind="person"), role="planeier"),
            Participant(
                id=next_id("P"),
                party=Party(kind="coordinator", ref=str(coordinator)),
                role="koordinator",
            ),
            Participant(
                id=next_id("P"), party=Party(kind="next_of_kin", ref="mor"), role="pårørende"
            ),
        ]
        + [
            Participant(id=next_id("P"), party=Party(kind="service", ref=s), role="tjenesteyter")
            for s in SERVICES[:4]
        ],
        "resources_needs": [
            ResourceNeed(
                id=next_id("R"),
                kind=rng.choice(["resource", "need"]),
                life_area=a,
                text=f"{rng.choice(GOALS)}; det krever {rng.choice(MEASURES).lower()}.",
            )
            for a in AREAS
        ],
        "contributions": [
            Contribution(
                id=next_id("C"),
                party=Party(kind="service", ref=s),
                text=f"{s} bidrar med {rng.choice(MEASURES).lower()}.",
            )
            for s in SERVICES[:5]
        ],
        "cooperation": [
            Cooperation(id=next_id("S"), agency=s, purpose=rng.choice(HOW)) for s in SERVICES[5:]
        ],
    }
    # Each goal and measure: the version it first appears in, its dates, and whether it is
    # evaluated on its evaluation dates (then each evaluation date is followed by the next).
    goal_plan: list[dict[str, Any]] = []
    measure_plan: list[dict[str, Any]] = []
    for v in range(versions):  # version v + 1
        for _ in range(math.ceil((v + 1) * goals_n / versions) - len(goal_plan)):
            first = saved[v].date()
            goal_plan.append(
                {
                    "v": v,
                    "id": next_id("G"),
                    "text": f"{rng.choice(GOALS)} ({len(goal_plan) + 1})",
                    "horizon": rng.choice(["long", "short"]),
                    "area": rng.choice(AREAS),
                    "deadline": first + timedelta(days=rng.randint(180, 540)),
                    "schedule": [first + timedelta(days=90 * s) for s in range(1, 8)],
                    "evaluated": rng.random() < 0.6,
                }
            )
        for _ in range(math.ceil((v + 1) * measures_n / versions) - len(measure_plan)):
            start = saved[v].date() + timedelta(days=rng.randint(0, 14))
            measure_plan.append(
                {
                    "v": v,
                    "id": next_id("M"),
                    "title": f"{rng.choice(MEASURES)} ({len(measure_plan) + 1})",
                    "area": rng.choice(AREAS),
                    "goals": sorted(
                        {goal_plan[rng.randrange(len(goal_plan))]["id"] for _ in range(2)}
                    ),
                    "scope": rng.choice(SCOPES),
                    "how": " ".join(rng.sample(HOW, 2)),
                    "where": rng.choice(PLACES),
                    "responsible": _party(rng, coordinator),
                    "start": start,
                    "deadline": start + timedelta(days=rng.randint(60, 400)),
                    "schedule": [start + timedelta(days=60 * s) for s in range(1, 10)],
                    "evaluated": rng.random() < 0.6,
                }
            )
    outcomes = {
        (item["id"], d): _evaluation(rng, d, rng.choice(staff))
        for item in goal_plan + measure_plan
        for d in item["schedule"]
    }

    def evaluations_by(item: dict[str, Any], day: date) -> tuple[list[Evaluation], date | None]:
        past = [d for d in item["schedule"] if d <= day] if item["evaluated"] else []
        upcoming = item["schedule"][len(past)] if len(past) < len(item["schedule"]) else None
        return [outcomes[(item["id"], d)] for d in past], upcoming

    result = []
    for v in range(versions):
        day = saved[v].date()
        goals = []
        for g in goal_plan:
            if g["v"] > v:
                break
            evaluations, upcoming = evaluations_by(g, day)
            goals.append(
                Goal(
                    id=g["id"],
                    text=g["text"],
                    horizon=g["horizon"],
                    life_area=g["area"],
                    deadline=g["deadline"],
                    evaluation_date=upcoming,
                    evaluations=evaluations,
                )
            )
        measures = []
        for m in measure_plan:
            if m["v"] > v:
                break
            evaluations, upcoming = evaluations_by(m, day)
            done = m["evaluated"] and m["deadline"] < day
            measures.append(
                Measure(
                    id=m["id"],
                    title=m["title"],
                    life_area=m["area"],
                    goal_ids=m["goals"],
                    scope=m["scope"],
                    how=m["how"],
                    where=m["where"],
                    responsible=m["responsible"],
                    start=m["start"],
                    deadline=m["deadline"],
                    evaluation_date=None if done else upcoming,
                    status="done" if done else ("planned" if day < m["start"] else "ongoing"),
                    evaluations=evaluations,
                )
            )
        content = PlanContent(
            goals=goals,
            measures=measures,
            period=PlanPeriod(
                start=created.date(),
                end=created.date() + timedelta(days=730),
                revision_dates=[created.date() + timedelta(days=182 * n) for n in range(1, 4)],
            ),
            **fixed,
        )
        result.append((saved[v], content))
    return result, number


def _big_plan(
    rng: random.Random, coordinator: uuid.UUID, now: datetime, rows: Rows
) -> tuple[BigPlan, list[dict[str, Any]]]:
    """The large plan's rows in planning; returns the consent rows for consent's tables."""
    big = BigPlan(
        uuid.UUID(int=rng.getrandbits(128)), uuid.UUID(int=rng.getrandbits(128)), coordinator
    )
    created = now - timedelta(days=3 * BIG["versions"] + 1)
    versions, numbered = _big_versions(rng, coordinator, created)
    final = versions[-1][1]
    problems = content_problems(final)
    assert not problems, problems  # the content is one the service would have accepted
    for n, (saved_at, content) in enumerate(versions, start=1):
        body = content.model_dump_json(exclude_defaults=True)
        big.content_kb = round(len(body.encode()) / 1024, 1)
        rows.versions.append(
            {
                "plan_id": big.plan_id,
                "version": n,
                "saved_at": saved_at,
                "saved_by": "bench",
                "by_kind": "coordinator",
                "by_id": str(coordinator),
                "change": "activated" if n == 2 else "saved",
                "status": "draft" if n == 1 else "active",
                "note": None,
                "content": body,
            }
        )
    due, next_evaluation_on = _due_rows(big.plan_id, big.case_id, final, now.date(), now)
    rows.due += due
    ip_id, coordinator_consent_id = uuid.uuid4(), uuid.uuid4()
    given = created - timedelta(days=7)
    rows.cases.append(
        {
            "case_id": big.case_id,
            "org": ORG,
            "case_ref": "2026-B00001",
            "ip_consent_id": ip_id,
            "coordinator_id": coordinator,
            "tool": "ip",
        }
    )
    rows.plans.append(
        {
            "id": big.plan_id,
            "org": ORG,
            "case_id": big.case_id,
            "case_ref": "2026-B00001",
            "coordinator_id": coordinator,
            "status": "active",
            "frozen_from": None,
            "version": BIG["versions"],
            "created_at": created,
            "updated_at": versions[-1][0],
            "items_numbered": numbered,
            "period_start": final.period.start if final.period else None,
            "period_end": final.period.end if final.period else None,
            "next_evaluation_on": next_evaluation_on,
            "status_reason": None,
            "closed_at": None,
            "anonymised_at": None,
        }
    )
    consents = []
    for consent_id, kind in ((ip_id, "ip"), (coordinator_consent_id, "coordinator")):
        rows.notes.append(
            {
                "consent_id": consent_id,
                "case_id": big.case_id,
                "kind": kind,
                "given_at": given,
                "valid_until": None,
                "status": "active",
            }
        )
        consents.append(
            {
                "id": consent_id,
                "org": ORG,
                "case_id": big.case_id,
                "kind": kind,
                "giver_role": "person",
                "legal_basis": None,
                "givers": json.dumps([{"role": "person", "legal_basis": None}]),
                "parental_responsibility": None,
                "form": "written",
                "recorded_by": "bench",
                "given_at": given,
                "recorded_at": given,
                "document_ref": None,
                "valid_from": given,
                "valid_until": None,
                "scope": None,
                "status": "active",
                "status_changed_at": given,
            }
        )
    return big, consents


async def _insert(db: Database, tables: list[tuple[Any, list[dict[str, Any]]]]) -> None:
    async with db.engine.begin() as conn:
        for table, rows in tables:
            for i in range(0, len(rows), CHUNK):
                await conn.execute(table.insert(), rows[i : i + CHUNK])
        if db.is_sqlite:
            await conn.execute(text("ANALYZE"))
    if not db.is_sqlite:
        # As autovacuum leaves a table in steady use (statistics, visibility map: counts can
        # be index-only scans), and so that it does not start on these tables mid-run.
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table, _ in tables:
                await conn.execute(text(f'VACUUM (ANALYZE) "{table.name}"'))


async def _load(
    planning: Database, consent: Database, plans: int, coordinators: int, rng: random.Random
) -> tuple[BigPlan, list[uuid.UUID]]:
    # Consent's tables through its plugin (services do not import each other's code).
    consent_tables = discover()["consent"].plugin.metadata.tables

    now = datetime.now(UTC)
    coordinator_ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(coordinators)]
    rows = Rows()
    _small_plans(rng, plans, coordinator_ids, now, rows)
    big, consents = _big_plan(rng, rng.choice(coordinator_ids), now, rows)
    await _insert(
        planning,
        [
            (PlanningCase.__table__, rows.cases),  # type: ignore[attr-defined]
            (Plan.__table__, rows.plans),  # type: ignore[attr-defined]
            (PlanVersion.__table__, rows.versions),  # type: ignore[attr-defined]
            (EvaluationDue.__table__, rows.due),  # type: ignore[attr-defined]
            (ConsentNote.__table__, rows.notes),  # type: ignore[attr-defined]
        ],
    )
    await _insert(
        consent,
        [
            (
                consent_tables["consent_case"],
                [
                    {
                        "case_id": big.case_id,
                        "org": ORG,
                        "case_ref": "2026-B00001",
                        "birth_date": date(1980, 5, 1),
                        "sixteen_on": None,
                    }
                ],
            ),
            (consent_tables["consent_consent"], consents),
            (
                consent_tables["consent_change"],
                [
                    {
                        "consent_id": c["id"],
                        "case_id": big.case_id,
                        "at": c["recorded_at"],
                        "change": "recorded",
                        "by": "bench",
                        "form": "written",
                    }
                    for c in consents
                ],
            ),
        ],
    )
    return big, coordinator_ids


# --- Measuring ----------------------------------------------------------------------------


async def _timed(
    client: KenettClient, make: Any, runs: int, warmup: int, keep: Any
) -> tuple[list[float], list[Any]]:
    """Latencies of ``runs`` queries one at a time, after ``warmup``; of each answer only
    ``keep(answer)`` is kept, so the benchmark holds no large replies while it measures."""
    for _ in range(warmup):
        await client.query("planning", make())
    latencies, kept = [], []
    for _ in range(runs):
        q = make()
        start = time.perf_counter()
        result = await client.query("planning", q)
        latencies.append((time.perf_counter() - start) * 1000)
        kept.append(keep(result))
        del result
    return latencies, kept


def _shape(answer: dict[str, Any]) -> tuple[int, int, int]:
    document = answer["document"]
    content = document["content"]
    return document["version"], len(content.get("goals", [])), len(content.get("measures", []))


async def _measure(
    database_url: str,
    prefix: str,
    plans: int,
    coordinators: int,
    views: int,
    lists: int,
    workdir: Path,
) -> dict[str, Any]:
    rng = random.Random(20261123)
    planning_plugin, consent_plugin = select(["planning", "consent"])
    planning_db = Database(database_url, "planning", prefix)
    consent_db = Database(database_url, "consent", prefix)
    try:
        await planning_db.prepare(
            [planning_plugin.migrations], [kernel_registry.metadata, registry.metadata]
        )
        await consent_db.prepare(
            [consent_plugin.migrations], [kernel_registry.metadata, consent_plugin.metadata]
        )
        t0 = time.perf_counter()
        big, coordinator_ids = await _load(planning_db, consent_db, plans, coordinators, rng)
        load_s = time.perf_counter() - t0
    finally:
        await planning_db.dispose()
        await consent_db.dispose()
    gc.collect()  # the rows loaded are garbage now; not the services' to collect
    server = NatsServer(workdir / "nats").start()
    settings = Settings(
        org=ORG,
        nats_url=server.url,
        database_url=database_url,
        database_schema_prefix=prefix,
        log_level="WARNING",
    )
    host = ServiceHost(settings, [planning_plugin, consent_plugin])
    await host.start()
    nc = await connect_once(server.url, "kenett-bench")
    client = KenettClient(nc, ORG, timeout=30)
    who = GateActor(kind="coordinator", id=str(big.coordinator))
    try:
        view: dict[str, Any] = {}
        for name, version in (("latest", None), ("version_1", 1), ("version_50", 50)):
            latencies, shapes = await _timed(
                client,
                lambda v=version: ViewPlan(actor=ACTOR, case_id=big.case_id, who=who, version=v),
                views,
                10,
                _shape,
            )
            number, goals, measures = shapes[-1]
            view[name] = {
                "version": number,
                "goals": goals,
                "measures": measures,
                **percentiles(latencies),
            }
        kinds = {
            "by_coordinator": lambda: ListPlans(
                actor=ACTOR, coordinator_id=rng.choice(coordinator_ids)
            ),
            "by_status": lambda: ListPlans(actor=ACTOR, status=["active"]),
            "overdue": lambda: ListPlans(actor=ACTOR, overdue_evaluations=True),
            "all": lambda: ListPlans(actor=ACTOR),
        }
        listing: dict[str, Any] = {}
        for name, make in kinds.items():
            latencies, counts = await _timed(
                client, make, lists, 20, lambda r: (r["total"], len(r["plans"]))
            )
            listing[name] = {
                "total": round(sum(t for t, _ in counts) / len(counts), 1)
                if name == "by_coordinator"  # the mean over the random coordinators
                else counts[-1][0],
                "rows": round(sum(n for _, n in counts) / len(counts), 1),
                **percentiles(latencies),
            }
    finally:
        await nc.close()
        await host.stop()
        server.stop()
    latest = view.pop("latest")
    targets_met = all(v["p95_ms"] < TARGET_MS for v in [latest, *view.values()]) and all(
        v["p95_ms"] < TARGET_MS for v in listing.values()
    )
    return {
        "benchmark": "plans",
        "database": database_url.split(":", 1)[0].split("+", 1)[0],
        "plans": plans,
        "coordinators": coordinators,
        "load_s": round(load_s, 1),
        "big_plan": {
            "goals": latest["goals"],
            "measures": latest["measures"],
            "versions": latest["version"],
            "content_kb": big.content_kb,
            "queries": views,
            **{k: v for k, v in latest.items() if k.endswith("_ms")},
            **view,
        },
        "list": {"queries": lists, **listing},
        "target_p95_ms": TARGET_MS,
        "targets_met": targets_met,
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def plans(
    plans: Annotated[int, typer.Option(help="Plans in the KE's overview.")] = 50_000,
    coordinators: Annotated[int, typer.Option(help="Coordinators the plans are spread over.")] = (
        2_000
    ),
    views: Annotated[int, typer.Option(help="Reads of the large plan to time, per version.")] = (
        100
    ),
    lists: Annotated[int, typer.Option(help="Overview queries to time, per filter.")] = 200,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="A PostgreSQL URL (fresh schemas are used); SQLite in a temp dir if absent."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")] = False,
) -> None:
    """A plan of 50 goals, 300 measures and 100 versions, and the KE's overview of many plans
    (R16, R18): p50/p95/p99 over NATS."""
    from rich.console import Console
    from rich.table import Table

    from shared.logging import configure_logging

    configure_logging("console", "WARNING")
    with tempfile.TemporaryDirectory(prefix="kenett-bench-") as tmp:
        args = (plans, coordinators, views, lists, Path(tmp))
        if database_url:
            url = Settings(database_url=database_url).resolved_database_url()
            figures = asyncio.run(_measure_pg(url, *args))
        else:
            url = f"sqlite+aiosqlite:///{tmp}/{{service}}.db"
            figures = asyncio.run(_measure(url, "", *args))
    table = Table(title="kenett bench plans (over NATS, loopback)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        if key in ("big_plan", "list"):
            for sub, sub_value in value.items():
                if isinstance(sub_value, dict):
                    sub_value = ", ".join(f"{k} {v}" for k, v in sub_value.items())
                table.add_row(f"{key}.{sub}", str(sub_value))
        else:
            table.add_row(key, str(value))
    Console().print(table)
    if as_json:
        print(json.dumps(figures))


async def _measure_pg(
    url: str, plans: int, coordinators: int, views: int, lists: int, workdir: Path
) -> dict[str, Any]:
    """As ``_measure``, in schemas of their own that are dropped afterwards."""
    prefix = f"bench{uuid.uuid4().hex[:6]}_"
    try:
        return await _measure(url, prefix, plans, coordinators, views, lists, workdir)
    finally:
        for service in ("planning", "consent"):
            db = Database(url, service, prefix)
            try:
                if db.schema:
                    async with db.engine.begin() as conn:
                        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE'))
            finally:
                await db.dispose()
