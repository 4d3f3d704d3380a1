"""A lean request/reply path for the hottest reads (the consent gate): a plain nats-py queue
subscription, handled concurrently, without FastStream's per-message dependency injection.

Same contract as ``query_responder`` (the request model in, ``Reply`` out, one instance per
request through the queue group), for reads that are not audited themselves.
"""

from __future__ import annotations

import asyncio
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


@dataclass(frozen=True)
class FastResponder:
    """A subject, its request model, and the handler that answers it."""

    subject: str
    model: type[Query]
    handler: Callable[[Any], Awaitable[BaseModel]]
    concurrency: int


def fast_query_responder(
    ctx: ServiceContext,
    *,
    query: type[Query],
    handler: Callable[[Any], Awaitable[BaseModel]],
    concurrency: int = 32,
) -> None:
    """Declare a fast responder; the host subscribes it when the service starts."""
    subject = query_subject(ctx.org, ctx.name, query.QUERY)  # type: ignore[attr-defined]
    ctx.fast_responders.append(FastResponder(subject, query, handler, concurrency))
    ctx.catalog.append(("query", subject, query))


async def _answer(responder: FastResponder, action: str, msg: Msg) -> None:
    try:
        request = responder.model.model_validate_json(msg.data)
    except ValidationError as exc:
        reply = Reply.failure("validation_failed", f"{action}: invalid request", field_errors(exc))
    else:
        try:
            reply = Reply.success(await responder.handler(request))
        except CommandRejected as rej:
            reply = rej.reply()
        except Exception as exc:
            log.error("query failed", action=action, error=describe_error(exc))
            reply = Reply.failure("unavailable", f"{action} could not be completed now; try again")
    if msg.reply:
        await msg.respond(reply.model_dump_json().encode())


async def subscribe_fast(ctx: ServiceContext) -> list[Subscription]:
    """Subscribe every fast responder of ``ctx`` in the service's queue group."""
    subs = []
    for responder in ctx.fast_responders:
        action = f"{ctx.name}.{responder.model.QUERY}"
        slots = asyncio.Semaphore(responder.concurrency)
        pending: set[asyncio.Task[None]] = set()

        async def on_msg(
            msg: Msg,
            responder: FastResponder = responder,
            action: str = action,
            slots: asyncio.Semaphore = slots,
            pending: set[asyncio.Task[None]] = pending,
        ) -> None:
            await slots.acquire()  # bounded: a flood waits in NATS, not in memory

            async def run() -> None:
                try:
                    await _answer(responder, action, msg)
                finally:
                    slots.release()

            task = asyncio.create_task(run())
            pending.add(task)
            task.add_done_callback(pending.discard)

        subs.append(await ctx.nc.subscribe(responder.subject, queue=ctx.name, cb=on_msg))
    return subs
