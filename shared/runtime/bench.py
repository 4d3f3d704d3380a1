"""``kenett bench ...``: benchmarks that print figures anyone can reproduce on their hardware.

Each starts what it measures (its own nats-server, the services in a separate process, SQLite
in a temporary directory), drives it over loopback, and prints a table; with ``--json`` the
last line of stdout is one JSON object with the figures.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.client import KenettClient
from shared.contracts import consent as c
from shared.contracts import intake
from shared.contracts.envelope import Actor
from shared.natsconn import connect_once
from shared.runtime.natsserver import NatsServer
from shared.runtime.process import await_output, drain_to
from shared.synthetic import synthetic_national_id

BENCH_ACTOR = Actor(kind="user", id="bench")
ORG = "bench"


@contextmanager
def services(
    names: list[str], tmp: Path, nats_url: str, log_name: str = "services.log", **env_overrides: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``kenett run NAMES`` in a child process, ready when it says so; stopped afterwards.
    ``env_overrides`` are extra ``KENETT_*`` settings (e.g. ``KENETT_DATABASE_URL``); its log
    goes to ``tmp/log_name``."""
    env = {
        **os.environ,
        "KENETT_NATS_URL": nats_url,
        "KENETT_ORG": ORG,
        "KENETT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/{{service}}.db",
        "KENETT_LOG_FORMAT": "json",
        "KENETT_LOG_LEVEL": "INFO",
        **env_overrides,
    }
    kenett = str(Path(sys.executable).parent / "kenett")
    proc = subprocess.Popen(
        [kenett, "run", *names],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    drained: threading.Thread | None = None
    try:
        seen = await_output(proc, proc.stderr, b"services started", 60)
        drained = drain_to(proc.stderr, tmp / log_name, seen)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        else:
            if drained is not None:
                drained.join(5)  # its last lines (what it logged while stopping) are in the file


def process_memory_mb(pid: int) -> dict[str, float]:
    """A process's resident set now (``VmRSS``) and at its peak (``VmHWM``), in MB; empty if it
    is gone."""
    found: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    found[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return found


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_ms": round(q[49], 3),
        "p95_ms": round(q[94], 3),
        "p99_ms": round(q[98], 3),
        "max_ms": round(ordered[-1], 3),
    }


async def _seed(client: KenettClient, cases: int) -> list[str]:
    rng = random.Random(7)
    ids = []
    given = datetime.now(UTC) - timedelta(hours=1)
    for _ in range(cases):
        r = await client.command(
            "intake",
            intake.ReportNeed(
                actor=BENCH_ACTOR,
                national_id=synthetic_national_id(rng),
                reporter=intake.Reporter(kind=intake.ReporterKind.KE),
                needs=[intake.Need.IP],
                services=["hjemmesykepleie", "fysioterapi"],
                form="written",
            ),
        )
        case_id = r["case_id"]
        base = {
            "actor": BENCH_ACTOR,
            "case_id": case_id,
            "form": "written",
            "given_by": c.GivenBy(role=c.GiverRole.PERSON),
            "recorded_by": "bench",
            "given_at": given,
        }
        await client.command("consent", c.RecordConsent(kind=c.ConsentKind.IP, **base))
        await client.command(
            "consent",
            c.RecordConsent(
                kind=c.ConsentKind.SHARING,
                sharing=c.SharingScope(
                    recipients=["hjemmesykepleien"],
                    life_areas=[c.LifeArea.HEALTH_CARE],
                    content_kinds=[c.ContentKind.MEASURES, c.ContentKind.GOALS],
                ),
                **base,
            ),
        )
        ids.append(case_id)
    return ids


async def _gate_load(nats_url: str, cases: int, rate: float, seconds: float) -> dict[str, Any]:
    nc = await connect_once(nats_url, "kenett-bench")
    client = KenettClient(nc, ORG, timeout=10)
    try:
        ids = await _seed(client, cases)
        rng = random.Random(11)
        areas = [c.LifeArea.HEALTH_CARE, c.LifeArea.ECONOMY]

        def query() -> c.MayQuery:
            return c.MayQuery(
                actor=BENCH_ACTOR,
                case_id=rng.choice(ids),
                who=c.GateActor(kind="provider", id="hjemmesykepleien"),
                action="read_plan",
                life_area=rng.choice(areas),
                content_kind=c.ContentKind.MEASURES,
            )

        for _ in range(200):  # warm-up: connections, caches, the query plan
            await client.query("consent", query())

        latencies: list[float] = []
        allowed = 0
        errors = 0

        async def one(q: c.MayQuery) -> None:
            nonlocal allowed, errors
            start = time.perf_counter()
            try:
                result = await client.query("consent", q)
            except Exception:
                errors += 1
                return
            latencies.append((time.perf_counter() - start) * 1000)
            allowed += bool(result["allow"])

        # Open loop: requests are sent on schedule whether or not earlier ones have answered,
        # so a slow answer shows as latency instead of quietly lowering the offered rate.
        loop = asyncio.get_running_loop()
        interval = 1.0 / rate
        total = int(rate * seconds)
        tasks = []
        t0 = loop.time()
        for i in range(total):
            delay = t0 + i * interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(query())))
        await asyncio.gather(*tasks)
        elapsed = loop.time() - t0
    finally:
        await nc.close()
    return {
        "benchmark": "gate",
        "cases": cases,
        "offered_rate": rate,
        "queries": total,
        "achieved_rate": round(len(latencies) / elapsed, 1),
        "errors": errors,
        "allow_ratio": round(allowed / max(1, len(latencies)), 3),
        **percentiles(latencies),
    }


def run_gate(cases: int, rate: float, seconds: float) -> dict[str, Any]:
    """The consent gate under an offered load of ``rate`` queries/s for ``seconds``."""
    with tempfile.TemporaryDirectory(prefix="kenett-bench-") as tmp:
        server = NatsServer(Path(tmp) / "nats").start()
        try:
            with services(["intake", "consent"], Path(tmp), server.url):
                return asyncio.run(_gate_load(server.url, cases, rate, seconds))
        finally:
            server.stop()
