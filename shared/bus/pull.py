"""Durable JetStream pull consumers without FastStream's per-message machinery: a fetch loop
on nats-py per consumer, each fetched message handled in a task of its own.

Every event consumer of kenett runs here (``shared.bus.handlers.event_consumer``). FastStream's
consume path (context scope, middlewares, decoder wrapper, a task group per batch) cost about a
tenth of the all-in-one process's CPU in the pipeline benchmark, more than several handlers
(py-spy, docs/benchmarks.md "pipeline", change 19). The contract is FastStream's
``PullSub(batch_size=...)`` with ``AckPolicy.MANUAL``: a batch is fetched, its messages are
handled concurrently (so a group commit sees them all), and the next fetch waits until every
one has its verdict. The handler acks, naks or dead-letters the message itself.

Stopping is graceful: no more fetches, and the messages in hand are handled (and committed)
before the database goes away; what is still running after ``timeout`` is cancelled, and
JetStream delivers it again after ``ack_wait``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext

from shared.bus.deadletter import describe_error
from shared.logging import get_logger

log = get_logger(__name__)

Handle = Callable[[Msg], Awaitable[None]]
"""Handles one delivery, acking or naking it; never raises (what it raises is logged)."""

FETCH_TIMEOUT_S = 5.0
# After a failed fetch (the broker away, the consumer not there yet): the next try's delay.
RETRY_S = (0.1, 0.5, 1.0, 2.0)
FAILING_AFTER = 3
"""Fetches failed in a row before ``kenett status`` calls a consumer not fetching (about 1.6 s
of retries: a broker restart's blip is not reported, a deleted consumer is)."""


@dataclass(frozen=True)
class PullConsumer:
    """A durable pull consumer (declared by the host) and what handles its messages."""

    stream: str
    durable: str
    handle: Handle
    batch: int
    fetch_timeout: float = FETCH_TIMEOUT_S


@dataclass
class PullLoops:
    """What ``start_pulls`` started: a fetch loop per consumer and the messages in hand."""

    loops: list[asyncio.Task[None]] = field(default_factory=list)
    in_flight: set[asyncio.Task[None]] = field(default_factory=set)
    fetching: set[asyncio.Task[None]] = field(default_factory=set)
    """The loops waiting in a fetch (nothing in hand): cancelled at once on stop."""
    failing: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Consumers whose fetches fail one after another (the consumer deleted, the broker away):
    durable name → (failures in a row, the last error's type). A loop that retries for ever
    is alive but fetches nothing; ``kenett status`` says so."""
    stopping: bool = False

    async def stop(self, timeout: float = 15.0) -> int:
        """Fetch no more, and let the messages in hand be handled (up to ``timeout``); how
        many deliveries were still in hand then and were cancelled (JetStream delivers them
        again after ``ack_wait``)."""
        self.stopping = True
        for task in list(self.fetching):
            task.cancel()
        cancelled = 0
        if self.loops:
            _, late = await asyncio.wait(self.loops, timeout=timeout)
            unfinished = [t for t in self.in_flight if not t.done()]
            cancelled = len(unfinished)
            for task in list(late) + unfinished:
                task.cancel()
            if late:
                await asyncio.wait(late)
            if cancelled:
                log.warning(
                    "stopped with deliveries in hand; they are delivered again",
                    deliveries=cancelled,
                    after_s=timeout,
                )
        self.loops.clear()
        return cancelled


async def _handled(consumer: PullConsumer, msg: Msg) -> None:
    try:
        await consumer.handle(msg)
    except Exception as exc:  # the handler's own failure paths failed (the broker away)
        log.warning("delivery not settled", consumer=consumer.durable, error=describe_error(exc))


def _fetched(consumer: PullConsumer, loops: PullLoops, failures: int) -> int:
    """A fetch worked: no longer failing (also after the loop was started again, when its own
    count began at nought). The failures in a row now: none."""
    if failures:
        log.info("fetching again", consumer=consumer.durable, after_failures=failures)
    loops.failing.pop(consumer.durable, None)
    return 0


async def _loop(js: JetStreamContext, consumer: PullConsumer, loops: PullLoops) -> None:
    me = asyncio.current_task()
    assert me is not None
    psub: JetStreamContext.PullSubscription | None = None
    failures = 0
    try:
        while not loops.stopping:
            loops.fetching.add(me)
            try:
                if psub is None:
                    psub = await js.pull_subscribe_bind(
                        durable=consumer.durable, stream=consumer.stream
                    )
                msgs = await psub.fetch(consumer.batch, timeout=consumer.fetch_timeout)
            except (NatsTimeout, TimeoutError):  # nats-py raises either for "nothing came"
                # The fetch worked: nothing new within its expiry.
                failures = _fetched(consumer, loops, failures)
                continue
            except Exception as exc:
                if failures == 0:
                    log.warning(
                        "fetch failed", consumer=consumer.durable, error=describe_error(exc)
                    )
                failures += 1
                loops.failing[consumer.durable] = (failures, type(exc).__name__)
                await asyncio.sleep(RETRY_S[min(failures, len(RETRY_S)) - 1])  # broker away
                continue
            finally:
                loops.fetching.discard(me)
            failures = _fetched(consumer, loops, failures)
            if not msgs:  # only status messages came (e.g. the request expired)
                continue
            tasks = [asyncio.create_task(_handled(consumer, msg)) for msg in msgs]
            loops.in_flight.update(tasks)
            try:
                await asyncio.wait(tasks)
            finally:
                loops.in_flight.difference_update(tasks)
    except asyncio.CancelledError:
        if not loops.stopping:
            raise
    finally:
        # Unsubscribed, or the connection's drain would wait for the fetch's leftovers (status
        # messages never taken off its queue) until its own timeout.
        if psub is not None:
            with contextlib.suppress(Exception):
                await psub.unsubscribe()


async def _supervised(js: JetStreamContext, consumer: PullConsumer, loops: PullLoops) -> None:
    """The loop, started again should anything unforeseen end it: a consumer that silently
    stops fetching would leave its events waiting in JetStream with nobody told."""
    restarts = 0
    while not loops.stopping:
        try:
            await _loop(js, consumer, loops)
        except Exception as exc:
            restarts += 1
            log.error(
                "consumer loop failed, starting it again",
                consumer=consumer.durable,
                error=describe_error(exc),
            )
            await asyncio.sleep(RETRY_S[min(restarts, len(RETRY_S)) - 1])


def start_pulls(js: JetStreamContext, consumers: list[PullConsumer]) -> PullLoops:
    """A fetch loop for each consumer (declared already: the host adds them first)."""
    loops = PullLoops()
    for consumer in consumers:
        loops.loops.append(
            asyncio.create_task(_supervised(js, consumer, loops), name=f"pull-{consumer.durable}")
        )
    return loops
