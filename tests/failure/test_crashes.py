"""Each service SIGKILLed in turn under a steady load, and started again: nothing lost, nothing
done twice."""

from __future__ import annotations

import asyncio

import pytest

from tests.failure.conftest import SERVICES, Cluster, Driver, assert_nothing_lost_nothing_doubled

pytestmark = [pytest.mark.failure, pytest.mark.e2e, pytest.mark.nats, pytest.mark.slow]

MAX_CASES = 200  # far more than the run reaches; coordinators are registered for them


async def test_r5_r9_r10_killing_each_service_in_turn_under_load_loses_and_doubles_nothing(
    cluster: Cluster, driver: Driver
) -> None:
    await asyncio.to_thread(cluster.start_each)
    await driver.register_coordinators(MAX_CASES)
    load = driver.load
    load.limit = MAX_CASES
    load.start()
    await load.until_cases(5)
    await driver.events.wait_until(driver.plans, 60)  # cases go all the way through

    for name in SERVICES:
        # Mid-flight: the load keeps reporting and consenting; what the victim had fetched and
        # not acknowledged, or committed and not yet published, is in JetStream or its outbox.
        cluster.procs[name].kill()
        # While it is down (and starts up again) the load goes on; its commands to the dead
        # service get no answer and are sent again with the same request_id.
        await asyncio.to_thread(cluster.start, name, [name])
        await load.until_cases(len(load.cases) + 3)  # the load goes on through the new process

    await load.stop()
    await driver.until_complete()
    await assert_nothing_lost_nothing_doubled(driver)
    # The retries really happened: the dead intake and consent got commands they never answered.
    assert load.retries["intake"] > 0
    assert load.retries["consent"] > 0
