"""nats-server restarted under load (file store, same directory, same port): the services
reconnect by themselves and nothing is lost or done twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.failure.conftest import SERVICES, Cluster, Driver, assert_nothing_lost_nothing_doubled

pytestmark = [pytest.mark.failure, pytest.mark.e2e, pytest.mark.nats, pytest.mark.slow]

MAX_CASES = 200
DOWN_S = 5.0
"""How long there is no broker at all: several of the services' reconnect attempts."""


async def test_r5_r9_r10_restarting_nats_under_load_loses_and_doubles_nothing(
    cluster: Cluster, driver: Driver, local_nats_server: Any
) -> None:
    services = await asyncio.to_thread(cluster.start, "all", SERVICES)
    await driver.register_coordinators(MAX_CASES)
    load = driver.load
    load.limit = MAX_CASES
    load.start()
    await load.until_cases(5)
    await driver.events.wait_until(driver.plans, 60)

    # SIGTERM: the server flushes its file store and exits; consumers, streams and what was
    # unacknowledged stay on disk. Meanwhile outboxes fill, fetches and acks fail, commands go
    # unanswered (the load sends them again with the same request_id).
    await asyncio.to_thread(local_nats_server.stop)
    at_outage = len(load.cases)
    await asyncio.sleep(DOWN_S)  # the outage itself: a deliberate length of time
    await asyncio.to_thread(local_nats_server.start)  # same store dir, same port

    await load.until_cases(at_outage + 10)  # commands are answered again
    await load.stop()
    await driver.catch_up()
    await driver.until_complete()
    await assert_nothing_lost_nothing_doubled(driver)
    assert services.proc is not None and services.proc.poll() is None  # no restart needed
    assert load.retries["intake"] + load.retries["consent"] > 0
