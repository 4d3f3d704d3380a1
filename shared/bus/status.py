"""Every process answers ``kenett.<org>.sys.status`` with what it runs and how each service
fares (``shared.contracts.status``): for ``kenett status`` and a container's health check.

The subscription has no queue group, so every instance of every service answers one ask; the
caller gathers the replies for a moment. The database is checked with the outbox's backlog,
which also says whether events are leaving the process.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Callable
from datetime import datetime

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from sqlalchemy import func, text
from sqlmodel import col, select

from shared import __version__
from shared.bus.deadletter import describe_error
from shared.bus.handlers import GroupCommit
from shared.contracts.status import InstanceStatus, ServiceHealth
from shared.contracts.subjects import status_subject
from shared.db.kernel import OutboxMessage
from shared.logging import get_logger
from shared.service import ServiceContext

log = get_logger(__name__)

DATABASE_TIMEOUT_S = 0.8
"""Below the shortest wait of ``kenett status`` (1 s): a slow database is reported as such,
not as a process that did not answer."""

_BACKLOG = select(func.count(), func.min(col(OutboxMessage.created_at))).where(
    col(OutboxMessage.published_at).is_(None)
)


Loops = tuple[int, dict[str, tuple[int, str]]]
"""Consumers fetching, and those whose fetches keep failing (``ServiceHost``)."""


def _group_figures(ctx: ServiceContext) -> dict[str, int]:
    """How many transactions the service's group commits took, and for how many events; how
    many events its outbox relay published, in how many batches."""
    figures = {
        "event_transactions": 0,
        "events_committed": 0,
        "command_transactions": 0,
        "events_published": ctx.relay.published,
        "outbox_batches": ctx.relay.batches,
    }
    for group in ctx.groups:
        if isinstance(group, GroupCommit):
            figures["event_transactions"] += group.groups
            figures["events_committed"] += group.applied
        elif group is not None:
            figures["command_transactions"] += group.groups
    return figures


async def service_health(ctx: ServiceContext, loops: Loops) -> ServiceHealth:
    """The service's database reached within a few seconds, its outbox's backlog, and its
    consumers' fetch loops."""
    consumers, failing_loops = loops
    failing = {name: f"{n}× {error}" for name, (n, error) in failing_loops.items()}
    committed = _group_figures(ctx)
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_S):
            async with ctx.db.reader() as conn:
                count, oldest = (await conn.execute(_BACKLOG)).one()
    except Exception as exc:  # refused, timed out, a schema gone: all "unavailable"
        return ServiceHealth(
            name=ctx.name,
            database=f"unavailable: {describe_error(exc)}",
            consumers=consumers,
            consumers_declared=len(ctx.pull_consumers),
            consumers_failing=failing,
            **committed,
        )
    age = None
    if oldest is not None:
        age = max(0.0, (ctx.clock.now() - oldest).total_seconds())
    return ServiceHealth(
        name=ctx.name,
        database="ok",
        outbox_backlog=int(count or 0),
        oldest_unpublished_s=age,
        consumers=consumers,
        consumers_declared=len(ctx.pull_consumers),
        consumers_failing=failing,
        **committed,
    )


async def postgresql_synchronous_commit(ctx: ServiceContext) -> str | None:
    """PostgreSQL's ``synchronous_commit`` as this process's connections see it (a server,
    database or role setting; kenett sets none of its own), or None if it cannot be read now
    (the database is then reported unavailable by ``service_health``)."""
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_S):
            async with ctx.db.reader() as conn:
                found = (await conn.execute(text("SHOW synchronous_commit"))).scalar_one()
    except Exception:
        return None
    return str(found)


async def _none() -> None:
    return None


async def serve_status(
    nc: NatsClient,
    org: str,
    contexts: dict[str, ServiceContext],
    running: Callable[[ServiceContext], Loops],
    started_at: datetime,
) -> Subscription:
    """Answer status asks for this process; ``running(ctx)`` tells of its fetch loops. An
    ask that names a host (``{"host": ...}``, a container's health check) is answered only by
    the processes on that host, so health checks do not grow with the number of containers."""
    host = socket.gethostname()
    pid = os.getpid()
    settings = next(iter(contexts.values())).settings if contexts else None
    durability = (
        "postgresql"
        if settings is not None and settings.resolved_database_url().startswith("postgresql")
        else str(settings.durability if settings is not None else "crash")
    )

    async def on_ask(msg: Msg) -> None:
        if not msg.reply:
            return
        try:
            asked = json.loads(msg.data) if msg.data else {}
        except ValueError:
            asked = {}
        if isinstance(asked, dict) and asked.get("host") not in (None, host):
            return  # a health check of another machine's process
        try:
            # Read alongside the services' health, not after it: each may take up to
            # DATABASE_TIMEOUT_S, and the two in a row would outlast the caller's wait.
            synchronous_commit, *services = await asyncio.gather(
                postgresql_synchronous_commit(next(iter(contexts.values())))
                if durability == "postgresql"
                else _none(),
                *(service_health(ctx, running(ctx)) for ctx in contexts.values()),
            )
            status = InstanceStatus(
                instance=f"{host}:{pid}",
                host=host,
                pid=pid,
                version=__version__,
                org=org,
                started_at=started_at,
                durability=durability,
                synchronous_commit=synchronous_commit,
                services=list(services),
            )
            await msg.respond(status.model_dump_json().encode())
        except Exception as exc:  # never let an ask take the subscription down
            log.warning("status not answered", error=describe_error(exc))

    return await nc.subscribe(status_subject(org), cb=on_ask)
