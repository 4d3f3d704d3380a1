"""Failure tests: crashes, restarts, outages and poison messages; nothing may be lost.

What they share: services as OS processes (``kenett run``, as in distributed mode) against a
nats-server of the test's own (never the one on 4222) with a file store; a steady load of
synthetic cases whose commands are retried with the same ``request_id`` when nobody answers;
and the check of the durable record: the events stream, the dead-letter stream and caseloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import pytest

from shared.bus.deadletter import read_dead_letters
from shared.client import KenettClient, RequestFailed
from shared.contracts import assignment, consent, intake
from shared.contracts.commands import Command
from shared.contracts.envelope import Envelope
from shared.contracts.subjects import EVENTS_STREAM
from shared.watch import EventWatcher
from tests.e2e.conftest import ServiceProcess
from tests.helpers import read_stream, record_consent, register_coordinator, report_need

ORG = "failure"
SERVICES = ["intake", "consent", "assignment", "planning", "notifications"]
CONSENTS = (consent.ConsentKind.COORDINATOR, consent.ConsentKind.IP)
CASELOAD_LIMIT = 5  # the default (R10)


@pytest.fixture
def failure_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """PostgreSQL (a schema per service) when available, else a SQLite file per service."""
    try:
        return str(request.getfixturevalue("postgres_url"))
    except pytest.skip.Exception:
        return f"sqlite+aiosqlite:///{tmp_path}/db/{{service}}.db"


@dataclass
class Cluster:
    """``kenett run`` processes by name, all on the same NATS and database."""

    tmp: Path
    nats_url: str
    database_url: str
    procs: dict[str, ServiceProcess] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KENETT_NATS_URL": self.nats_url,
            "KENETT_DATABASE_URL": self.database_url,
            "KENETT_ORG": ORG,
            "KENETT_VAR_DIR": str(self.tmp / "var"),
            "KENETT_LOG_FORMAT": "json",
            "KENETT_ACK_WAIT_S": "5",
            # A gate question that gets no answer gives up before its event's ack_wait runs out.
            "KENETT_COMMAND_TIMEOUT_S": "3",
            "KENETT_RELAY_POLL_S": "0.5",
            "KENETT_AUTO_APPOINT": "1",
        }

    def start(self, name: str, services: list[str]) -> ServiceProcess:
        """Start (or start again) the process ``name``; returns once its services started.
        Blocking: from async code use ``asyncio.to_thread``."""
        proc = ServiceProcess(services, self.env(), self.tmp / f"{name}.log").start(timeout=90)
        self.procs[name] = proc
        return proc

    def start_each_of(self, groups: dict[str, list[str]]) -> None:
        """A process per group (name: services), started in parallel."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(groups)) as pool:
            list(pool.map(lambda item: self.start(*item), groups.items()))

    def start_each(self) -> None:
        """Each service in its own process, started in parallel."""
        self.start_each_of({s: [s] for s in SERVICES})

    def pause(self, name: str) -> None:
        """SIGSTOP: the process holds its connections but does nothing (see ``resume``)."""
        proc = self.procs[name].proc
        assert proc is not None
        proc.send_signal(signal.SIGSTOP)

    def resume(self, name: str) -> None:
        proc = self.procs[name].proc
        assert proc is not None
        proc.send_signal(signal.SIGCONT)

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for name, proc in self.procs.items():
            if proc.proc is not None and proc.proc.poll() is None:
                self.resume(name)  # a paused process cannot stop
            proc.stop()


@pytest.fixture
def cluster(tmp_path: Path, local_nats_server: Any, failure_database_url: str) -> Iterator[Cluster]:
    c = Cluster(tmp_path, local_nats_server.url, failure_database_url)
    try:
        yield c
    finally:
        c.stop()


async def connect(url: str) -> Any:
    """The test's own connection: like a service's, it reconnects for ever."""

    async def quiet(_exc: Exception) -> None:  # one traceback per reconnect attempt otherwise
        return None

    return await nats.connect(
        url, max_reconnect_attempts=-1, reconnect_time_wait=0.25, error_cb=quiet
    )


class Load:
    """A steady stream of synthetic cases: report a need (intake), then record coordinator and
    IP consent (consent). A command nobody answers is sent again with the same ``request_id``
    until it is answered, so a retried command is applied at most once. A case is started
    only while the load runs, and always finished, so every case intake accepted is known."""

    def __init__(self, client: KenettClient, *, workers: int = 2, pause_s: float = 0.4) -> None:
        self.client = client
        self.workers = workers
        self.pause_s = pause_s
        self.cases: list[uuid.UUID] = []
        """Every case intake accepted, in order."""
        self.retries: Counter[str] = Counter()
        """Per service, how many times a command was sent again."""
        self.limit: int | None = None
        """Start no case beyond this many (coordinators are registered for them)."""
        self._running = False
        self._tasks: list[asyncio.Task[None]] = []
        self._started = 0
        self._changed = asyncio.Event()

    async def send(self, service: str, cmd: Command, patience_s: float = 120.0) -> dict[str, Any]:
        """The command's result; sent again (same request_id) while nobody answers."""
        assert cmd.request_id is not None
        deadline = time.monotonic() + patience_s
        delay = 0.1
        while True:
            try:
                return await self.client.command(service, cmd)
            except RequestFailed as exc:
                if exc.error.code != "unavailable":
                    raise
            except nats.errors.Error:  # the test's own connection is reconnecting
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{service} did not answer for {patience_s:.0f}s")
            self.retries[service] += 1
            await asyncio.sleep(delay)  # a retry's back-off, not a wait for an event
            delay = min(delay * 2, 1.0)

    async def one_case(self) -> None:
        reported = intake.ReportNeedResult.model_validate(
            await self.send("intake", report_need(request_id=uuid.uuid4()))
        )
        self.cases.append(reported.case_id)
        self._changed.set()
        for kind in CONSENTS:
            await self.send(
                "consent", record_consent(reported.case_id, kind, request_id=uuid.uuid4())
            )

    async def _worker(self) -> None:
        try:
            while self._running and (self.limit is None or self._started < self.limit):
                self._started += 1
                await self.one_case()
                await asyncio.sleep(self.pause_s)  # pacing: a steady load, not a flood
        finally:
            self._changed.set()  # a waiter learns at once that this worker has ended

    def start(self) -> None:
        self._running = True
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self.workers)]

    async def stop(self) -> None:
        """Start no new case; finish the ones under way (errors surface here)."""
        self._running = False
        await asyncio.gather(*self._tasks)

    async def until_cases(self, n: int, timeout: float = 90.0) -> None:
        """Wait until intake has accepted ``n`` cases in all."""
        async with asyncio.timeout(timeout):
            while len(self.cases) < n:
                self._changed.clear()
                for task in self._tasks:  # a worker that ended fails the wait at once
                    if task.done():
                        task.result()  # its error, if it failed
                        raise AssertionError(f"the load stopped at its limit of {self.limit}")
                await self._changed.wait()


@dataclass
class Driver:
    """The test's side: its NATS connection, a client, a live event watcher, the load."""

    nc: Any
    js: Any
    client: KenettClient
    events: EventWatcher
    load: Load

    def plans(self) -> set[uuid.UUID | None]:
        return {e.case_id for e in self.events.matching("planning.plan_created")}

    def plan_notices(self) -> set[uuid.UUID | None]:
        return {
            e.case_id
            for e in self.events.matching("notifications.notification_created", kind="plan_created")
        }

    async def register_coordinators(self, cases: int) -> None:
        """Enough coordinators for ``cases`` cases at the default limit, and one spare."""
        for _ in range(-(-cases // CASELOAD_LIMIT) + 1):
            await self.load.send("assignment", register_coordinator(request_id=uuid.uuid4()))

    async def catch_up(self) -> None:
        """Add what the stream holds to the watcher: events published while this connection
        was away from a restarted server are in the stream, not in the live subscription."""
        await self.nc.flush()  # the live subscription is in place from here on
        for m in await read_stream(self.js, EVENTS_STREAM, f"kenett.{ORG}.evt.>"):
            self.events.record(Envelope.model_validate_json(m.data))

    async def until_complete(self, timeout: float = 120.0) -> None:
        """Every case the load got accepted has its plan and the coordinator's notice of it."""
        cases = set(self.load.cases)
        try:
            await self.events.wait_until(lambda: self.plans() >= cases, timeout)
        except TimeoutError:
            missing = cases - self.plans()
            seen = {c: [e.type for e in self.events.events if e.case_id == c] for c in missing}
            raise TimeoutError(
                f"{len(missing)} cases without a plan; their events: {seen}"
            ) from None
        await self.events.wait_until(lambda: self.plan_notices() >= cases, timeout)


@pytest.fixture
async def driver(cluster: Cluster) -> AsyncIterator[Driver]:
    nc = await connect(cluster.nats_url)
    events = EventWatcher()
    await nc.subscribe(f"kenett.{ORG}.evt.>", cb=events.on_msg)
    client = KenettClient(nc, ORG, timeout=5)
    try:
        yield Driver(nc, nc.jetstream(), client, events, Load(client))
    finally:
        with contextlib.suppress(Exception):
            await nc.close()


async def stored(js: Any, event_type: str) -> list[Envelope]:
    """Every event of a type in the events stream (the durable record)."""
    service, name = event_type.split(".", 1)
    subject = f"kenett.{ORG}.evt.{service}.{name}"
    return [
        Envelope.model_validate_json(m.data) for m in await read_stream(js, EVENTS_STREAM, subject)
    ]


async def assert_nothing_lost_nothing_doubled(driver: Driver) -> None:
    """The durable record, for every case intake accepted: one case, one consent of each kind,
    one appointment, one plan, one notice of it; caseloads add up (R10); no dead letter."""
    cases = driver.load.cases
    n = len(cases)
    assert len(set(cases)) == n
    once = Counter(dict.fromkeys(cases, 1))

    opened = Counter(e.case_id for e in await stored(driver.js, "intake.case_opened"))
    assert opened == once, "intake opened a case more than once, or one nobody was told of"
    consents = Counter(
        (e.case_id, e.payload["kind"]) for e in await stored(driver.js, "consent.consent_recorded")
    )
    assert consents == Counter({(c, k.value): 1 for c in cases for k in CONSENTS})
    appointed = Counter(
        e.case_id for e in await stored(driver.js, "assignment.coordinator_appointed")
    )
    assert appointed == once  # R9: one coordinator; R11: no second one by accident
    plans = Counter(e.case_id for e in await stored(driver.js, "planning.plan_created"))
    assert plans == once  # R5: a plan once both consents are in and a coordinator is appointed
    notices = await stored(driver.js, "notifications.notification_created")
    for kind in ("coordinator_appointed", "plan_created"):
        told = Counter(e.case_id for e in notices if e.payload["kind"] == kind)
        assert told == once, f"{kind} notices are not one per case"

    coordinators = assignment.CoordinatorList.model_validate(
        await driver.client.query(
            "assignment", assignment.ListCoordinators(actor=register_coordinator().actor)
        )
    ).coordinators
    assert sum(c.caseload for c in coordinators) == n
    assert all(c.caseload <= c.caseload_limit for c in coordinators)  # R10

    letters = await read_dead_letters(driver.js, ORG)
    assert not letters, [f"{d.consumer}: {d.reason}" for d in letters]
