"""Event consumers' fetch loops (``shared.bus.pull``) on a real nats-server: a batch handled
concurrently, a fetch that brings nothing survived, a graceful stop that settles what is in
hand and leaves the connection free to drain at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.aio.msg import Msg
from nats.errors import DrainTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig
from structlog.testing import capture_logs

from shared.bus import pull
from shared.bus.pull import PullConsumer, start_pulls

pytestmark = pytest.mark.nats
STREAM, SUBJECT, DURABLE = "PULLTEST", "pulltest.x", "pulltest-x"


@pytest.fixture
async def js(nats_server: Any) -> AsyncIterator[Any]:
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    nc = await nats.connect(nats_server.url, drain_timeout=3, error_cb=on_error)
    js = nc.jetstream()
    js.connection_errors = errors
    await js.add_stream(StreamConfig(name=STREAM, subjects=[SUBJECT]))
    await js.add_consumer(
        STREAM,
        ConsumerConfig(durable_name=DURABLE, ack_policy=AckPolicy.EXPLICIT, ack_wait=30),
    )
    try:
        yield js
    finally:
        if not nc.is_closed:
            await nc.close()


class Held:
    """A handler that holds each message until the test lets it go, then acks it (and waits
    for the server to confirm)."""

    def __init__(self) -> None:
        self.entered: asyncio.Queue[bytes] = asyncio.Queue()
        self.release = asyncio.Event()
        self.acked: list[bytes] = []

    async def handle(self, msg: Msg) -> None:
        await self.entered.put(msg.data)
        await self.release.wait()
        await msg.ack_sync()  # the server has it: its consumer info shows it at once
        self.acked.append(msg.data)


async def _entered(held: Held, n: int) -> list[bytes]:
    return [await asyncio.wait_for(held.entered.get(), 10) for _ in range(n)]


async def test_a_batch_is_handled_at_once_and_the_stop_settles_it_first(js: Any) -> None:
    for i in range(3):
        await js.publish(SUBJECT, f"m{i}".encode())
    held = Held()
    loops = start_pulls(js, [PullConsumer(STREAM, DURABLE, held.handle, batch=8)])
    assert sorted(await _entered(held, 3)) == [b"m0", b"m1", b"m2"]  # all three in hand at once
    stopping = asyncio.create_task(loops.stop(timeout=10))
    await asyncio.sleep(0)  # the stop has begun: it fetches no more, and waits for the three
    assert not stopping.done() and len(loops.in_flight) == 3
    held.release.set()
    await asyncio.wait_for(stopping, 10)
    assert sorted(held.acked) == [b"m0", b"m1", b"m2"]
    info = await js.consumer_info(STREAM, DURABLE)
    assert info.num_ack_pending == 0 and info.num_pending == 0


async def test_a_loop_waiting_in_a_fetch_stops_at_once_and_the_connection_drains(
    js: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetches = 0
    third = asyncio.Event()
    real_fetch = js.PullSubscription.fetch

    async def fetch(self: Any, *args: Any, **kw: Any) -> Any:
        nonlocal fetches
        fetches += 1
        if fetches == 3:
            third.set()
        return await real_fetch(self, *args, **kw)

    monkeypatch.setattr(js.PullSubscription, "fetch", fetch)
    held = Held()
    subscriptions = set(js._nc._subs)
    loops = start_pulls(
        js, [PullConsumer(STREAM, DURABLE, held.handle, batch=4, fetch_timeout=0.2)]
    )
    await asyncio.wait_for(third.wait(), 10)  # two fetches have expired with nothing
    await asyncio.wait_for(loops.stop(timeout=10), 10)  # the third is cut short
    assert set(js._nc._subs) == subscriptions  # the loop's own is gone
    # Its subscription is gone: the drain does not wait (drain_timeout=3 s) for the expired
    # fetches' leftovers, as it did before the loop unsubscribed on its way out (30 s on every
    # service's stop).
    await js._nc.drain()
    assert not [e for e in js.connection_errors if isinstance(e, DrainTimeoutError)]


async def test_a_fetch_that_brings_nothing_does_not_end_the_loop(
    js: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nats-py's fetch can give an empty list (only status messages came): the loop once died of
    ``asyncio.wait([])`` there and the consumer silently stopped."""
    calls = 0
    real_fetch = js.PullSubscription.fetch

    async def fetch(self: Any, batch: int = 1, timeout: float | None = 5, **kw: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            return []
        return await real_fetch(self, batch, timeout, **kw)

    monkeypatch.setattr(js.PullSubscription, "fetch", fetch)
    held = Held()
    held.release.set()
    with capture_logs() as logs:
        loops = start_pulls(js, [PullConsumer(STREAM, DURABLE, held.handle, batch=4)])
        await js.publish(SUBJECT, b"after")
        assert await _entered(held, 1) == [b"after"]
        await loops.stop(timeout=5)
    assert calls >= 2
    assert [e["event"] for e in logs if e["log_level"] in ("warning", "error")] == []


async def test_a_loop_that_fails_unforeseen_is_started_again(
    js: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = pull._loop
    runs = 0

    async def failing_once(*args: Any) -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("unforeseen")
        await original(*args)

    monkeypatch.setattr(pull, "_loop", failing_once)
    monkeypatch.setattr(pull, "RETRY_S", (0.01,))
    held = Held()
    held.release.set()
    loops = start_pulls(js, [PullConsumer(STREAM, DURABLE, held.handle, batch=4)])
    await js.publish(SUBJECT, b"still consumed")
    assert await _entered(held, 1) == [b"still consumed"]
    assert runs == 2
    await loops.stop(timeout=5)


async def test_a_handler_that_raises_leaves_the_loop_fetching(js: Any) -> None:
    seen: asyncio.Queue[bytes] = asyncio.Queue()

    async def handle(msg: Msg) -> None:
        await seen.put(msg.data)
        if msg.data == b"bad":
            raise RuntimeError("the broker went away as it acked")
        await msg.ack()

    loops = start_pulls(js, [PullConsumer(STREAM, DURABLE, handle, batch=1)])
    await js.publish(SUBJECT, b"bad")
    await js.publish(SUBJECT, b"good")
    assert [await asyncio.wait_for(seen.get(), 10) for _ in range(2)] == [b"bad", b"good"]
    await loops.stop(timeout=5)
