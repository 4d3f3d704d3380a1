"""The kernel's side of outages (shared.bus.handlers, shared.db.availability): which errors mean
"the database is away", and that an event consumer waits for the database or a service it asks
instead of spending the message's deliveries, yet still dead-letters what is the message's
own fault."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import nats
import pytest
from faststream.nats import NatsRouter
from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from shared.bus.deadletter import read_dead_letters
from shared.bus.handlers import dependency_unavailable, event_consumer
from shared.client import RequestFailed
from shared.config import Settings
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.planning import PlanCreated
from shared.contracts.replies import CommandRejected, ErrorBody
from shared.contracts.subjects import EVENTS_STREAM
from shared.db.availability import DatabaseWaiter, is_connectivity_error
from shared.db.engine import Database
from shared.db.uow import UnitOfWork
from shared.plugins import ServicePlugin
from shared.runtime.host import ServiceHost
from shared.service import ServiceContext
from tests.failure.proxy import TcpProxy

pytestmark = pytest.mark.failure
ORG = "testorg"


def _raised_from(exc: BaseException, cause: BaseException) -> BaseException:
    try:
        raise exc from cause
    except BaseException as raised:
        return raised


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        pytest.param(ConnectionRefusedError(111, "refused"), True, id="refused"),
        pytest.param(ConnectionResetError(104, "reset"), True, id="reset"),
        pytest.param(
            DBAPIError("SELECT 1", None, Exception("closed"), connection_invalidated=True),
            True,
            id="sqlalchemy-connection-invalidated",
        ),
        pytest.param(asyncpg.CannotConnectNowError("starting up"), True, id="pg-57P03"),
        pytest.param(asyncpg.AdminShutdownError("shutdown"), True, id="pg-57P01"),
        pytest.param(asyncpg.ConnectionDoesNotExistError("closed"), True, id="pg-08003"),
        pytest.param(asyncpg.TooManyConnectionsError("too many"), True, id="pg-53300"),
        pytest.param(
            _raised_from(RuntimeError("handler"), ConnectionRefusedError(111, "refused")),
            True,
            id="raised-from-a-refusal",
        ),
        # Contention and the message's own faults are not outages.
        pytest.param(
            OperationalError("BEGIN", None, sqlite3.OperationalError("database is locked")),
            False,
            id="sqlite-locked",
        ),
        pytest.param(
            IntegrityError("INSERT", None, Exception("duplicate key")), False, id="integrity"
        ),
        pytest.param(asyncpg.SerializationError("serialization"), False, id="pg-40001"),
        pytest.param(asyncpg.DeadlockDetectedError("deadlock"), False, id="pg-40P01"),
        pytest.param(nats.errors.TimeoutError(), False, id="nats-timeout"),
        pytest.param(ValueError("bad payload"), False, id="value-error"),
    ],
)
def test_what_counts_as_the_database_being_away(error: BaseException, outage: bool) -> None:
    assert is_connectivity_error(error) is outage


def test_a_service_that_cannot_answer_is_a_dependency_outage() -> None:
    gate_closed = CommandRejected("unavailable", "the consent gate could not decide")
    nobody = RequestFailed(ErrorBody(code="unavailable", message="no answer"))
    assert dependency_unavailable(gate_closed)
    assert dependency_unavailable(nobody)
    assert not dependency_unavailable(CommandRejected("forbidden", "no consent"))
    assert not dependency_unavailable(RequestFailed(ErrorBody(code="not_found", message="x")))
    assert not dependency_unavailable(RuntimeError("unavailable"))


# --- the consumer, in-process, on a real nats-server --------------------------------------------


@dataclass
class Probe:
    """A service with one consumer of PlanCreated; ``before`` and the handler fail on demand."""

    gate_failures: int = 0
    """How many times ``before`` answers as a consent gate that cannot decide."""
    handler_error: BaseException | None = None
    handled: list[uuid.UUID] = field(default_factory=list)
    calls: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def before(self, env: Envelope, event: PlanCreated) -> None:
        if self.gate_failures > 0:
            self.gate_failures -= 1
            raise CommandRejected("unavailable", "the consent gate could not decide")

    async def handle(self, uow: UnitOfWork, env: Envelope, event: PlanCreated, _: Any) -> None:
        self.calls += 1
        if self.handler_error is not None:
            raise self.handler_error
        uow.audit(actor=env.actor, action="probe.effect", case_id=env.case_id)
        uow.on_commit(lambda: (self.handled.append(env.id), self.done.set()))

    async def until_handled(self, n: int, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            while len(self.handled) < n:
                self.done.clear()
                await self.done.wait()

    def plugin(self, migrations: Path) -> ServicePlugin:
        def build(ctx: ServiceContext) -> NatsRouter:
            router = NatsRouter()
            event_consumer(
                router,
                ctx,
                name="probe",
                event=PlanCreated,
                handler=self.handle,
                before=self.before,
            )
            return router

        return ServicePlugin(
            name="probe",
            description="test probe",
            build_router=build,
            migrations=migrations,
            metadata=MetaData(),
        )


def plan_created() -> Envelope:
    case_id = uuid.uuid4()
    event = PlanCreated(
        plan_id=uuid.uuid4(), case_id=case_id, case_ref="2026-000001", coordinator_id=uuid.uuid4()
    )
    actor = Actor(kind="service", id="planning")
    return Envelope.wrap(
        event, org=ORG, occurred_at=datetime.now(UTC), actor=actor, case_id=case_id
    )


@dataclass
class Rig:
    probe: Probe
    js: Any

    async def publish(self, env: Envelope) -> None:
        await self.js.publish(
            env.subject,
            env.model_dump_json().encode(),
            stream=EVENTS_STREAM,
            headers={"Nats-Msg-Id": str(env.id)},
        )

    async def redelivered(self) -> int:
        info = await self.js.consumer_info(EVENTS_STREAM, "probe-probe")
        return int(info.num_redelivered)


@contextlib.asynccontextmanager
async def running(probe: Probe, nats_url: str, database_url: str, tmp: Path) -> AsyncIterator[Rig]:
    """The probe service in this process (max_deliver 3, ack_wait 5 s), and a connection."""
    (tmp / "probe-migrations").mkdir(exist_ok=True)
    settings = Settings(
        org=ORG, nats_url=nats_url, database_url=database_url, max_deliver=3, ack_wait_s=5
    )
    host = ServiceHost(settings, [probe.plugin(tmp / "probe-migrations")])
    await host.start()
    nc = await nats.connect(nats_url)
    try:
        yield Rig(probe, nc.jetstream())
    finally:
        await nc.close()
        await host.stop()


def sqlite_url(tmp: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp}/db/{{service}}.db"


@pytest.mark.nats
async def test_a_service_unavailable_for_longer_than_the_retries_spends_no_delivery(
    nats_server: Any, tmp_path: Path
) -> None:
    # Four gate failures: the old way (nack, redeliver) dead-letters on the third delivery.
    probe = Probe(gate_failures=4)
    async with running(probe, nats_server.url, sqlite_url(tmp_path), tmp_path) as rig:
        event = plan_created()
        await rig.publish(event)
        await probe.until_handled(1)
        assert probe.handled == [event.id]
        assert await rig.redelivered() == 0  # waited in place, message kept alive
        assert await read_dead_letters(rig.js, ORG) == []


@pytest.mark.nats
async def test_a_connection_error_while_the_database_answers_is_an_ordinary_failure(
    nats_server: Any, tmp_path: Path
) -> None:
    # The handler says "refused", the database answers the probe: believed a few times, then
    # retried and dead-lettered like any failure (a message cannot hold its consumer for ever).
    probe = Probe(handler_error=ConnectionRefusedError(111, "refused"))
    async with running(probe, nats_server.url, sqlite_url(tmp_path), tmp_path) as rig:
        dead = asyncio.get_running_loop().create_future()

        async def on_dead(msg: Any) -> None:
            if not dead.done():
                dead.set_result(msg)

        nc = await nats.connect(nats_server.url)
        try:
            await nc.subscribe(f"kenett.{ORG}.dlq.>", cb=on_dead)
            await nc.flush()
            await rig.publish(plan_created())
            msg = await asyncio.wait_for(dead, 30)
        finally:
            await nc.close()
        assert msg.headers["Kenett-Dlq-Reason"].startswith(
            "gave up after 3 deliveries: ConnectionRefusedError"
        )
        assert probe.calls == 3 * 3  # three deliveries, each tried three times in place


@pytest.fixture
async def proxied_postgres(postgres_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    parts = urlsplit(postgres_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.restore()
    user = parts.netloc.rpartition("@")[0]
    try:
        yield proxy, urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{proxy.port}"))
    finally:
        await proxy.aclose()


@pytest.mark.postgres
async def test_the_database_cut_off_and_refused_is_classified_and_waited_for(
    proxied_postgres: tuple[TcpProxy, str],
) -> None:
    proxy, url = proxied_postgres
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
            await proxy.cut()  # mid-connection
            with pytest.raises(DBAPIError) as cut:
                await conn.exec_driver_sql("SELECT 1")
        assert is_connectivity_error(cut.value)
        with pytest.raises(ConnectionRefusedError) as refused:
            async with engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        assert is_connectivity_error(refused.value)
    finally:
        await engine.dispose()

    db = Database(url, "probe")
    waiter = DatabaseWaiter(db)
    try:
        assert not await waiter.probe()
        failed_at = time.monotonic()
        asyncio.get_running_loop().call_later(1.5, lambda: asyncio.ensure_future(proxy.restore()))
        assert await asyncio.wait_for(waiter.wait(failed_at), 30)  # it was away, and is back
        assert time.monotonic() - failed_at >= 1.4
        assert await waiter.probe()
        assert not await waiter.wait(time.monotonic())  # answers at once: it was not away
    finally:
        await db.dispose()


@pytest.mark.nats
@pytest.mark.postgres
async def test_events_arriving_while_the_database_is_away_wait_for_it_and_are_applied_once(
    nats_server: Any, proxied_postgres: tuple[TcpProxy, str], tmp_path: Path
) -> None:
    proxy, url = proxied_postgres
    probe = Probe()
    async with running(probe, nats_server.url, url, tmp_path) as rig:
        first = plan_created()
        await rig.publish(first)
        await probe.until_handled(1)
        await proxy.cut()
        events = [plan_created() for _ in range(5)]
        for event in events:
            await rig.publish(event)
        # Longer than ack_wait (5 s) and than the retries before a dead letter (0.2 + 1 s):
        await asyncio.sleep(7)  # the outage itself: a deliberate length of time
        assert probe.handled == [first.id]  # nothing was applied (or acked) without a database
        await proxy.restore()
        await probe.until_handled(6)
        assert sorted(map(str, probe.handled)) == sorted(str(e.id) for e in [first, *events])
        assert await rig.redelivered() == 0  # each waited in place, kept alive past ack_wait
        assert await read_dead_letters(rig.js, ORG) == []
