"""``kenett bench pipeline``: whole cases through all five services, against the bare bus.

One run does four things, in order:

1. **All-in-one**: it starts its own nats-server (file storage) and ``kenett run intake
   consent assignment planning notifications`` in **one** child process (SQLite files in a
   temporary directory, or a fresh set of schemas with ``--database-url``). Coordinators are
   registered, and the org lets kenett appoint by itself (R9 with ``KENETT_AUTO_APPOINT``).
2. **Throughput**: ``--cases`` synthetic cases are driven as fast as the system takes them, by
   ``--concurrency`` clients. Each case is what a KE does: report the need (intake), record the
   coordinator and the IP consents (consent, R5). The services then appoint a coordinator
   (assignment, R9/R10), create the plan once consent allows it (planning, R5) and tell the
   coordinator (notifications). A case counts as done when its plan notice exists.
   ``cases_per_s`` is cases over the time from the first report to the last notice;
   ``events_per_case`` is how many events the events stream gained per case.
3. **Latency**: cases offered open loop at ``--rate`` per second for ``--seconds``; for each,
   the time from sending the report to the plan's ``plan_created`` event (``p50_ms`` ...), and
   to the plan notice. ``latency_cpu_ms_per_case`` is the services' CPU per case in this phase,
   where groups are small (``latency_mean_event_group``), and ``latency_load`` the share of one
   core the offered rate takes (rate × that CPU): near 1, queues grow and the latency with them.
4. **The bare bus**: the services are stopped, and ``shared.runtime.bench_bare`` runs in a child
   process on the same nats-server: a FastStream JetStream pull consumer that decodes an event
   of the pipeline's mean event size and republishes it. ``efficiency`` = cases_per_s ×
   events_per_case ÷ bare_hops_per_s: the share of the bare bus's capacity the services
   achieve while doing real work (one transaction per event, with inbox, outbox and audit).

``rss_mb`` is the peak resident memory of the services' process (VmHWM).

With ``--split`` each service runs in a process of its own (``kenett run SERVICE``), as when an
operations team scales services separately; ``rss_mb`` is then the sum of their peaks.
``cpu_ms_per_case_by_process`` gives the whole CPU budget of a case: each services' process,
nats-server, and the benchmark's own clients (which stand in for the KE's users).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from sqlalchemy import text

from shared.client import KenettClient
from shared.config import Settings
from shared.contracts import assignment, consent, intake
from shared.contracts.subjects import EVENTS_STREAM, event_subject
from shared.db.engine import Database
from shared.ids import new_id
from shared.natsconn import connect_once
from shared.runtime.bench import BENCH_ACTOR, ORG, percentiles, process_memory_mb, services
from shared.runtime.loop import EventLoop, loop_in_use
from shared.runtime.natsserver import NatsServer
from shared.synthetic import synthetic_national_id

SERVICES = ["intake", "consent", "assignment", "planning", "notifications"]
CASELOAD = 100  # each bench coordinator's individual limit (R10)
WARM_UP_CASES = 20


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Keys of ``pids`` that are services' processes (the others: nats-server, the clients).
SERVICE_PIDS = frozenset({"services", *SERVICES})


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


class Tracker:
    """When each case's plan and plan notice were seen (on the bench's own subscription)."""

    def __init__(self) -> None:
        self.plan_at: dict[str, float] = {}
        self.notice_at: dict[str, float] = {}
        self._waiters: list[tuple[set[str], asyncio.Future[None]]] = []

    async def subscribe(self, nc: NatsClient) -> None:
        await nc.subscribe(event_subject(ORG, "planning", "plan_created"), cb=self._on_plan)
        await nc.subscribe(
            event_subject(ORG, "notifications", "notification_created"), cb=self._on_notice
        )
        await nc.flush()

    async def _on_plan(self, msg: Msg) -> None:
        case_id = json.loads(msg.data)["case_id"]
        self.plan_at.setdefault(case_id, time.perf_counter())

    async def _on_notice(self, msg: Msg) -> None:
        env = json.loads(msg.data)
        if env["payload"].get("kind") != "plan_created":
            return
        self.notice_at.setdefault(env["case_id"], time.perf_counter())
        for waiting, future in self._waiters:
            if not future.done() and waiting <= self.notice_at.keys():
                future.set_result(None)

    async def all_noticed(self, case_ids: set[str], timeout: float) -> None:
        """Until every case in ``case_ids`` has its plan notice."""
        if case_ids <= self.notice_at.keys():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((case_ids, future))
        await asyncio.wait_for(future, timeout)


async def _report_and_consent(client: KenettClient, rng: random.Random) -> str:
    """One case as a KE takes it in: the report, then both consents (R5)."""
    r = await client.command(
        "intake",
        intake.ReportNeed(
            actor=BENCH_ACTOR,
            request_id=new_id(),
            national_id=synthetic_national_id(rng),
            reporter=intake.Reporter(kind=intake.ReporterKind.EMPLOYEE, unit="Hjemmetjenesten"),
            needs=[intake.Need.IP, intake.Need.COORDINATOR],
            services=["hjemmesykepleie", "fysioterapi"],
            form="oral",
        ),
    )
    case_id = r["case_id"]
    given_at = datetime.now(UTC) - timedelta(minutes=5)
    for kind in (consent.ConsentKind.COORDINATOR, consent.ConsentKind.IP):
        await client.command(
            "consent",
            consent.RecordConsent(
                actor=BENCH_ACTOR,
                request_id=new_id(),
                case_id=case_id,
                kind=kind,
                given_by=consent.GivenBy(role=consent.GiverRole.PERSON),
                form="written",
                recorded_by=BENCH_ACTOR.id,
                given_at=given_at,
            ),
        )
    return str(case_id)


async def _deliveries(nc: NatsClient) -> int:
    """Messages acknowledged by all the durable consumers of the events stream together."""
    js = nc.jetstream()
    total = 0
    for info in await js.consumers_info(EVENTS_STREAM):
        total += info.ack_floor.consumer_seq if info.ack_floor else 0
    return total


async def _stream_totals(nc: NatsClient) -> tuple[int, int]:
    info = await nc.jetstream().stream_info(EVENTS_STREAM)
    return info.state.messages, info.state.bytes


async def _settled_totals(nc: NatsClient, quiet_s: float = 1.0) -> tuple[int, int]:
    """The events stream's totals once nothing more arrives for ``quiet_s`` (the tail of a
    flow, e.g. deliveries of the notices, still emits after the last notice is seen)."""
    last = await _stream_totals(nc)
    while True:
        await asyncio.sleep(quiet_s)  # polling a quiet period: there is no event for "no more"
        now = await _stream_totals(nc)
        if now == last:
            return now
        last = now


async def _drive(
    pids: dict[str, int],
    nats_url: str,
    cases: int,
    concurrency: int,
    rate: float,
    seconds: float,
    timeout: float,
) -> dict[str, Any]:
    nc = await connect_once(nats_url, "kenett-bench-pipeline")
    client = KenettClient(nc, ORG, timeout=timeout)
    tracker = Tracker()
    await tracker.subscribe(nc)
    rng = random.Random(20261123)
    errors = 0
    try:
        latency_cases = math.ceil(rate * seconds)
        total = WARM_UP_CASES + cases + latency_cases
        for i in range(math.ceil(total / CASELOAD) + 1):
            await client.command(
                "assignment",
                assignment.RegisterCoordinator(
                    actor=BENCH_ACTOR,
                    staff_id=f"bench-koord-{i}",
                    display_name=f"Koordinator {i}",
                    unit="Helse og omsorg",
                    caseload_limit=CASELOAD,
                ),
            )

        # Warm-up: imports, connections, query plans, the consumers' first fetches.
        warm = set(
            await asyncio.gather(*(_report_and_consent(client, rng) for _ in range(WARM_UP_CASES)))
        )
        await tracker.all_noticed(warm, timeout)
        before = await _settled_totals(nc)
        delivered_before = await _deliveries(nc)
        processes = sum(1 for name in pids if name in SERVICE_PIDS)
        tx_before = await _transactions(client, processes)

        # Throughput: closed loop, ``concurrency`` KEs at once.
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(cases):
            queue.put_nowait(i)
        done: set[str] = set()

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                queue.get_nowait()
                try:
                    done.add(await _report_and_consent(client, rng))
                except Exception:
                    errors += 1

        t0, cpu0 = time.perf_counter(), _cpu(pids)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        accepted_s = time.perf_counter() - t0
        await tracker.all_noticed(done, max(timeout, cases / 5))
        last = max(tracker.notice_at[c] for c in done)
        cpu1 = _cpu(pids)
        cpu_ms = {name: (cpu1[name] - cpu0[name]) * 1000 / max(1, len(done)) for name in pids}
        elapsed = last - t0
        after = await _settled_totals(nc)
        events = after[0] - before[0]
        deliveries = await _deliveries(nc) - delivered_before
        tx = [b - a for a, b in zip(tx_before, await _transactions(client, processes), strict=True)]
        event_bytes = (after[1] - before[1]) / max(1, events)

        # Latency: open loop at ``rate``; a slow answer shows as latency, not a lower rate.
        started: dict[str, float] = {}

        async def one(at: float) -> None:
            nonlocal errors
            try:
                case_id = await _report_and_consent(client, rng)
            except Exception:
                errors += 1
                return
            started[case_id] = at

        loop = asyncio.get_running_loop()
        tasks = []
        interval = 1.0 / rate
        lat_cpu0 = _cpu(pids)
        lat_tx0 = await _transactions(client, processes)
        t_open = loop.time()
        for i in range(latency_cases):
            delay = t_open + i * interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(time.perf_counter())))
        await asyncio.gather(*tasks)
        await tracker.all_noticed(set(started), timeout)
        lat_cpu1 = _cpu(pids)
        lat_tx = [
            b - a for a, b in zip(lat_tx0, await _transactions(client, processes), strict=True)
        ]
        lat_cpu_ms = sum(
            (lat_cpu1[k] - lat_cpu0[k]) * 1000 for k in pids if k in SERVICE_PIDS
        ) / max(1, len(started))
        to_plan = [(tracker.plan_at[c] - t) * 1000 for c, t in started.items()]
        to_notice = [(tracker.notice_at[c] - t) * 1000 for c, t in started.items()]
    finally:
        await nc.close()
    return {
        "cases": cases,
        "concurrency": concurrency,
        "errors": errors,
        "throughput_seconds": round(elapsed, 2),
        "accepted_per_s": round(cases / accepted_s, 1),
        "cases_per_s": round(len(done) / elapsed, 1),
        # The services' processes together; then each process of the run on its own (in split
        # mode, each service), nats-server and this benchmark's clients: the whole CPU budget.
        "cpu_ms_per_case": round(sum(v for k, v in cpu_ms.items() if k in SERVICE_PIDS), 2),
        "cpu_ms_per_case_by_process": {k: round(v, 2) for k, v in cpu_ms.items()},
        "events": events,
        "events_per_case": round(events / max(1, len(done)), 2),
        "deliveries_per_case": round(deliveries / max(1, len(done)), 2),
        # How well the group commits shared their transactions in the throughput phase.
        "event_transactions_per_case": round(tx[0] / max(1, len(done)), 2),
        "mean_event_group": round(tx[1] / max(1, tx[0]), 1),
        "command_transactions_per_case": round(tx[2] / max(1, len(done)), 2),
        "outbox_batches_per_case": round(tx[3] / max(1, len(done)), 2),
        "event_bytes": round(event_bytes),
        "offered_rate": rate,
        "latency_cases": len(started),
        **percentiles(to_plan),
        "notice_p50_ms": percentiles(to_notice)["p50_ms"],
        "notice_p99_ms": percentiles(to_notice)["p99_ms"],
        # The same case's cost at the offered rate, where groups are small: what decides
        # whether the latency holds (a case costs more in CPU when it shares less).
        "latency_cpu_ms_per_case": round(lat_cpu_ms, 2),
        "latency_mean_event_group": round(lat_tx[1] / max(1, lat_tx[0]), 1),
        "latency_load": round(rate * lat_cpu_ms / 1000, 2),
    }


async def _transactions(client: KenettClient, processes: int) -> tuple[int, int, int, int]:
    """The services' transactions so far (``kenett status``): event transactions, events
    applied in them, command transactions, outbox batches (two transactions each)."""
    found = await client.status(wait=5.0, expect=processes)
    if len(found) < processes:
        raise RuntimeError(f"{len(found)} of {processes} service processes answered status")
    services = [s for instance in found for s in instance.services]
    return (
        sum(s.event_transactions for s in services),
        sum(s.events_committed for s in services),
        sum(s.command_transactions for s in services),
        sum(s.outbox_batches for s in services),
    )


def _bare(
    nats_url: str, event_bytes: int, seconds: float, workdir: Path, event_loop: EventLoop
) -> dict[str, Any]:
    """Run the bare bus in a child process (one process, like the services, on their loop)."""
    from shared.contracts.envelope import Actor, Envelope

    # An envelope like the pipeline's, its payload padded to their mean size.
    def body_of(pad: int) -> bytes:
        return (
            Envelope(
                id=uuid.uuid4(),
                type="bench.bare_hop",
                version=1,
                org=ORG,
                occurred_at=datetime.now(UTC),
                correlation_id=uuid.uuid4(),
                actor=Actor(kind="user", id="bench"),
                case_id=uuid.uuid4(),
                payload={"pad": "x" * pad},
            )
            .model_dump_json()
            .encode()
        )

    body = body_of(max(0, event_bytes - len(body_of(0))))
    path = workdir / "bare-body.json"
    path.write_bytes(body)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.runtime.bench_bare",
            nats_url,
            str(path),
            str(seconds),
            event_loop,
        ],
        capture_output=True,
        timeout=seconds + 120,
        check=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    figures["bare_hops_per_s"] = round(figures["bare_hops"] / figures["bare_seconds"], 1)
    figures["bare_event_bytes"] = len(body)
    return figures


@contextmanager
def _schemas(database_url: str | None) -> Iterator[dict[str, str]]:
    """Settings for the services' databases: SQLite in the temp dir, or fresh PG schemas."""
    if not database_url:
        yield {}
        return
    prefix = f"bench{uuid.uuid4().hex[:6]}_"
    try:
        yield {"KENETT_DATABASE_URL": database_url, "KENETT_DATABASE_SCHEMA_PREFIX": prefix}
    finally:
        url = Settings(database_url=database_url).database_url  # postgresql:// -> +asyncpg

        async def drop() -> None:
            for name in SERVICES:
                db = Database(url, name, prefix)
                async with db.engine.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE'))
                await db.dispose()

        asyncio.run(drop())


def run_pipeline(
    cases: int = 1000,
    rate: float = 20.0,
    seconds: float = 20.0,
    concurrency: int = 32,
    bare_seconds: float = 10.0,
    database_url: str | None = None,
    timeout: float = 60.0,
    split: bool = False,
    durability: str = "crash",
    event_loop: EventLoop = "uvloop",
) -> dict[str, Any]:
    """The figures of one run (see the module docstring). ``split``: each service in a process
    of its own (``kenett run SERVICE``, as when services are scaled separately) instead of all
    five in one; ``rss_mb`` is then the sum of their peaks. ``durability``: ``power`` syncs
    every SQLite commit and every stored message (``KENETT_DURABILITY``), for the bare bus too
    (it runs on the same nats-server). ``event_loop``: the services' loop, and the bare bus's
    (``KENETT_EVENT_LOOP``)."""
    with (
        tempfile.TemporaryDirectory(prefix="kenett-bench-") as tmp,
        _schemas(database_url) as db,
        ExitStack() as stack,
    ):
        workdir = Path(tmp)
        server = NatsServer(workdir / "nats", sync_always=durability == "power").start()
        stack.callback(server.stop)
        env = {
            "KENETT_AUTO_APPOINT": "1",
            "KENETT_DURABILITY": durability,
            "KENETT_EVENT_LOOP": event_loop,
            **db,
        }
        groups = [[name] for name in SERVICES] if split else [SERVICES]
        running = stack.enter_context(ExitStack())
        procs = {
            (group[0] if split else "services"): running.enter_context(
                services(group, workdir, server.url, f"{'-'.join(group)}.log", **env)
            )
            for group in groups
        }
        pids = {name: proc.pid for name, proc in procs.items()}
        assert server.pid is not None
        pids["nats-server"] = server.pid
        pids["clients"] = os.getpid()
        figures = asyncio.run(_drive(pids, server.url, cases, concurrency, rate, seconds, timeout))
        peaks = {name: process_memory_mb(proc.pid)["VmHWM"] for name, proc in procs.items()}
        figures["rss_mb"] = round(sum(peaks.values()), 1)
        if split:
            figures["rss_mb_by_process"] = peaks
        running.close()  # stopped (and their logs complete): the bare bus gets the machine
        bare = _bare(server.url, figures["event_bytes"], bare_seconds, workdir, event_loop)
    figures["mode"] = "split" if split else "all-in-one"
    figures["processes"] = len(procs)
    figures.update(bare)
    figures["efficiency"] = round(
        figures["cases_per_s"] * figures["events_per_case"] / figures["bare_hops_per_s"], 3
    )
    figures["database"] = "postgresql" if database_url else "sqlite"
    figures["durability"] = durability
    figures["event_loop"] = loop_in_use(event_loop)
    figures["cpus"] = os.cpu_count()
    return {"benchmark": "pipeline", **figures}
