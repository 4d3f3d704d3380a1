"""``kenett bench handover``: handover between organisations, and catching up after an outage
of the hub (R11, R17).

A whole federation runs on loopback (``LocalFederation``: a hub and one leaf-node nats-server
per organisation, each in its own JetStream domain). The hospital (sykehuset) and Lund kommune
run all their services in this process (``ServiceHost``), each with a database of its own;
Iveland's server runs, with no services. Both organisations share this process's event loop and
CPU, as in the federation tests.

1. Setup: the hospital sends N reports of need (``SendNeedReport``) to Lund, each opening a
   case link (and an intake case at Lund), and waits for every receipt.
2. Latency: the hospital proposes a handover (``ProposeHandover``) on each link, open loop at
   ``--rate`` per second. One way is from the command returning (the proposal committed to the
   hospital's outbox) until Lund has applied it; the round trip is from the same moment until
   the hospital has applied Lund's answer. Lund answers as soon as the proposal is applied
   (this code, reacting to the arrival, sends ``AnswerHandover``). It refuses, with a reason:
   that needs no consents nor a coordinator per case, and crosses the same path as an accept.
3. Throughput (``--burst``): N more proposals, unpaced (16 commands in flight), answered the same
   way; handovers per second from the first command to the last answer applied.
4. Catch-up: the hub is stopped; the hospital proposes ``--queued`` more handovers (round robin
   over the links), which wait in its outbound stream (``XORG_OUT_sykehuset``, counted there);
   the hub stays down ``--outage-s`` in all, is started again, and the benchmark times until
   Lund has applied every queued proposal (not answered in this phase), and until every
   receipt is back at the hospital. Then it checks each arrived exactly once.

``cpu_util`` is this process's CPU time over a phase as a share of one core: near 1.0 the one
event loop that runs both organisations is saturated and latency is mostly queueing (lower
``--rate``); ``cpu_ms_per_handover`` is what one handover costs both organisations together.

Arrivals are timed by the federation runtime's observers, called as each inbound message is
committed and acknowledged: no polling. Lund's inbound stream sources the hospital's outbound
stream through the hub; after an outage the server retries a source with a backoff (10 s, 20 s,
... up to 2 min), which may be part of what catch-up measures.

On PostgreSQL each organisation's services get fresh schemas (``bench<hex>_<org>_<service>``),
dropped afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import resource
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from sqlalchemy import text
from sqlmodel import col, select

from shared.client import KenettClient
from shared.clock import SystemClock, local_today
from shared.config import Settings
from shared.contracts.assignment import RegisterCoordinator
from shared.contracts.envelope import Actor
from shared.contracts.federation import AnswerHandover, ProposeHandover, SendNeedReport
from shared.contracts.intake import DisclosureBasis, Need
from shared.contracts.xorg import XHeader
from shared.db.engine import Database
from shared.federation.topology import in_stream, out_stream, xorg_subject
from shared.natsconn import connect_once
from shared.plugins import ServicePlugin
from shared.plugins import select as select_plugins
from shared.runtime.federation import LocalFederation
from shared.runtime.host import ServiceHost
from shared.synthetic import synthetic_national_id

from .handlers import CONSUMER, Runtime, runtime
from .store import Incoming, Outgoing

HOSPITAL, LUND = "sykehuset", "lund"
REFUSAL = "Benchmark: refused at once (the answer crosses as an acceptance would)"
ANSWER = "refused (accept=False, with a reason)"
BURST_IN_FLIGHT = 16
COMMAND_TIMEOUT_S = 30.0
PHASE_TIMEOUT_S = 300.0
CATCHUP_TIMEOUT_S = 600.0
"""Longer than the source retry backoff's 2 min ceiling, with room for a slow machine."""


def _staff(org: str) -> Actor:
    return Actor(kind="user", id=f"bench-{org}")


def _ms(seconds: float) -> float:
    return seconds * 1000.0


class _Cpu:
    """This process's CPU time over a phase, as a share of one core (both organisations'
    services and the benchmark share one event loop: near 1.0 means saturated)."""

    def __init__(self) -> None:
        self.cpu0, self.wall0 = time.process_time(), time.perf_counter()

    def seconds(self) -> float:
        return time.process_time() - self.cpu0

    def util(self) -> float:
        wall = time.perf_counter() - self.wall0
        return round(self.seconds() / wall, 2) if wall > 0 else 0.0


def _percentiles(prefix: str, samples_s: list[float]) -> dict[str, float | None]:
    from shared.runtime.bench import percentiles

    keys = ("p50_ms", "p95_ms", "p99_ms", "max_ms")
    if len(samples_s) < 2:
        only = round(_ms(samples_s[0]), 3) if samples_s else None
        return {f"{prefix}_{k}": only for k in keys}
    figures = percentiles([_ms(s) for s in samples_s])
    return {f"{prefix}_{k}": figures[k] for k in keys}


class _Arrivals:
    """An observer of one organisation's federation runtime: when each inbound message of one
    type was applied (first time), keyed by its id or the id it answers."""

    def __init__(self, type_: str, key: Callable[[XHeader], uuid.UUID | None]) -> None:
        self.type = type_
        self.key = key
        self.first: dict[uuid.UUID, float] = {}
        self.seen: Counter[uuid.UUID] = Counter()
        self.dead_lettered = 0
        self.on_first: Callable[[uuid.UUID], None] | None = None
        self._missing: set[uuid.UUID] = set()
        self._done: asyncio.Event | None = None

    def __call__(self, header: XHeader | None) -> None:
        now = time.perf_counter()
        if header is None:
            self.dead_lettered += 1
            return
        if header.type != self.type:
            return
        key = self.key(header)
        if key is None:
            return
        self.seen[key] += 1
        if key in self.first:
            return
        self.first[key] = now
        if self._done is not None and key in self._missing:
            self._missing.discard(key)
            if not self._missing:
                self._done.set()
        if self.on_first is not None:
            self.on_first(key)

    async def wait_for(self, ids: Collection[uuid.UUID], timeout: float) -> bool:
        """Until every one of ``ids`` has arrived; False if ``timeout`` passed first."""
        self._missing = {i for i in ids if i not in self.first}
        if not self._missing:
            return True
        self._done = asyncio.Event()
        try:
            await asyncio.wait_for(self._done.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._done = None

    def redeliveries(self, ids: Collection[uuid.UUID]) -> int:
        """Applications beyond the first (a redelivery the receiver recognised and skipped)."""
        return sum(max(0, self.seen[i] - 1) for i in ids)


@dataclass
class _Org:
    code: str
    host: ServiceHost
    nc: NatsClient
    client: KenettClient

    @property
    def rt(self) -> Runtime:
        return runtime(self.host.contexts["federation"])

    async def cmd(self, command: Any) -> dict[str, Any]:
        return await self.client.command("federation", command)


async def _start_org(
    servers: LocalFederation,
    code: str,
    plugins: list[ServicePlugin],
    database_url: str,
    prefix: str,
) -> _Org:
    spec = next(o for o in servers.orgs if o.code == code)
    settings = Settings(
        org=code,
        org_kind=spec.kind,
        org_name=spec.name,
        nats_url=servers.leaf_url(code),
        database_url=database_url,
        database_schema_prefix=prefix,
        federation_file=servers.federation_file(code),
        log_level="WARNING",
        channels=[],  # the inbox only: no SMTP server here
        notify_sweep_s=3600,  # no sweeps of their own during the run
        federation_sweep_s=3600,
    )
    host = ServiceHost(settings, plugins)
    try:
        await host.start()
        nc = await connect_once(servers.leaf_url(code), f"kenett-bench-{code}")
    except BaseException:
        await host.stop()
        raise
    return _Org(code, host, nc, KenettClient(nc, code, timeout=COMMAND_TIMEOUT_S))


class _Bench:
    def __init__(self, servers: LocalFederation, hospital: _Org, lund: _Org) -> None:
        self.servers = servers
        self.hospital = hospital
        self.lund = lund
        self.proposals = _Arrivals("handover_proposal", lambda h: h.id)  # at Lund
        self.answers = _Arrivals("handover_answer", lambda h: h.reply_to)  # at the hospital
        self.receipts = _Arrivals("receipt", lambda h: h.reply_to)  # at the hospital
        lund.rt.observers.append(self.proposals)
        hospital.rt.observers.append(self.answers)
        hospital.rt.observers.append(self.receipts)
        self.answering = False
        self.proposals.on_first = self._answer_soon
        self._tasks: set[asyncio.Task[None]] = set()
        self.answer_errors: list[str] = []
        self.answer_command_s: list[float] = []
        self.links: list[uuid.UUID] = []
        self.start = local_today(SystemClock()) + timedelta(days=10)

    # --- Lund answers each proposal as it is applied ---------------------------------------

    def _answer_soon(self, proposal_id: uuid.UUID) -> None:
        if not self.answering:
            return
        task = asyncio.get_running_loop().create_task(self._answer(proposal_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, proposal_id: uuid.UUID) -> None:
        t0 = time.perf_counter()
        try:
            await self.lund.cmd(
                AnswerHandover(
                    actor=_staff(LUND), proposal_id=proposal_id, accept=False, reason=REFUSAL
                )
            )
        except Exception as exc:
            self.answer_errors.append(f"{type(exc).__name__}: {exc}")
            return
        self.answer_command_s.append(time.perf_counter() - t0)

    async def settle_answers(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- phases ----------------------------------------------------------------------------

    async def setup(self, links: int) -> float:
        """Reports of need, one case link each; every receipt back at the hospital."""
        rng = random.Random(20261123)
        people: set[str] = set()
        while len(people) < links:
            people.add(synthetic_national_id(rng))
        t0 = time.perf_counter()
        sent: list[uuid.UUID] = []
        for person in sorted(people):
            result = await self.hospital.cmd(
                SendNeedReport(
                    actor=_staff(HOSPITAL),
                    to=LUND,
                    national_id=person,
                    needs=[Need.IP, Need.COORDINATOR],
                    department="Medisinsk avdeling",
                    expected_discharge=self.start,
                    hospital_coordinator="hk-1",
                    basis=DisclosureBasis.CONSENT,
                )
            )
            self.links.append(uuid.UUID(result["link_id"]))
            sent.append(uuid.UUID(result["message_id"]))
        if not await self.receipts.wait_for(sent, PHASE_TIMEOUT_S):
            raise RuntimeError(
                f"setup: {len(self.receipts._missing)} of {links} reports of need had no "
                f"receipt after {PHASE_TIMEOUT_S:.0f} s ({await self.diagnose()})"
            )
        refused = await self._not_accepted(sent)
        if refused:
            raise RuntimeError(f"setup: {refused} reports of need were not accepted by {LUND}")
        return time.perf_counter() - t0

    def _proposal(self, link_id: uuid.UUID) -> ProposeHandover:
        return ProposeHandover(
            actor=_staff(HOSPITAL),
            link_id=link_id,
            coordinator="hk-1",
            start=self.start,
            overlap_days=3,
        )

    async def _propose(self, link_id: uuid.UUID, sent: dict[uuid.UUID, float]) -> float:
        t0 = time.perf_counter()
        result = await self.hospital.cmd(self._proposal(link_id))
        returned = time.perf_counter()
        sent[uuid.UUID(result["message_id"])] = returned
        return returned - t0

    async def paced(self, rate: float) -> dict[str, Any]:
        """One proposal per link, open loop at ``rate``/s, each answered by Lund at once."""
        sent: dict[uuid.UUID, float] = {}
        command_s: list[float] = []
        errors: list[str] = []

        async def one(link_id: uuid.UUID) -> None:
            try:
                command_s.append(await self._propose(link_id, sent))
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

        # Open loop: proposals go out on schedule whether or not earlier ones have arrived, so
        # a slow path shows as latency instead of quietly lowering the offered rate.
        self.answering = True
        cpu = _Cpu()
        loop = asyncio.get_running_loop()
        interval = 1.0 / rate
        tasks = []
        t0 = loop.time()
        for i, link_id in enumerate(self.links):
            delay = t0 + i * interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(link_id)))
        await asyncio.gather(*tasks)
        offered_s = loop.time() - t0
        if errors:
            raise RuntimeError(f"handovers: {len(errors)} proposals failed, e.g. {errors[0]}")
        answered = await self.answers.wait_for(sent, PHASE_TIMEOUT_S)
        await self.settle_answers()
        self.answering = False
        if self.answer_errors:
            raise RuntimeError(f"Lund's answers failed: {self.answer_errors[0]}")
        if not answered:
            raise RuntimeError(
                f"handovers: {len(self.answers._missing)} of {len(sent)} proposals had no answer "
                f"after {PHASE_TIMEOUT_S:.0f} s ({await self.diagnose()})"
            )
        oneway = [self.proposals.first[i] - t for i, t in sent.items()]
        roundtrip = [self.answers.first[i] - t for i, t in sent.items()]
        return {
            "achieved_rate": round(len(sent) / offered_s, 1) if offered_s > 0 else None,
            "cpu_util": cpu.util(),
            "cpu_ms_per_handover": round(_ms(cpu.seconds()) / len(sent), 1),
            **_percentiles("propose", command_s),
            **_percentiles("oneway", oneway),
            **_percentiles("roundtrip", roundtrip),
            **_percentiles("answer", self.answer_command_s),
        }

    async def burst(self) -> dict[str, Any]:
        """One more proposal per link, unpaced; handovers (round trips) per second."""
        sent: dict[uuid.UUID, float] = {}
        gate = asyncio.Semaphore(BURST_IN_FLIGHT)

        async def one(link_id: uuid.UUID) -> None:
            async with gate:
                await self._propose(link_id, sent)

        self.answering = True
        cpu = _Cpu()
        t0 = time.perf_counter()
        await asyncio.gather(*(one(link_id) for link_id in self.links))
        sending_s = time.perf_counter() - t0
        answered = await self.answers.wait_for(sent, PHASE_TIMEOUT_S)
        await self.settle_answers()
        self.answering = False
        if self.answer_errors:
            raise RuntimeError(f"Lund's answers failed: {self.answer_errors[0]}")
        if not answered:
            raise RuntimeError(
                f"burst: {len(self.answers._missing)} proposals had no answer "
                f"({await self.diagnose()})"
            )
        seconds = max(self.answers.first[i] for i in sent) - t0
        return {
            "burst_handovers": len(sent),
            "burst_sending_s": round(sending_s, 2),
            "burst_s": round(seconds, 2),
            "burst_per_s": round(len(sent) / seconds, 1) if seconds > 0 else None,
            "burst_cpu_util": cpu.util(),
            **_percentiles("burst_roundtrip", [self.answers.first[i] - t for i, t in sent.items()]),
        }

    async def diagnose(self) -> str:
        """Where messages are stuck, for an error message."""
        parts = []
        with contextlib.suppress(Exception):
            parts.append(
                f"{out_stream(HOSPITAL)} holds {await self._outbound_count()} for {LUND}, "
                f"{in_stream(LUND)} {await self._inbound_count()}"
            )
        for org in (self.lund, self.hospital):
            with contextlib.suppress(Exception):
                info = await org.nc.jetstream().consumer_info(in_stream(org.code), CONSUMER)
                parts.append(
                    f"{org.code}'s {CONSUMER}: {info.num_pending} pending, "
                    f"{info.num_ack_pending} unacknowledged, {info.num_redelivered} redelivered"
                )
        dead = self.proposals.dead_lettered + self.answers.dead_lettered
        parts.append(f"{dead} dead-lettered")
        return "; ".join(parts)

    async def _outbound_count(self) -> int:
        subject = xorg_subject(LUND, HOSPITAL)
        info = await self.hospital.nc.jetstream().stream_info(
            out_stream(HOSPITAL), subjects_filter=subject
        )
        return int((info.state.subjects or {}).get(subject, 0))

    async def _inbound_count(self) -> int:
        subject = xorg_subject(LUND, HOSPITAL)
        info = await self.lund.nc.jetstream().stream_info(in_stream(LUND), subjects_filter=subject)
        return int((info.state.subjects or {}).get(subject, 0))

    async def catch_up(self, queued: int, outage_s: float) -> dict[str, Any]:
        """The hub down for ``outage_s``; ``queued`` proposals sent meanwhile; time to deliver."""
        subject = xorg_subject(LUND, HOSPITAL)
        published = 0
        enough = asyncio.Event()

        async def on_published(_msg: Msg) -> None:
            nonlocal published
            published += 1
            if published >= queued:
                enough.set()

        # The relay publishes to the hospital's own server: seen there whatever the hub's state.
        sub = await self.hospital.nc.subscribe(subject, cb=on_published)
        await self.hospital.nc.flush()
        ids: list[uuid.UUID] = []
        try:
            before = await self._outbound_count()
            t_down = time.perf_counter()
            self.servers.stop_hub()
            for i in range(queued):
                result = await self.hospital.cmd(self._proposal(self.links[i % len(self.links)]))
                ids.append(uuid.UUID(result["message_id"]))
            queue_s = time.perf_counter() - t_down
            # Every proposal in the outbound stream: woken by each publish, confirmed in the
            # stream itself (a re-published message is seen on the subject, not stored twice).
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(enough.wait(), PHASE_TIMEOUT_S)
                in_stream_now = await self._outbound_count() - before
                if in_stream_now >= queued:
                    break
                if time.perf_counter() - t_down > PHASE_TIMEOUT_S:
                    raise RuntimeError(
                        f"catch-up: only {in_stream_now} of {queued} proposals reached "
                        f"{out_stream(HOSPITAL)}"
                    )
                enough.clear()
                published = in_stream_now  # wait for the rest
            in_outbound_s = time.perf_counter() - t_down
        finally:
            await sub.unsubscribe()
        arrived_during = sum(1 for i in ids if i in self.proposals.first)
        remaining = outage_s - (time.perf_counter() - t_down)
        if remaining > 0:
            await asyncio.sleep(remaining)  # the outage itself: what this phase is about
        cpu = _Cpu()
        t_up = time.perf_counter()
        self.servers.start_hub()
        hub_start_s = time.perf_counter() - t_up
        outage_actual_s = t_up - t_down

        all_arrived = await self.proposals.wait_for(ids, CATCHUP_TIMEOUT_S)
        arrivals = [self.proposals.first[i] for i in ids if i in self.proposals.first]
        all_receipts = await self.receipts.wait_for(ids, CATCHUP_TIMEOUT_S if all_arrived else 10.0)
        receipts = [self.receipts.first[i] for i in ids if i in self.receipts.first]
        catchup_cpu = cpu.util()
        first = min(arrivals) - t_up if arrivals else None
        last = max(arrivals) - t_up if all_arrived and arrivals else None

        # Exactly once: in Lund's database, and in its inbound stream against the hospital's
        # outbound stream (the sourcing de-duplicates by message id).
        wanted = set(ids)
        async with self.lund.host.contexts["federation"].uow(readonly=True) as uow:
            rows = [
                row_id
                for row_id in await uow.session.exec(
                    select(Incoming.id).where(Incoming.type == "handover_proposal")
                )
                if row_id in wanted
            ]
        async with self.hospital.host.contexts["federation"].uow(readonly=True) as uow:
            accepted = {
                row_id
                for row_id in await uow.session.exec(
                    select(Outgoing.id).where(
                        Outgoing.type == "handover_proposal", col(Outgoing.status) == "accepted"
                    )
                )
                if row_id in wanted
            }
        out_count, in_count = await self._outbound_count(), await self._inbound_count()
        stuck = {} if all_arrived and all_receipts else {"stuck": await self.diagnose()}
        return {
            "queued": queued,
            "outage_s": outage_s,
            "outage_actual_s": round(outage_actual_s, 2),
            "queue_s": round(queue_s, 2),
            "in_outbound_s": round(in_outbound_s, 2),
            "arrived_during_outage": arrived_during,
            "hub_start_s": round(hub_start_s, 2),
            "first_after_restart_s": round(first, 2) if first is not None else None,
            "catchup_s": round(last, 2) if last is not None else None,
            "catchup_per_s": (
                round(queued / (last - first), 1)
                if last is not None and first is not None and last > first
                else None
            ),
            "catchup_cpu_util": catchup_cpu,
            "receipts_s": (round(max(receipts) - t_up, 2) if all_receipts and receipts else None),
            "arrived": len(arrivals),
            "duplicates": len(rows) - len(set(rows)),
            "missing": queued - len(set(rows)),
            "receipts_missing": queued - len(accepted),
            "stream_duplicates": max(0, in_count - out_count),
            "redeliveries": self.proposals.redeliveries(ids),
            **stuck,
        }

    async def _not_accepted(self, ids: Collection[uuid.UUID]) -> int:
        wanted = set(ids)
        async with self.hospital.host.contexts["federation"].uow(readonly=True) as uow:
            rows = await uow.session.exec(
                select(Outgoing.id, Outgoing.status).where(col(Outgoing.id).in_(wanted))
            )
            return sum(1 for _id, status in rows if status != "accepted")


async def _measure(
    root: Path,
    database_url: str,
    prefix: str,
    handovers: int,
    rate: float,
    burst: bool,
    queued: int,
    outage_s: float,
) -> dict[str, Any]:
    plugins = select_plugins(None)
    servers = LocalFederation(root / "fed")
    orgs: list[_Org] = []
    try:
        servers.start()
        await servers.prepare_streams()
        for code in (HOSPITAL, LUND):
            url = database_url
            if "{service}" in url:  # SQLite: a directory of files per organisation
                url = url.replace("{org}", code)
            orgs.append(await _start_org(servers, code, plugins, url, f"{prefix}{code}_"))
        hospital, lund = orgs
        # The hospital coordinator the messages name: health personnel, registered (R17).
        await hospital.client.command(
            "assignment",
            RegisterCoordinator(
                actor=_staff(HOSPITAL),
                staff_id="hk-1",
                display_name="Bench Sykehuskoordinator",
                unit="Medisinsk avdeling",
                profession="sykepleier",
                health_personnel=True,
            ),
        )
        bench = _Bench(servers, hospital, lund)
        t0 = time.perf_counter()
        setup_s = await bench.setup(handovers)
        figures: dict[str, Any] = {
            "benchmark": "handover",
            "database": database_url.split(":", 1)[0].split("+", 1)[0],
            "orgs": f"{HOSPITAL} -> {LUND}",
            "answer": ANSWER,
            "handovers": handovers,
            "setup_s": round(setup_s, 2),
            "rate": rate,
        }
        figures.update(await bench.paced(rate))
        if burst:
            figures.update(await bench.burst())
        if queued:
            figures.update(await bench.catch_up(queued, outage_s))
        figures["dead_lettered"] = bench.proposals.dead_lettered + bench.answers.dead_lettered
        figures["total_s"] = round(time.perf_counter() - t0, 1)
        figures["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        return figures
    finally:
        for org in reversed(orgs):
            with contextlib.suppress(Exception):
                await org.nc.close()
            await org.host.stop()
        servers.stop()


async def _drop_schemas(url: str, prefix: str) -> None:
    for code in (HOSPITAL, LUND):
        for plugin in select_plugins(None):
            db = Database(url, plugin.name, f"{prefix}{code}_")
            try:
                if db.schema:
                    async with db.engine.begin() as conn:
                        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE'))
            finally:
                await db.dispose()


async def _measure_pg(url: str, root: Path, **kw: Any) -> dict[str, Any]:
    prefix = f"bench{uuid.uuid4().hex[:6]}_"
    try:
        return await _measure(root, url, prefix, **kw)
    finally:
        await _drop_schemas(url, prefix)


def handover(
    handovers: Annotated[
        int, typer.Option(help="Case links, and handovers measured (one per link).")
    ] = 200,
    rate: Annotated[float, typer.Option(help="Offered handovers per second (open loop).")] = 5.0,
    burst: Annotated[
        bool, typer.Option(help="Also send one more handover per link unpaced: throughput.")
    ] = True,
    queued: Annotated[
        int, typer.Option(help="Messages queued while the hub is down (0: no outage).")
    ] = 1000,
    outage_s: Annotated[float, typer.Option(help="Seconds the hub is down.")] = 30.0,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="A PostgreSQL URL (fresh schemas per organisation, dropped afterwards); "
            "SQLite in a temp dir if absent."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")] = False,
) -> None:
    """Cross-organisation handover (R17) on loopback: latency of proposal and answer through
    the hub, and catch-up after the hub has been down while messages queued."""
    from rich.console import Console
    from rich.table import Table

    from shared.logging import configure_logging

    if handovers < 2:
        raise typer.BadParameter("--handovers must be at least 2")
    if rate <= 0 or queued < 0 or outage_s < 0:
        raise typer.BadParameter("--rate must be positive, --queued and --outage-s not negative")
    configure_logging("console", "WARNING")
    kw: dict[str, Any] = {
        "handovers": handovers,
        "rate": rate,
        "burst": burst,
        "queued": queued,
        "outage_s": outage_s,
    }
    with tempfile.TemporaryDirectory(prefix="kenett-bench-") as tmp:
        root = Path(tmp)
        if database_url:
            url = Settings(database_url=database_url).resolved_database_url()
            figures = asyncio.run(_measure_pg(url, root, **kw))
        else:
            url = f"sqlite+aiosqlite:///{tmp}/{{org}}/db/{{service}}.db"
            figures = asyncio.run(_measure(root, url, "", **kw))
    table = Table(title="kenett bench handover (hub and leaf nodes, loopback)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, str(value))
    Console().print(table)
    if as_json:
        print(json.dumps(figures))
