"""``kenett bench reminders``: many reminders falling due at the same moment (R16).

Loads N evaluation reminders (default 10,000) straight into notifications' tables, one per
case, for cases spread over about 2,000 coordinators: every reminder's "before" stage falls
due at the same instant T (the evaluation date is T + the default 7-day lead), and each case
has its coordinator known (``CaseCoordinator``), so each reminder makes one notice in one
coordinator's inbox. No channels are enabled (no SMTP server here): the inbox only.

Notifications is then started (``ServiceHost``) on a nats-server of its own, with a clock
standing just before T. The benchmark moves the clock to T and sends ``SweepNotifications``
over NATS, the moment the reminders fall due at once, and times how long until the sweep has
answered and all N notices are in the inboxes, and until the outbox relay has published every
``notification_created`` event (counted on a NATS subscription, and in the events stream).
It then checks that no notice was made twice, and that a second sweep makes none. The
service's own sweeper runs as always (every 30 s from the start); it takes turns with the
command's sweep, as it would in production.

On PostgreSQL the service gets a fresh schema (``bench<hex>_notifications``), dropped
afterwards; the loaded tables are vacuumed and analysed first, as autovacuum would leave them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import random
import resource
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from nats.aio.msg import Msg
from sqlalchemy import text

from shared.client import KenettClient
from shared.clock import FixedClock
from shared.config import Settings
from shared.contracts.envelope import Actor
from shared.contracts.notifications import LeadTimes, NotificationCreated, SweepNotifications
from shared.contracts.subjects import EVENTS_STREAM
from shared.db.engine import Database
from shared.db.kernel import kernel_registry
from shared.natsconn import connect_once
from shared.plugins import select
from shared.runtime.host import ServiceHost
from shared.runtime.natsserver import NatsServer

from .domain import ReminderKind, next_fire, start_of_day
from .reminders import reminder_id
from .store import CaseCoordinator, Reminder, registry

ORG = "bench"
ACTOR = Actor(kind="user", id="bench")
CHUNK = 5000
TARGET_S = 30.0
TIMEOUT_S = 600.0
# The evaluation date; its "before" notice falls due (the default lead) 7 days earlier.
EVALUATION_ON = date(2026, 3, 16)


def _instants() -> tuple[datetime, datetime]:
    """The reminders' due time and T, the instant their first stage falls due."""
    due_at = start_of_day(EVALUATION_ON)
    at = next_fire(ReminderKind.EVALUATION, due_at, frozenset(), LeadTimes())
    assert at is not None and at == due_at - timedelta(days=LeadTimes().evaluation_days)
    return due_at, at


async def _load(db: Database, reminders: int, coordinators: int, rng: random.Random) -> None:
    due_at, at = _instants()
    coordinator_ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(coordinators)]
    reminder_rows: list[dict[str, Any]] = []
    coordinator_rows: list[dict[str, Any]] = []
    loaded_at = at - timedelta(days=30)
    for i in range(reminders):
        case_id, plan_id = uuid.UUID(int=rng.getrandbits(128)), uuid.UUID(int=rng.getrandbits(128))
        item_id = f"M{rng.randint(1, 12)}"
        reminder_rows.append(
            {
                "id": reminder_id(ORG, f"plan:{plan_id}:{item_id}:evaluation"),
                "org": ORG,
                "kind": ReminderKind.EVALUATION.value,
                "case_id": case_id,
                "case_ref": f"2026-{i + 1:06d}",
                "source": plan_id,
                "item_id": item_id,
                "due_at": due_at,
                "shown_on": EVALUATION_ON,
                "recipients": "[]",
                "active": True,
                "next_fire_at": at,
                "fired": "",
                "updated_at": loaded_at,
            }
        )
        coordinator_rows.append(
            {"case_id": case_id, "org": ORG, "coordinator_id": rng.choice(coordinator_ids)}
        )
    tables = [
        (Reminder.__table__, reminder_rows),  # type: ignore[attr-defined]
        (CaseCoordinator.__table__, coordinator_rows),  # type: ignore[attr-defined]
    ]
    async with db.engine.begin() as conn:
        for table, rows in tables:
            for i in range(0, len(rows), CHUNK):
                await conn.execute(table.insert(), rows[i : i + CHUNK])
        if db.is_sqlite:
            await conn.execute(text("ANALYZE"))
    if not db.is_sqlite:
        # As autovacuum leaves tables in steady use, and so that it does not start mid-run.
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table, _ in tables:
                await conn.execute(text(f'VACUUM (ANALYZE) "{table.name}"'))


async def _scalar(db: Database, sql: str) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def _notices(db: Database) -> int:
    return await _scalar(db, "SELECT COUNT(*) FROM notifications_notification")


class _Events:
    """Counts ``notification_created`` events as the relay publishes them."""

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self.received = 0
        self.ids: set[str] = set()
        self.done = asyncio.Event()
        self.done_at: float | None = None

    async def on_msg(self, msg: Msg) -> None:
        self.received += 1
        self.ids.add(json.loads(msg.data)["payload"]["notification_id"])
        if len(self.ids) >= self.wanted and not self.done.is_set():
            self.done_at = time.perf_counter()
            self.done.set()


async def _measure(
    database_url: str, prefix: str, reminders: int, coordinators: int, workdir: Path
) -> dict[str, Any]:
    rng = random.Random(20261123)
    plugin = select(["notifications"])[0]
    db = Database(database_url, "notifications", prefix)
    try:
        await db.prepare([plugin.migrations], [kernel_registry.metadata, registry.metadata])
        t0 = time.perf_counter()
        await _load(db, reminders, coordinators, rng)
        load_s = time.perf_counter() - t0
    finally:
        await db.dispose()
    gc.collect()  # the rows loaded are garbage now; not the service's to collect
    _, at = _instants()
    clock = FixedClock(at - timedelta(minutes=1))
    server = NatsServer(workdir / "nats").start()
    settings = Settings(
        org=ORG,
        nats_url=server.url,
        database_url=database_url,
        database_schema_prefix=prefix,
        log_level="WARNING",
        channels=[],  # the inbox only
    )
    host = ServiceHost(settings, [plugin], clock=clock)
    nc = None
    try:
        await host.start()
        service_db = host.contexts["notifications"].db
        nc = await connect_once(server.url, "kenett-bench")
        client = KenettClient(nc, ORG, timeout=TIMEOUT_S)
        events = _Events(reminders)
        subject = NotificationCreated.subject(ORG)
        await nc.subscribe(subject, cb=events.on_msg)
        await nc.flush()
        if await _notices(service_db) != 0:
            raise RuntimeError("notices were made before the reminders fell due")

        # --- T: every reminder falls due at once ------------------------------------------
        clock.set(at)
        start = time.perf_counter()
        swept = await client.command("notifications", SweepNotifications(actor=ACTOR))
        notices = await _notices(service_db)
        deadline = start + TIMEOUT_S
        while notices < reminders and time.perf_counter() < deadline:
            # Only if the service's own sweeper took part of the work: it has committed
            # when our sweep returns, so this hardly ever loops.
            await asyncio.sleep(0.05)
            notices = await _notices(service_db)
        seconds = time.perf_counter() - start
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(events.done.wait(), max(1.0, deadline - time.perf_counter()))
        events_seconds = (events.done_at - start) if events.done_at is not None else None
        # A relay that publishes a batch again (its mark failed) is seen twice on the
        # subject; the stream keeps one of each (Nats-Msg-Id), which is what consumers get.
        info = await nc.jetstream().stream_info(EVENTS_STREAM, subjects_filter=subject)
        in_stream = (info.state.subjects or {}).get(subject, 0)

        # --- No duplicates, and nothing more to tell ----------------------------------------
        distinct = await _scalar(
            service_db,
            "SELECT COUNT(*) FROM (SELECT DISTINCT trigger_event_id, recipient_id, kind "
            "FROM notifications_notification) AS d",
        )
        second = await client.command("notifications", SweepNotifications(actor=ACTOR))
        after_second = await _notices(service_db)
        still_active = await _scalar(
            service_db, "SELECT COUNT(*) FROM notifications_reminder WHERE active"
        )
        inboxes = await _scalar(
            service_db,
            "SELECT COUNT(DISTINCT recipient_id) FROM notifications_notification",
        )
    finally:
        if nc is not None:
            await nc.close()
        await host.stop()
        server.stop()
    return {
        "benchmark": "reminders",
        "database": database_url.split(":", 1)[0].split("+", 1)[0],
        "reminders": reminders,
        "coordinators": coordinators,
        "inboxes": inboxes,
        "load_s": round(load_s, 1),
        "notices": notices,
        "sweep_reported": swept.get("reminders", 0),
        "duplicates": notices - distinct,
        "seconds": round(seconds, 2),
        "per_s": round(notices / seconds) if seconds > 0 else 0,
        "events": len(events.ids),
        "events_received": events.received,
        "events_in_stream": in_stream,
        "events_seconds": round(events_seconds, 2) if events_seconds is not None else None,
        "second_sweep_notices": second.get("reminders", 0) + (after_second - notices),
        "reminders_still_active": still_active,
        "target_s": TARGET_S,
        "target_met": notices == reminders and notices == distinct and seconds < TARGET_S,
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


async def _measure_pg(url: str, reminders: int, coordinators: int, workdir: Path) -> dict[str, Any]:
    """As ``_measure``, in a schema of its own that is dropped afterwards."""
    prefix = f"bench{uuid.uuid4().hex[:6]}_"
    try:
        return await _measure(url, prefix, reminders, coordinators, workdir)
    finally:
        db = Database(url, "notifications", prefix)
        try:
            if db.schema:
                async with db.engine.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE'))
        finally:
            await db.dispose()


def reminders(
    reminders: Annotated[
        int, typer.Option(help="Reminders falling due at the same moment, one per case.")
    ] = 10_000,
    coordinators: Annotated[int, typer.Option(help="Coordinators the cases are spread over.")] = (
        2_000
    ),
    database_url: Annotated[
        str | None,
        typer.Option(
            help="A PostgreSQL URL (a fresh schema is used); SQLite in a temp dir if absent."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")] = False,
) -> None:
    """Many reminders falling due at once (R16): seconds until every notice is in the inboxes
    and its event published, with no duplicates."""
    from rich.console import Console
    from rich.table import Table

    from shared.logging import configure_logging

    if reminders < 1 or coordinators < 1:
        raise typer.BadParameter("--reminders and --coordinators must be at least 1")
    configure_logging("console", "WARNING")
    with tempfile.TemporaryDirectory(prefix="kenett-bench-") as tmp:
        if database_url:
            url = Settings(database_url=database_url).resolved_database_url()
            figures = asyncio.run(_measure_pg(url, reminders, coordinators, Path(tmp)))
        else:
            url = f"sqlite+aiosqlite:///{tmp}/{{service}}.db"
            figures = asyncio.run(_measure(url, "", reminders, coordinators, Path(tmp)))
    table = Table(title="kenett bench reminders (sweep over NATS, loopback)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, str(value))
    Console().print(table)
    if as_json:
        print(json.dumps(figures))
