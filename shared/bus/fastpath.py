"""Request/reply without FastStream's per-message machinery: plain nats-py queue
subscriptions, each request handled in a task of its own, at most ``concurrency`` at once.

Every command and query responder of kenett runs here (``shared.bus.handlers``), as does the
consent gate. FastStream's per-message path (parser, context, middlewares, the reply's own
publish) cost more than many a handler (py-spy, docs/benchmarks.md "pipeline", change 12);
the contract is the same: the request model in, a ``Reply`` out, one instance of the service
per request through its queue group.

Stopping is graceful: the subscriptions are drained (requests already delivered are still
handled) and the host waits for the answers in flight before the database goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import BaseModel, ValidationError

from shared.bus.deadletter import describe_error
from shared.contracts.commands import Query
from shared.contracts.replies import CommandRejected, Reply, field_errors
from shared.contracts.subjects import query_subject
from shared.logging import get_logger
from shared.service import ServiceContext

log = get_logger(__name__)

Answer = Callable[[bytes], Awaitable[bytes]]
"""The reply (JSON of a ``Reply``) to a raw request body; never raises."""


@dataclass(frozen=True)
class FastResponder:
    """A subject and what answers it."""

    subject: str
    answer: Answer
    concurrency: int


def responder(ctx: ServiceContext, subject: str, answer: Answer, concurrency: int) -> None:
    """Declare a responder; the host subscribes it when the service starts."""
    ctx.fast_responders.append(FastResponder(subject, answer, concurrency))


def fast_query_responder(
    ctx: ServiceContext,
    *,
    query: type[Query],
    handler: Callable[[Any], Awaitable[BaseModel]],
    concurrency: int = 32,
) -> None:
    """A query answered by ``handler(request)`` alone: no unit of work, not audited itself
    (the gate, whose callers audit what they then read)."""
    subject = query_subject(ctx.org, ctx.name, query.QUERY)  # type: ignore[attr-defined]
    action = f"{ctx.name}.{query.QUERY}"  # type: ignore[attr-defined]

    async def answer(body: bytes) -> bytes:
        try:
            request = query.model_validate_json(body)
        except ValidationError as exc:
            reply = Reply.failure(
                "validation_failed", f"{action}: invalid request", field_errors(exc)
            )
        else:
            try:
                reply = Reply.success(await handler(request))
            except CommandRejected as rej:
                reply = rej.reply()
            except Exception as exc:
                log.error("query failed", action=action, error=describe_error(exc))
                reply = Reply.failure(
                    "unavailable", f"{action} could not be completed now; try again"
                )
        return reply.model_dump_json().encode()

    responder(ctx, subject, answer, concurrency)
    ctx.catalog.append(("query", subject, query))


@dataclass
class FastSubscriptions:
    """What ``subscribe_fast`` started: the subscriptions and the requests in flight."""

    subs: list[Subscription]
    in_flight: set[asyncio.Task[None]]

    async def stop(self, timeout: float = 15.0) -> None:
        """Take no more requests, and let those delivered be answered (up to ``timeout``)."""
        for sub in self.subs:
            with contextlib.suppress(Exception):
                await sub.drain()  # type: ignore[no-untyped-call]
        self.subs.clear()
        if self.in_flight:
            _, late = await asyncio.wait(set(self.in_flight), timeout=timeout)
            for task in late:
                task.cancel()


async def subscribe_fast(ctx: ServiceContext) -> FastSubscriptions:
    """Subscribe every responder of ``ctx`` in the service's queue group."""
    started = FastSubscriptions([], set())
    in_flight = started.in_flight
    for fast in ctx.fast_responders:
        slots = asyncio.Semaphore(fast.concurrency)

        async def on_msg(
            msg: Msg, fast: FastResponder = fast, slots: asyncio.Semaphore = slots
        ) -> None:
            await slots.acquire()  # bounded: a flood waits in NATS, not in memory

            async def run() -> None:
                try:
                    reply = await fast.answer(msg.data)
                    if msg.reply:
                        await msg.respond(reply)
                except Exception as exc:  # the broker away as the answer goes: the asker retries
                    log.warning("reply not sent", subject=fast.subject, error=describe_error(exc))
                finally:
                    slots.release()

            task = asyncio.create_task(run())
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)

        started.subs.append(await ctx.nc.subscribe(fast.subject, queue=ctx.name, cb=on_msg))
    if started.subs:
        # The server has the subscriptions once it answers a ping: a request sent from any
        # connection after this returns finds its responder (without it, 159 of 200 requests
        # sent at once from another connection got "no responders").
        await ctx.nc.flush()
    return started
