"""``kenett status`` and the processes' own account of themselves (operations: which services
run where, whether each reaches its database and publishes its events, consumer lag, dead
letters). A container's health check is ``kenett status --here --service NAME``."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event, text

from shared.bus.status import postgresql_synchronous_commit, service_health
from shared.contracts.status import InstanceStatus
from shared.db.engine import Database
from tests.conftest import System
from tests.helpers import kenett_cli, plain, report_need

pytestmark = [pytest.mark.nats]

SERVICES = ["assignment", "consent", "federation", "intake", "notifications", "planning"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_status_reports_every_service_of_every_process_and_the_consumers(
    system: System,
) -> None:
    await system.client.command("intake", report_need())
    (one,) = await system.client.status(wait=10, expect=1)  # returns as soon as it answered
    assert [s.name for s in one.services] == SERVICES
    assert all(s.database == "ok" for s in one.services)
    # Every event consumer of the process is fetching; intake has none.
    assert {s.name: s.consumers == s.consumers_declared for s in one.services} == dict.fromkeys(
        SERVICES, True
    )
    assert {s.name: s.consumers_declared for s in one.services}["intake"] == 0
    assert one.problems(60) == []
    assert one.durability == "crash"  # the default: SQLite synced at checkpoints

    done = await kenett_cli(system, "status", "--json", actor="drift")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["ok"] and printed["problems"] == [] and printed["expected"] == SERVICES
    names = {c["name"] for c in printed["streams"]["consumers"]}
    assert "notifications-case-opened" in names and "consent-case-opened" in names
    assert printed["streams"]["dead_letters"] == 0
    done = await kenett_cli(system, "status", columns=140, actor="drift")
    assert done.returncode == 0, done.stderr
    assert "Alt i orden" in done.stdout and "Hendelseskonsumenter" in done.stdout
    assert "Tåler" in done.stdout and "krasj" in done.stdout

    # A service that runs nowhere is a problem (exit 1); an unknown name a usage error.
    done = await kenett_cli(system, "status", "--org", "otherorg", "--wait", "0.5", actor="drift")
    assert done.returncode == 1
    assert "intake: no process answered" in done.stderr
    done = await kenett_cli(system, "status", "--service", "intak", actor="drift")
    assert done.returncode == 2 and "ikke en installert tjeneste: intak" in plain(done.stderr)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_consumer_whose_fetches_keep_failing_is_reported_not_counted_as_fetching(
    system: System,
) -> None:
    """A fetch loop that retries for ever is alive but fetches nothing (here: its consumer was
    deleted under it): status names it, and stops doing so when fetches work again."""
    ctx = system.host.contexts["planning"]
    consumer = ctx.pull_consumers[0]
    js = system.nc.jetstream()
    config = (await js.consumer_info(consumer.stream, consumer.durable)).config
    await js.delete_consumer(consumer.stream, consumer.durable)
    deadline = asyncio.get_running_loop().time() + 30
    while True:  # each ask is answered at once; the loop's retries take ~2 s to count
        (one,) = await system.client.status(wait=5, expect=1)
        planning = next(s for s in one.services if s.name == "planning")
        if consumer.durable in planning.consumers_failing:
            break
        assert asyncio.get_running_loop().time() < deadline, planning
        await asyncio.sleep(0.2)
    assert planning.consumers == planning.consumers_declared - 1
    (problem,) = one.problems(60)
    assert f"{consumer.durable}: fetch failing (" in problem and "are fetching" in problem

    await js.add_consumer(consumer.stream, config=config)
    await system.client.command("intake", report_need())  # something to fetch
    while True:
        (one,) = await system.client.status(wait=5, expect=1)
        planning = next(s for s in one.services if s.name == "planning")
        if not planning.consumers_failing:
            break
        assert asyncio.get_running_loop().time() < deadline + 30, planning
        await asyncio.sleep(0.2)
    assert planning.consumers == planning.consumers_declared and one.problems(60) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_database_that_refuses_connections_is_reported_with_why(
    system: System,
) -> None:
    ctx = system.host.contexts["planning"]
    with socket.socket() as s:  # a port nobody listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gone = Database(f"postgresql+asyncpg://kenett:hemmelig@127.0.0.1:{port}/x", "planning")
    try:
        health = await service_health(replace(ctx, db=gone), (len(ctx.pull_consumers), {}))
    finally:
        await gone.dispose()
    assert health.database.startswith("unavailable: ")
    assert "hemmelig" not in health.database  # why, never the credentials
    assert health.outbox_backlog is None

    assert InstanceStatus(
        instance="h:1",
        host="h",
        pid=1,
        version="0",
        org="o",
        started_at=ctx.clock.now(),
        services=[health],
    ).problems(60) == [f"planning on h:1: database {health.database}"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_on_postgresql_status_says_its_synchronous_commit_and_off_is_a_problem(
    system: System,
) -> None:
    """What an acknowledged commit survives on PostgreSQL is PostgreSQL's synchronous_commit:
    status reads it as the services' connections see it, and "off" (a crash of PostgreSQL can
    lose commits whose messages were acked) is reported as a problem."""
    (one,) = await system.client.status(wait=10, expect=1)
    assert one.durability == "postgresql"
    ctx = system.host.contexts["planning"]
    async with ctx.db.reader() as conn:
        server_says = (await conn.execute(text("SHOW synchronous_commit"))).scalar_one()
    assert one.synchronous_commit == server_says
    if server_says != "off":  # as PostgreSQL ships it ("on")
        assert one.problems(60) == []
    done = await kenett_cli(system, "status", columns=160, actor="drift")
    assert done.returncode == 0, done.stderr
    assert f"synchronous_commit={server_says}" in done.stdout

    # Connections on which it is off (set per role or database, say) are reported so.
    off = Database(ctx.db.url, "planning")

    @event.listens_for(off.engine.sync_engine, "connect")
    def _off(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.run_async(lambda c: c.execute("SET synchronous_commit = off"))

    try:
        said = await postgresql_synchronous_commit(replace(ctx, db=off))
    finally:
        await off.dispose()
    assert said == "off"
    assert one.model_copy(update={"synchronous_commit": "off"}).problems(60) == [
        f"{one.instance}: PostgreSQL's synchronous_commit is off; a crash of PostgreSQL can "
        "lose commits whose messages were already acknowledged (set it to on)"
    ]
