"""``kenett bench scale``: the KE's overview at 100,000 cases, all-in-one.

Loads N synthetic cases (default 100,000) straight into the databases of the services that
hold them, consistent across services as the events would have left them:

- **intake**: a person, the case and its report; a decision for each case past assessment.
  Statuses: 4 % received, 6 % under assessment, 10 % decided, 60 % active, 20 % closed.
- **assignment**: the coordinator registry (default 4,000, eight units, individual caseload
  limits of 10-25, 3 % inactive), and for each case with a coordinator its episode and primary
  appointment: open for active cases and half the decided ones (the other half wait on the
  KE's worklist), ended for closed ones. About 1 % of appointments were made over the limit
  (R10). The maintained ``caseload`` column is the count of open appointments.
- **planning**: for each case with a coordinator and a need for an IP, the plan (active,
  draft, under revision, frozen or closed) with one version of 2-5 goals and 3-8 measures.
  About 82 % of the open plans have an evaluation pending, and about a fifth of those are
  overdue; these are marked as announced, as planning's sweeper would have left them.

Consent and notifications start with empty tables: no overview query reads them.

The kernel imports no service, so the rows are written with SQLAlchemy Core into the tables
each service plugin declares (``plugin.metadata``), in one transaction per service. Then
every installed service (what ``kenett up`` runs) is started in one child process
(``kenett run``) on a nats-server of its own, and the benchmark asks over NATS, one request
at a time and interleaved, as a KE user paging through the overview would:

- ``intake.case_counts``: cases per status (counts only);
- ``intake.cases``: a page of 50 cases of a random status, anywhere in it (audited: each read
  writes an audit record);
- ``assignment.caseload``: a page of 100 coordinators with their caseloads and the units'
  totals, for all units or a random one, at a random offset;
- ``planning.list`` with ``overdue_evaluations``: a page of 50 anywhere in the list, or for a
  random coordinator.

"Anywhere": each list is first walked with pages of 500, keeping every cursor.

``rss_mb`` is the peak resident set (``VmHWM``) of the services' process after the load and
all the queries. On PostgreSQL each service uses a fresh schema (``bench<hex>_<service>``),
vacuumed and analysed after loading and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, text
from stdnum.no import fodselsnummer

from shared.client import KenettClient
from shared.contracts.assignment import CaseloadOverview
from shared.contracts.consent import LifeArea
from shared.contracts.envelope import Actor
from shared.contracts.intake import CASE_STATUSES, CaseStatusValue, CountCases, ListCases
from shared.contracts.planning import ListPlans, PlanContent
from shared.db.engine import Database
from shared.db.kernel import kernel_registry
from shared.natsconn import connect_once
from shared.plugins import discover
from shared.runtime.bench import ORG, percentiles, process_memory_mb, services
from shared.runtime.natsserver import NatsServer

ACTOR = Actor(kind="user", id="bench")
CHUNK = 5000
TARGET_P95_MS = 100.0
TARGET_RSS_MB = 300.0
LOADED = ("intake", "assignment", "planning")
LISTS = ("cases", "coordinators", "plans", "by_status")  # what each reply lists

STATUS_SHARES = {
    "received": 0.04,
    "under_assessment": 0.06,
    "decided": 0.10,
    "active": 0.60,
    "closed": 0.20,
}
UNITS = [
    "Helse og omsorg",
    "Kultur og oppvekst",
    "Hjemmetjenesten",
    "Psykisk helse og rus",
    "Barn og familie",
    "NAV",
    "Habilitering",
    "Rehabilitering",
]
LANGUAGES = ["en", "ar", "so", "pl", "uk", "ti", "sme", "fa"]
SERVICES = ["hjemmesykepleie", "fysioterapi", "ergoterapi", "psykisk_helse", "praktisk_bistand"]
CLOSE_REASONS = ["moved", "died", "no_longer_needed", "no_longer_needed", "declined"]
AREAS = [a.value for a in LifeArea]
GOALS = [
    "Jeg vil klare å handle mat selv",
    "Jeg vil komme tilbake i jobb, først på deltid",
    "Jeg vil bo i egen leilighet",
    "Jeg vil ha noen å gå tur med i helgene",
    "Jeg vil ha oversikt over økonomien min",
    "Jeg vil trene to ganger i uka",
    "Jeg vil fullføre videregående skole",
    "Jeg vil sove bedre om natta",
]
MEASURES = [
    "Hjemmesykepleie morgen og kveld",
    "Støttekontakt",
    "Fysioterapi",
    "Arbeidsavklaring",
    "Budsjettveiledning",
    "Avlastning",
    "Praktisk bistand i hjemmet",
    "Treningsgruppe",
]
PROVIDERS = ["hjemmesykepleien", "NAV", "fysioterapitjenesten", "skolen", "boligkontoret"]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random moment in [start, end] (start when the interval is empty)."""
    span = (end - start).total_seconds()
    return start + timedelta(seconds=rng.uniform(0, span)) if span > 0 else start


@dataclass(slots=True)
class CaseSpec:
    """One synthetic case, as every service holds it."""

    id: uuid.UUID
    person_id: uuid.UUID
    status: str
    ip: bool
    received_at: datetime
    decided_at: datetime | None = None
    started_at: datetime | None = None  # the coordinator's appointment
    closed_at: datetime | None = None
    coordinator: int | None = None  # index into the registry
    ref: str = ""


@dataclass
class Load:
    """What was loaded, for the report."""

    cases: int = 0
    coordinators: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    open_appointments: int = 0
    over_limit: int = 0
    plans: int = 0
    overdue_plans: int = 0
    coordinator_ids: list[uuid.UUID] = field(default_factory=list)


def _cases(rng: random.Random, n: int, now: datetime) -> list[CaseSpec]:
    statuses, weights = list(STATUS_SHARES), list(STATUS_SHARES.values())
    day = timedelta(days=1)
    specs = []
    for _ in range(n):
        status = rng.choices(statuses, weights)[0]
        ip = rng.random() < 0.85  # the rest asked for a coordinator only
        if status == "received":
            received = now - rng.uniform(0, 30) * day
        elif status == "under_assessment":
            received = now - rng.uniform(5, 60) * day
        elif status == "decided":
            received = now - rng.uniform(20, 120) * day
        elif status == "active":
            received = now - rng.uniform(60, 3 * 365) * day
        else:
            received = now - rng.uniform(180, 4 * 365) * day
        spec = CaseSpec(_uuid(rng), _uuid(rng), status, ip, received)
        if status in ("decided", "active", "closed"):
            decided = min(now - day, received + rng.uniform(5, 40) * day)
            spec.decided_at = decided
            if status == "closed":
                spec.closed_at = _between(rng, decided + 10 * day, now - day)
        specs.append(spec)
    # References run per year in the order the reports came, as intake numbers them.
    specs.sort(key=lambda s: s.received_at)
    numbers: dict[int, int] = {}
    for s in specs:
        year = s.received_at.year
        numbers[year] = numbers.get(year, 0) + 1
        s.ref = f"{year}-{numbers[year]:06d}"
    return specs


# --- intake -------------------------------------------------------------------------------


def _national_id(rng: random.Random, issued: dict[date, int]) -> tuple[date, str]:
    """A birth date 1940-2014 and a valid fødselsnummer for it, never the same twice: the
    individual numbers of each date are given out in turn (``synthetic_national_id`` draws
    them at random, which costs a shuffle per number)."""
    while True:
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 75))
        first = 0 if birth.year < 2000 else 500
        individual = issued.get(birth, first)
        while individual < first + 500:
            digits = f"{birth:%d%m%y}{individual:03d}"
            individual += 1
            k1 = fodselsnummer.calc_check_digit1(digits)
            k2 = fodselsnummer.calc_check_digit2(digits + k1) if k1 != "10" else "10"
            if k2 != "10":
                issued[birth] = individual
                return birth, digits + k1 + k2
        issued[birth] = individual  # this date's numbers are used up: draw another date


def _intake_rows(
    rng: random.Random, specs: list[CaseSpec], now: datetime
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    issued: dict[date, int] = {}
    for i in range(0, len(specs), CHUNK):
        persons, cases, reports, decisions = [], [], [], []
        for s in specs[i : i + CHUNK]:
            birth, number = _national_id(rng, issued)
            persons.append(
                {
                    "id": s.person_id,
                    "org": ORG,
                    "national_id": number,
                    "birth_date": birth,
                    "created_at": s.received_at,
                }
            )
            cases.append(
                {
                    "id": s.id,
                    "org": ORG,
                    "ref": s.ref,
                    "person_id": s.person_id,
                    "served_org": ORG,
                    "status": s.status,
                    "needs": "ip,coordinator" if s.ip else "coordinator",
                    "received_at": s.received_at,
                    "opened_at": s.received_at,
                    "closed_at": s.closed_at,
                    "closed_reason": rng.choice(CLOSE_REASONS) if s.closed_at else None,
                }
            )
            reports.append(
                {
                    "id": _uuid(rng),
                    "org": ORG,
                    "case_id": s.id,
                    "reporter_kind": rng.choice(["employee", "hospital", "next_of_kin", "ke"]),
                    "reporter_relation": None,
                    "reporter_unit": None,
                    "reporter_department": None,
                    "expected_discharge": None,
                    "form": rng.choice(["oral", "written"]),
                    "services": json.dumps(rng.sample(SERVICES, rng.randint(2, 4))),
                    "note": None,
                    "received_at": s.received_at,
                    "recorded_by": "bench",
                    "recorded_at": s.received_at,
                }
            )
            if s.decided_at is not None:
                notified = s.decided_at.date()
                decisions.append(
                    {
                        "id": _uuid(rng),
                        "org": ORG,
                        "case_id": s.id,
                        "kind": "ip" if s.ip else "coordinator",
                        "granted": True,
                        "grounds": "Vilkårene er oppfylt.",
                        "decided_by": "bench",
                        "decided_at": s.decided_at,
                        "notified_on": notified,
                        "appeal_deadline": notified + timedelta(days=28) if s.ip else None,
                    }
                )
        yield "intake_person", persons
        yield "intake_case", cases
        yield "intake_report", reports
        yield "intake_decision", decisions
    last: dict[int, int] = {}
    for s in specs:
        year, number = s.ref.split("-")
        last[int(year)] = max(last.get(int(year), 0), int(number))
    yield "intake_case_counter", [{"org": ORG, "year": y, "last": n} for y, n in last.items()]


# --- assignment ---------------------------------------------------------------------------


def _registry(rng: random.Random, n: int, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        unit = rng.choice(UNITS)
        rows.append(
            {
                "id": _uuid(rng),
                "org": ORG,
                "staff_id": f"k{i:05d}",
                "display_name": f"Koordinator {i}",
                "unit": unit,
                "unit_key": unit.casefold(),
                "profession": rng.choice(["sykepleier", "sosionom", "vernepleier", "ergoterapeut"]),
                "health_personnel": rng.random() < 0.6,
                "training_completed_on": date(2025, 1, 1) if rng.random() < 0.7 else None,
                "languages": ",nb," + ",".join(rng.sample(LANGUAGES, rng.randint(0, 2))) + ",",
                "caseload_limit": rng.choice([10, 15, 20, 20, 25]),
                "caseload": 0,
                "active": rng.random() < 0.97,
                "registered_at": now - timedelta(days=5 * 365) + timedelta(minutes=i),
                "deactivated_at": None,
                "deactivation_reason": None,
            }
        )
    return rows


def _appoint(
    rng: random.Random, specs: list[CaseSpec], registry: list[dict[str, Any]], now: datetime
) -> None:
    """Who coordinates which case: open appointments fill the active coordinators' places at
    random (1 % over the limit, with an override); closed cases had anyone."""
    slots = [i for i, c in enumerate(registry) if c["active"] for _ in range(c["caseload_limit"])]
    rng.shuffle(slots)
    day = timedelta(days=1)
    for s in specs:
        if s.decided_at is None or (s.status == "decided" and rng.random() < 0.5):
            continue  # not yet decided, or on the KE's worklist
        if s.status == "closed":
            if rng.random() < 0.1:
                continue  # closed before a coordinator was appointed
            s.coordinator = rng.randrange(len(registry))
        else:
            if slots and rng.random() >= 0.01:
                s.coordinator = slots.pop()
            else:  # over the limit, with an override (R10), or the places ran out
                s.coordinator = rng.randrange(min(200, len(registry)))
            registry[s.coordinator]["caseload"] += 1
        s.started_at = min(now - day / 2, s.decided_at + rng.uniform(1, 14) * day)
        if s.status == "closed":
            s.closed_at = _between(rng, s.started_at + 30 * day, now - day)


def _assignment_rows(
    rng: random.Random, specs: list[CaseSpec], registry: list[dict[str, Any]], now: datetime
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    yield "assignment_coordinator", registry
    for i in range(0, len(specs), CHUNK):
        cases, episodes, appointments = [], [], []
        for s in specs[i : i + CHUNK]:
            if s.decided_at is None:
                continue
            coordinator = registry[s.coordinator]["id"] if s.coordinator is not None else None
            episode_id = _uuid(rng) if coordinator is not None else None
            waiting = coordinator is None and s.closed_at is None
            cases.append(
                {
                    "case_id": s.id,
                    "org": ORG,
                    "case_ref": s.ref,
                    "person_id": s.person_id,
                    "birth_date": None,
                    "coordinator_consent_id": _uuid(rng),
                    "awaiting_since": s.decided_at if waiting else None,
                    "awaiting_cause": "new" if waiting else None,
                    "awaiting_note": None,
                    "primary_coordinator_id": coordinator if s.closed_at is None else None,
                    "episode_id": episode_id,
                    "kind": "municipal",
                    "wished_coordinator_id": None,
                    "language": None,
                    "unit": None,
                    "closed_at": s.closed_at,
                }
            )
            if coordinator is None or s.started_at is None:
                continue
            episodes.append(
                {
                    "id": episode_id,
                    "org": ORG,
                    "case_id": s.id,
                    "kind": "municipal",
                    "opened_at": s.started_at,
                    "closed_at": s.closed_at,
                    "close_cause": "case_closed" if s.closed_at else None,
                }
            )
            appointments.append(
                {
                    "id": _uuid(rng),
                    "org": ORG,
                    "case_id": s.id,
                    "episode_id": episode_id,
                    "coordinator_id": coordinator,
                    "role": "primary",
                    "started_at": s.started_at,
                    "ended_at": s.closed_at,
                }
            )
        yield "assignment_case", cases
        yield "assignment_episode", episodes
        yield "assignment_appointment", appointments


# --- planning -----------------------------------------------------------------------------


def _content(
    rng: random.Random, coordinator: uuid.UUID, start: date, due: list[date]
) -> tuple[str, list[tuple[str, str, date]], int]:
    """A small plan (2-5 goals, 3-8 measures) as stored JSON; the items given ``due`` dates
    for evaluation, and the highest item number."""
    number = 0

    def next_id(prefix: str) -> str:
        nonlocal number
        number += 1
        return f"{prefix}{number}"

    goals: list[dict[str, Any]] = [
        {
            "id": next_id("G"),
            "text": rng.choice(GOALS),
            "horizon": rng.choice(["long", "short"]),
            "life_area": rng.choice(AREAS),
        }
        for _ in range(rng.randint(2, 5))
    ]
    measures: list[dict[str, Any]] = []
    for _ in range(rng.randint(3, 8)):
        measures.append(
            {
                "id": next_id("M"),
                "title": rng.choice(MEASURES),
                "life_area": rng.choice(AREAS),
                "goal_ids": [rng.choice(goals)["id"]],
                "scope": "to timer i uka",
                "how": "Vi går gjennom ukeplanen sammen og avtaler hva som skal gjøres.",
                "where": "hjemme",
                "responsible": {"kind": "service", "ref": rng.choice(PROVIDERS)},
                "start": start.isoformat(),
                "status": "ongoing",
            }
        )
    items = rng.sample([*goals, *measures], len(due))
    dated = []
    for item, on in zip(items, due, strict=True):
        item["evaluation_date"] = on.isoformat()
        dated.append((item["id"], "goal" if item["id"][0] == "G" else "measure", on))
    content = {
        "goals": goals,
        "resources_needs": [
            {"id": next_id("R"), "kind": "need", "life_area": goals[0]["life_area"], "text": "…"}
        ],
        "participants": [
            {"id": next_id("P"), "party": {"kind": "person"}, "role": "planeier"},
            {
                "id": next_id("P"),
                "party": {"kind": "coordinator", "ref": str(coordinator)},
                "role": "koordinator",
            },
        ],
        "measures": measures,
        "period": {  # R14 point 7: with a date for adjustment and revision
            "start": start.isoformat(),
            "end": (start + timedelta(days=365)).isoformat(),
            "revision_dates": [(start + timedelta(days=182)).isoformat()],
        },
    }
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")), dated, number


def _plan_status(rng: random.Random, case_status: str) -> str:
    if case_status == "closed":
        return "closed"
    if case_status == "decided":
        return "draft"
    return rng.choices(["active", "draft", "under_revision", "frozen"], [80, 5, 10, 5])[0]


def _planning_rows(
    rng: random.Random,
    specs: list[CaseSpec],
    registry: list[dict[str, Any]],
    now: datetime,
    load: Load,
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    today = now.date()
    checked = 0
    for i in range(0, len(specs), CHUNK):
        cases, plans, versions, dues = [], [], [], []
        for s in specs[i : i + CHUNK]:
            if s.coordinator is None or s.started_at is None or not s.ip:
                continue
            coordinator = registry[s.coordinator]["id"]
            plan_id = _uuid(rng)
            status = _plan_status(rng, s.status)
            created = s.started_at
            updated = _between(rng, created, s.closed_at or now)
            start = created.date()
            due: list[date] = []
            if status not in ("closed", "frozen") and rng.random() < 0.82:
                first = max(today + timedelta(days=rng.randint(-60, 240)), start)
                due = [first] + [
                    first + timedelta(days=rng.randint(0, 120)) for _ in range(rng.randint(0, 2))
                ]
            body, dated, numbered = _content(rng, coordinator, start, due)
            if checked < 20:  # the content is one planning would accept
                PlanContent.model_validate_json(body)
                checked += 1
            next_on = min(due) if due else None
            load.plans += 1
            load.overdue_plans += next_on is not None and next_on < today
            cases.append(
                {
                    "case_id": s.id,
                    "org": ORG,
                    "case_ref": s.ref,
                    "ip_consent_id": _uuid(rng),
                    "coordinator_id": None if s.closed_at else coordinator,
                    "tool": "ip",
                }
            )
            plans.append(
                {
                    "id": plan_id,
                    "org": ORG,
                    "case_id": s.id,
                    "case_ref": s.ref,
                    "coordinator_id": coordinator,
                    "status": status,
                    "frozen_from": "active" if status == "frozen" else None,
                    "version": 1,
                    "created_at": created,
                    "updated_at": updated,
                    "items_numbered": numbered,
                    "period_start": start,
                    "period_end": start + timedelta(days=365),
                    "next_evaluation_on": next_on,
                    "status_reason": "goals_reached" if status == "closed" else None,
                    "schedule_digest": None,
                    "closed_at": s.closed_at if status == "closed" else None,
                    "anonymised_at": None,
                }
            )
            versions.append(
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
                    "content": body,
                }
            )
            dues += [
                {
                    "plan_id": plan_id,
                    "item_id": item_id,
                    "org": ORG,
                    "case_id": s.id,
                    "item_kind": kind,
                    "due_on": on,
                    # What the sweeper leaves: each overdue evaluation announced once (R16).
                    "announced_at": now if on < today else None,
                }
                for item_id, kind, on in dated
            ]
        yield "planning_case", cases
        yield "planning_plan", plans
        yield "planning_plan_version", versions
        yield "planning_evaluation_due", dues


# --- loading ------------------------------------------------------------------------------


async def _insert(
    db: Database, tables: Any, rows: Iterator[tuple[str, list[dict[str, Any]]]]
) -> None:
    """All of a service's rows in one transaction; then statistics, as in steady use."""
    loaded: list[str] = []
    async with db.engine.begin() as conn:
        for name, batch in rows:
            table: Table = tables[name]
            loaded += [] if name in loaded else [name]
            for i in range(0, len(batch), CHUNK):
                await conn.execute(table.insert(), batch[i : i + CHUNK])
        if db.is_sqlite:
            await conn.execute(text("ANALYZE"))
    if not db.is_sqlite:
        # As autovacuum leaves tables in steady use (statistics, visibility map), and so that
        # it does not start on these tables mid-run.
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in loaded:
                await conn.execute(text(f'VACUUM (ANALYZE) "{name}"'))


async def _load(url: str, prefix: str, cases: int, coordinators: int, rng: random.Random) -> Load:
    plugins = discover()
    now = datetime.now(UTC)
    specs = _cases(rng, cases, now)
    registry = _registry(rng, coordinators, now)
    _appoint(rng, specs, registry, now)
    load = Load(cases=cases, coordinators=coordinators)
    for s in specs:
        load.by_status[s.status] = load.by_status.get(s.status, 0) + 1
    load.open_appointments = sum(c["caseload"] for c in registry)
    load.over_limit = sum(c["caseload"] > c["caseload_limit"] for c in registry)
    load.coordinator_ids = [c["id"] for c in registry]
    sources: dict[str, Callable[[], Iterator[tuple[str, list[dict[str, Any]]]]]] = {
        "intake": lambda: _intake_rows(rng, specs, now),
        "assignment": lambda: _assignment_rows(rng, specs, registry, now),
        "planning": lambda: _planning_rows(rng, specs, registry, now, load),
    }
    for service in LOADED:
        plugin = plugins[service].plugin
        db = Database(url, service, prefix)
        try:
            await db.prepare([plugin.migrations], [kernel_registry.metadata, plugin.metadata])
            await _insert(db, plugin.metadata.tables, sources[service]())
        finally:
            await db.dispose()
    return load


def _sqlite_mb(workdir: Path) -> float:
    return round(sum(p.stat().st_size for p in workdir.glob("*.db*")) / 2**20, 1)


async def _postgres_mb(url: str, prefix: str) -> float:
    """Tables, indexes and TOAST of every schema with the prefix."""
    db = Database(url, "intake", prefix)
    try:
        async with db.engine.connect() as conn:
            size = (
                await conn.execute(
                    text(
                        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.relkind = 'r' AND n.nspname LIKE :p"
                    ),
                    {"p": prefix.replace("_", r"\_") + "%"},
                )
            ).scalar_one()
    finally:
        await db.dispose()
    return round(int(size) / 2**20, 1)


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Kind:
    """One overview query: how to make it at random, and which service answers it."""

    service: str
    make: Callable[[], Any]
    latencies: list[float] = field(default_factory=list)
    rows: int = 0
    totals: list[int] = field(default_factory=list)


async def _cursors(
    client: KenettClient, service: str, make: Callable[[str | None], Any]
) -> list[str | None]:
    """A cursor every 500 rows through the whole list (None: the first page), so the timed
    requests can ask for a page anywhere in it, as deep paging would."""
    found: list[str | None] = [None]
    while True:
        page = await client.query(service, make(found[-1]))
        if not page["next"]:
            return found
        found.append(page["next"])


async def _queries(nats_url: str, load: Load, queries: int, rng: random.Random) -> dict[str, Any]:
    nc = await connect_once(nats_url, "kenett-bench")
    client = KenettClient(nc, ORG, timeout=30)
    try:
        case_pages: dict[str, list[str | None]] = {}
        for status in CASE_STATUSES:

            def cases_after(after: str | None, s: CaseStatusValue = status) -> ListCases:
                return ListCases(actor=ACTOR, status=[s], limit=500, after=after)

            case_pages[status] = await _cursors(client, "intake", cases_after)
        overdue_pages = await _cursors(
            client,
            "planning",
            lambda after: ListPlans(actor=ACTOR, overdue_evaluations=True, limit=500, after=after),
        )
        units = (await client.query("assignment", CaseloadOverview(actor=ACTOR, limit=1)))["units"]
        unit_sizes = {u["unit"]: u["coordinators"] for u in units}

        def cases_page() -> ListCases:
            status = rng.choice(CASE_STATUSES)
            return ListCases(actor=ACTOR, status=[status], after=rng.choice(case_pages[status]))

        def caseload_page() -> CaseloadOverview:
            unit = rng.choice([None, *unit_sizes])
            size = load.coordinators if unit is None else unit_sizes[unit]
            return CaseloadOverview(
                actor=ACTOR, unit=unit, offset=100 * rng.randrange(max(1, -(-size // 100)))
            )

        def overdue_page() -> ListPlans:
            if rng.random() < 0.25:
                return ListPlans(
                    actor=ACTOR,
                    overdue_evaluations=True,
                    coordinator_id=rng.choice(load.coordinator_ids),
                )
            return ListPlans(actor=ACTOR, overdue_evaluations=True, after=rng.choice(overdue_pages))

        kinds = {
            "case_counts": Kind("intake", lambda: CountCases(actor=ACTOR)),
            "cases_by_status": Kind("intake", cases_page),
            "caseload": Kind("assignment", caseload_page),
            "overdue_evaluations": Kind("planning", overdue_page),
        }
        for _ in range(20):  # warm-up: connections, statement caches, the query plans
            for kind in kinds.values():
                await client.query(kind.service, kind.make())
        # Interleaved, as a KE user's overview asks them, one request at a time.
        for _ in range(queries):
            for name, kind in kinds.items():
                q = kind.make()
                start = time.perf_counter()
                result = await client.query(kind.service, q)
                kind.latencies.append((time.perf_counter() - start) * 1000)
                listed: list[Any] = next((result[k] for k in LISTS if k in result), [])
                kind.rows += len(listed)
                if name != "caseload":
                    kind.totals.append(result["total"])
                del result
    finally:
        await nc.close()
    return {
        name: {
            "rows": round(kind.rows / len(kind.latencies), 1),
            **({"total_max": max(kind.totals)} if kind.totals else {}),
            **percentiles(kind.latencies),
        }
        for name, kind in kinds.items()
    }


async def _drop_schemas(url: str, prefix: str, names: list[str]) -> None:
    for service in names:
        db = Database(url, service, prefix)
        try:
            if db.schema:
                async with db.engine.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE'))
        finally:
            await db.dispose()


def run_scale(
    cases: int, coordinators: int, queries: int, workdir: Path, database_url: str | None
) -> dict[str, Any]:
    """Load, start all services in one child process, and time the overview queries."""
    rng = random.Random(20261123)
    names = list(discover())  # what `kenett up` runs
    prefix = f"bench{uuid.uuid4().hex[:6]}_" if database_url else ""
    url = database_url or f"sqlite+aiosqlite:///{workdir}/{{service}}.db"
    env = (
        {"KENETT_DATABASE_URL": url, "KENETT_DATABASE_SCHEMA_PREFIX": prefix}
        if database_url
        else {}
    )
    try:
        t0 = time.perf_counter()
        load = asyncio.run(_load(url, prefix, cases, coordinators, rng))
        load_s = time.perf_counter() - t0
        database_mb = (
            asyncio.run(_postgres_mb(url, prefix)) if database_url else _sqlite_mb(workdir)
        )
        server = NatsServer(workdir / "nats").start()
        try:
            t0 = time.perf_counter()
            with services(names, workdir, server.url, **env) as proc:
                start_s = time.perf_counter() - t0
                started = process_memory_mb(proc.pid)
                overview = asyncio.run(_queries(server.url, load, queries, rng))
                after = process_memory_mb(proc.pid)
                if proc.poll() is not None:
                    raise subprocess.SubprocessError("the services' process ended early")
        finally:
            server.stop()
    finally:
        if database_url:
            asyncio.run(_drop_schemas(url, prefix, names))
    rss = after.get("VmHWM")
    return {
        "benchmark": "scale",
        "database": url.split(":", 1)[0].split("+", 1)[0],
        "services": names,
        "cases": cases,
        "by_status": {s: load.by_status.get(s, 0) for s in CASE_STATUSES},
        "coordinators": coordinators,
        "open_appointments": load.open_appointments,
        "coordinators_over_limit": load.over_limit,
        "plans": load.plans,
        "plans_overdue": load.overdue_plans,
        "load_s": round(load_s, 1),
        "database_mb": database_mb,
        "start_s": round(start_s, 1),
        "queries": queries,
        "overview": overview,
        "rss_started_mb": started.get("VmRSS"),
        "rss_now_mb": after.get("VmRSS"),
        "rss_mb": rss,
        "target_p95_ms": TARGET_P95_MS,
        "target_rss_mb": TARGET_RSS_MB,
        "targets_met": all(v["p95_ms"] <= TARGET_P95_MS for v in overview.values())
        and rss is not None
        and rss <= TARGET_RSS_MB,
    }
