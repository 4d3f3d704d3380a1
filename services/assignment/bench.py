"""``kenett bench suggestions``: suggestions for a case with a large registry (R9, R10).

Loads N coordinators (units, languages, training, individual limits) and M active cases, each
with an episode and an open primary appointment, straight into assignment's tables; then starts
assignment on its own nats-server and asks ``SuggestCoordinators`` for random cases over NATS,
one at a time, as a KE user would: each answer includes the audit record of the read. Half the
cases carry a wish and a language, so both paths of the ranking are measured.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import text

from shared.client import KenettClient
from shared.config import Settings
from shared.contracts.assignment import SetCoordinatorNeeds, SuggestCoordinators
from shared.contracts.envelope import Actor
from shared.db.engine import Database
from shared.db.kernel import kernel_registry
from shared.natsconn import connect_once
from shared.plugins import select
from shared.runtime.bench import percentiles
from shared.runtime.host import ServiceHost
from shared.runtime.natsserver import NatsServer

from .store import Appointment, AssignmentCase, Coordinator, Episode, registry

ORG = "bench"
ACTOR = Actor(kind="user", id="bench")
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
T0 = datetime(2026, 1, 1, tzinfo=UTC)
CHUNK = 5000


async def _load(db: Database, coordinators: int, cases: int, rng: random.Random) -> list[uuid.UUID]:
    c_rows: list[dict[str, Any]] = []
    slots: list[int] = []
    for i in range(coordinators):
        limit = rng.choice([None, None, None, 6, 8, 10])
        c_rows.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128)),
                "org": ORG,
                "staff_id": f"k{i:05d}",
                "display_name": f"Koordinator {i}",
                "unit": (unit := rng.choice(UNITS)),
                "unit_key": unit.casefold(),
                "profession": "sykepleier",
                "health_personnel": rng.random() < 0.6,
                "training_completed_on": date(2025, 1, 1) if rng.random() < 0.7 else None,
                "languages": ",nb," + ",".join(rng.sample(LANGUAGES, rng.randint(0, 2))) + ",",
                "caseload_limit": limit,
                "caseload": 0,
                "active": rng.random() < 0.97,
                "registered_at": T0 + timedelta(minutes=i),
            }
        )
        slots += [i] * (limit or 5)
    rng.shuffle(slots)
    if cases > len(slots):
        raise SystemExit(f"{cases} cases do not fit in {len(slots)} places; add coordinators")
    case_rows, episode_rows, appointment_rows = [], [], []
    for n, slot in enumerate(slots[:cases]):
        coordinator = c_rows[slot]
        coordinator["caseload"] += 1
        case_id, episode_id = (
            uuid.UUID(int=rng.getrandbits(128)),
            uuid.UUID(int=rng.getrandbits(128)),
        )
        opened = T0 + timedelta(minutes=n)
        case_rows.append(
            {
                "case_id": case_id,
                "org": ORG,
                "case_ref": f"2026-{n:06d}",
                "person_id": uuid.UUID(int=rng.getrandbits(128)),
                "primary_coordinator_id": coordinator["id"],
                "episode_id": episode_id,
                "kind": "municipal",
                "coordinator_consent_id": uuid.UUID(int=rng.getrandbits(128)),
            }
        )
        episode_rows.append(
            {
                "id": episode_id,
                "org": ORG,
                "case_id": case_id,
                "kind": "municipal",
                "opened_at": opened,
            }
        )
        appointment_rows.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128)),
                "org": ORG,
                "case_id": case_id,
                "episode_id": episode_id,
                "coordinator_id": coordinator["id"],
                "role": "primary",
                "started_at": opened,
            }
        )
    async with db.engine.begin() as conn:
        for table, rows in (
            (Coordinator.__table__, c_rows),  # type: ignore[attr-defined]
            (AssignmentCase.__table__, case_rows),  # type: ignore[attr-defined]
            (Episode.__table__, episode_rows),  # type: ignore[attr-defined]
            (Appointment.__table__, appointment_rows),  # type: ignore[attr-defined]
        ):
            for i in range(0, len(rows), CHUNK):
                await conn.execute(table.insert(), rows[i : i + CHUNK])
        await conn.execute(text("ANALYZE"))
    return [r["case_id"] for r in case_rows]


async def _measure(
    database_url: str, prefix: str, coordinators: int, cases: int, queries: int, workdir: Path
) -> dict[str, Any]:
    rng = random.Random(20261123)
    plugin = select(["assignment"])[0]
    db = Database(database_url, "assignment", prefix)
    try:
        await db.prepare([plugin.migrations], [kernel_registry.metadata, registry.metadata])
        t0 = time.perf_counter()
        case_ids = await _load(db, coordinators, cases, rng)
        load_s = time.perf_counter() - t0
        async with db.sessions() as s:
            some = [
                r[0] for r in await s.exec(text("SELECT id FROM assignment_coordinator LIMIT 50"))
            ]  # type: ignore[call-overload]
    finally:
        await db.dispose()
    server = NatsServer(workdir / "nats").start()
    settings = Settings(
        org=ORG,
        nats_url=server.url,
        database_url=database_url,
        database_schema_prefix=prefix,
        log_level="WARNING",
    )
    host = ServiceHost(settings, [plugin])
    await host.start()
    nc = await connect_once(server.url, "kenett-bench")
    client = KenettClient(nc, ORG, timeout=30)
    try:
        asked = rng.sample(case_ids, min(len(case_ids), queries))
        for case_id in asked[: len(asked) // 2]:  # half with a wish and a language
            await client.command(
                "assignment",
                SetCoordinatorNeeds(
                    actor=ACTOR,
                    case_id=case_id,
                    wished_coordinator_id=uuid.UUID(str(rng.choice(some))),
                    language=rng.choice(LANGUAGES),
                    unit=rng.choice(UNITS),
                ),
            )
        for case_id in asked[:20]:  # warm-up
            await client.query("assignment", SuggestCoordinators(actor=ACTOR, case_id=case_id))
        latencies = []
        candidates = 0
        for case_id in asked:
            start = time.perf_counter()
            result = await client.query(
                "assignment", SuggestCoordinators(actor=ACTOR, case_id=case_id)
            )
            latencies.append((time.perf_counter() - start) * 1000)
            candidates += len(result["candidates"])
    finally:
        await nc.close()
        await host.stop()
        server.stop()
    return {
        "benchmark": "suggestions",
        "database": database_url.split(":", 1)[0],
        "coordinators": coordinators,
        "active_cases": cases,
        "load_s": round(load_s, 1),
        "queries": len(latencies),
        "mean_candidates": round(candidates / max(1, len(latencies)), 1),
        **percentiles(latencies),
    }


def suggestions(
    coordinators: Annotated[int, typer.Option(help="Coordinators in the registry.")] = 10_000,
    cases: Annotated[int, typer.Option(help="Active cases with a coordinator.")] = 50_000,
    queries: Annotated[int, typer.Option(help="Suggestion queries to time.")] = 300,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="A PostgreSQL URL (a fresh schema is used); SQLite in a temp dir if absent."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")] = False,
) -> None:
    """Suggestions for a case (R9, R10) with a large registry: p50/p95/p99 over NATS."""
    from rich.console import Console
    from rich.table import Table

    from shared.logging import configure_logging

    configure_logging("console", "WARNING")
    with tempfile.TemporaryDirectory(prefix="kenett-bench-") as tmp:
        if database_url:
            url = Settings(database_url=database_url).resolved_database_url()
            figures = asyncio.run(_measure_pg(url, coordinators, cases, queries, Path(tmp)))
        else:
            url = f"sqlite+aiosqlite:///{tmp}/{{service}}.db"
            figures = asyncio.run(_measure(url, "", coordinators, cases, queries, Path(tmp)))
    table = Table(title="kenett bench suggestions (over NATS, loopback)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, str(value))
    Console().print(table)
    if as_json:
        print(json.dumps(figures))


async def _measure_pg(
    url: str, coordinators: int, cases: int, queries: int, workdir: Path
) -> dict[str, Any]:
    """As ``_measure``, in a schema of its own that is dropped afterwards."""
    prefix = f"bench{uuid.uuid4().hex[:6]}_"
    try:
        return await _measure(url, prefix, coordinators, cases, queries, workdir)
    finally:
        db = Database(url, "assignment", prefix)
        try:
            if db.schema:
                async with db.engine.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE'))
        finally:
            await db.dispose()
