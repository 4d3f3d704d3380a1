"""PostgreSQL unreachable for a while under load (connections refused, open ones cut): handlers
wait for it instead of spending deliveries, nothing is acknowledged that was not committed, and
everything completes once it is back: no case lost, none done twice, nothing dead-lettered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.failure.conftest import SERVICES, Cluster, Driver, assert_nothing_lost_nothing_doubled
from tests.failure.proxy import TcpProxy

pytestmark = [
    pytest.mark.failure,
    pytest.mark.e2e,
    pytest.mark.nats,
    pytest.mark.slow,
    pytest.mark.postgres,
]

MAX_CASES = 200
OUTAGE_S = 25.0
"""Longer than the redelivery back-off before a dead letter (0.2 + 1 + 5 + 15 s for 5 tries)."""


@pytest.fixture
async def database_proxy(postgres_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    """A proxy in front of the test's PostgreSQL database, and the URL through it."""
    parts = urlsplit(postgres_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.restore()
    netloc = parts.netloc.rpartition("@")[0]
    through = urlunsplit(parts._replace(netloc=f"{netloc}@127.0.0.1:{proxy.port}"))
    try:
        yield proxy, through
    finally:
        await proxy.aclose()


def log_events(text: str) -> list[str]:
    events = []
    for line in text.splitlines():
        try:
            events.append(json.loads(line).get("event", ""))
        except ValueError:
            continue
    return events


async def test_r5_r9_r10_database_away_for_a_while_under_load_loses_and_doubles_nothing(
    cluster: Cluster, driver: Driver, database_proxy: tuple[TcpProxy, str]
) -> None:
    proxy, through_proxy = database_proxy
    cluster.database_url = through_proxy
    core = [s for s in SERVICES if s != "notifications"]
    await asyncio.to_thread(
        cluster.start_each_of, {"core": core, "notifications": ["notifications"]}
    )
    await driver.register_coordinators(MAX_CASES)
    load = driver.load
    load.limit = MAX_CASES
    load.start()
    await load.until_cases(5)
    await driver.events.wait_until(driver.plan_notices, 60)

    # Work is surely under way when the database goes: notifications is paused (SIGSTOP) while
    # cases get coordinators and plans, so their events wait for it in JetStream; it resumes
    # into a database that refuses it, with the consent gate unable to answer either.
    cluster.pause("notifications")
    await driver.events.wait_until(lambda: len(driver.plans() - driver.plan_notices()) >= 5, 60)
    await proxy.cut()  # refused from now on; connections in use break mid-statement
    cluster.resume("notifications")
    at_outage = len(load.cases)
    await asyncio.sleep(OUTAGE_S)  # the outage itself: a deliberate length of time
    # Commands were refused as unavailable all along: nothing is accepted without a database.
    assert len(load.cases) <= at_outage + load.workers
    await proxy.restore()

    await load.until_cases(at_outage + 10)
    await load.stop()
    await driver.until_complete()
    await assert_nothing_lost_nothing_doubled(driver)
    assert load.retries["intake"] + load.retries["consent"] > 0

    events = log_events(cluster.log("notifications"))
    # Its consumers waited for the database, and for the gate (once each in the log) ...
    assert "database unavailable, waiting" in events
    assert "database available again" in events
    assert "a service this consumer asks is unavailable, waiting" in events
    # ... and none gave a message up or dead-lettered it; no process died of the outage
    # (background loops: relays, sweeps, the dispatcher, only logged and tried again).
    for name in ("core", "notifications"):
        proc = cluster.procs[name].proc
        assert proc is not None and proc.poll() is None
        events = log_events(cluster.log(name))
        assert "dead-lettered" not in events
        assert "transient failure, redelivering" not in events
