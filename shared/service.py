"""What a running service is handed: its settings, database, clock, and messaging."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from pydantic import BaseModel

from shared.bus.outbox import OutboxRelay
from shared.clock import Clock
from shared.config import Settings
from shared.contracts.envelope import Actor, Envelope
from shared.db.engine import Database
from shared.db.uow import UnitOfWork


@dataclass
class ServiceContext:
    """The composition root's gift to one service in one process."""

    name: str
    settings: Settings
    db: Database
    clock: Clock
    nc: NatsClient
    js: JetStreamContext
    relay: OutboxRelay
    consumers: list[ConsumerConfig] = field(default_factory=list)
    stream_consumers: list[tuple[str, ConsumerConfig]] = field(default_factory=list)
    """Consumers on streams other than the events stream: (stream, config)."""
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    """Background tasks a service starts in on_start; cancel them in on_stop."""
    fast_responders: list[Any] = field(default_factory=list)
    """Lean request/reply responders (shared.bus.fastpath), subscribed by the host."""
    pull_consumers: list[Any] = field(default_factory=list)
    """Event consumers' fetch loops (shared.bus.pull.PullConsumer), started by the host."""
    groups: list[Any] = field(default_factory=list)
    """Each event consumer's ``shared.bus.handlers.GroupCommit`` (how many groups, how many
    events), for metrics and the benchmarks."""
    on_handled: list[Callable[[str, Envelope], None]] = field(default_factory=list)
    """Observers told (consumer, envelope) after an event is committed and acked: in-process
    hooks for tests and metrics; they must not block or raise."""
    catalog: list[tuple[str, str, type[BaseModel]]] = field(default_factory=list)
    """What this service answers and consumes: (kind, subject, model), for the AsyncAPI docs."""

    @property
    def org(self) -> str:
        return self.settings.org

    @property
    def actor(self) -> Actor:
        """The service itself, as the actor of what it does on its own (e.g. an appointment)."""
        return Actor(kind="service", id=self.name)

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        """A new unit of work on this service's database; ``readonly`` takes no write lock."""
        return UnitOfWork(
            self.db,
            org=self.org,
            clock=self.clock,
            on_commit_with_events=self.relay.wake,
            readonly=readonly,
        )


async def stop_tasks(ctx: ServiceContext) -> None:
    """A plugin's ``on_stop`` for services whose only extra work is their background tasks."""
    for task in ctx.tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    ctx.tasks.clear()
