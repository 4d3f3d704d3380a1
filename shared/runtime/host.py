"""The composition root: runs a set of service plugins in this process on one NATS."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
from collections.abc import Callable

from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext

from shared.bus.access_log import serve_access_log
from shared.bus.broker import make_broker
from shared.bus.fastpath import FastSubscriptions, subscribe_fast
from shared.bus.outbox import OutboxRelay
from shared.bus.pull import FAILING_AFTER, PullLoops, start_pulls
from shared.bus.status import serve_status
from shared.bus.streams import ensure_streams
from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.contracts.envelope import Envelope
from shared.contracts.subjects import EVENTS_STREAM
from shared.db.engine import Database
from shared.db.kernel import kernel_registry
from shared.logging import get_logger
from shared.natsconn import connect_service, safe_url
from shared.plugins import ServicePlugin
from shared.service import ServiceContext

log = get_logger(__name__)


class ServiceHost:
    """Starts services (migrations, consumers, relays) and stops them in reverse order."""

    def __init__(
        self,
        settings: Settings,
        plugins: list[ServicePlugin],
        clock: Clock | None = None,
        on_handled: Callable[[str, str, Envelope], None] | None = None,
    ) -> None:
        """``on_handled(service, consumer, envelope)`` hears of each event a consumer has
        committed and acked (tests await it instead of sleeping)."""
        if not settings.nats_url:
            raise ValueError("KENETT_NATS_URL is not set")
        self.settings = settings
        self.plugins = plugins
        self.clock = clock or SystemClock()
        self.on_handled = on_handled
        self.contexts: dict[str, ServiceContext] = {}
        self._nc: NatsClient | None = None
        self._broker: NatsBroker | None = None
        self._fast_subs: list[FastSubscriptions] = []
        self._pulls: PullLoops | None = None
        self.cancelled_at_stop = 0
        """Deliveries still in hand when the last stop gave up on them (redelivered later)."""
        self._status: Subscription | None = None

    @property
    def js(self) -> JetStreamContext:
        assert self._nc is not None
        return self._nc.jetstream()

    async def start(self) -> None:
        names = ",".join(p.name for p in self.plugins)
        log.info("connecting to NATS", url=safe_url(self.settings.nats_url))
        self._nc = await connect_service(self.settings.nats_url, f"kenett[{names}]")
        js = self._nc.jetstream()
        extra = tuple(s for p in self.plugins for s in p.streams)
        await ensure_streams(js, extra)
        broker = make_broker(self.settings)
        self._broker = broker  # set before start, so a failed start is still stopped
        url_template = self.settings.resolved_database_url()
        for plugin in self.plugins:
            db = Database(
                url_template,
                plugin.name,
                self.settings.database_schema_prefix,
                sqlite_synchronous="full" if self.settings.durability == "power" else "normal",
            )
            relay = OutboxRelay(db, js, self.clock, poll_interval=self.settings.relay_poll_s)
            ctx = ServiceContext(plugin.name, self.settings, db, self.clock, self._nc, js, relay)
            if self.on_handled is not None:
                ctx.on_handled.append(functools.partial(self.on_handled, plugin.name))
            self.contexts[plugin.name] = ctx  # registered first: stop() disposes it on failure
            await db.prepare([plugin.migrations], [kernel_registry.metadata, plugin.metadata])
            if plugin.prepare:
                await plugin.prepare(ctx)
            router = plugin.build_router(ctx)
            serve_access_log(router, ctx)  # every service answers for its own audit trail
            broker.include_router(router)
            for config in ctx.consumers:
                # Consumers are declared here, centrally, so their config follows the code.
                await js.add_consumer(EVENTS_STREAM, config=config)
            for stream, config in ctx.stream_consumers:
                await js.add_consumer(stream, config=config)
        for ctx in self.contexts.values():
            ctx.relay.start()
        for plugin in self.plugins:
            if plugin.on_start:
                await plugin.on_start(self.contexts[plugin.name])
        await broker.start()
        self._pulls = start_pulls(
            js, [c for ctx in self.contexts.values() for c in ctx.pull_consumers]
        )
        for ctx in self.contexts.values():
            self._fast_subs.append(await subscribe_fast(ctx))
        self._status = await serve_status(
            self._nc, self.settings.org, self.contexts, self._running_consumers, self.clock.now()
        )
        # Everything loaded so far (modules, models, routers) lives as long as the process:
        # move it out of the collector's sight, so a full collection scans only what requests
        # allocate (it cost ~80 ms pauses on a 180 KB plan read, docs/benchmarks.md).
        gc.collect()
        gc.freeze()
        log.info(
            "services started",
            services=names,
            org=self.settings.org,
            loop=type(asyncio.get_running_loop()).__module__.split(".")[0],
        )

    def _running_consumers(self, ctx: ServiceContext) -> tuple[int, dict[str, tuple[int, str]]]:
        """How many of the service's event consumers have a live fetch loop that fetches, and
        those whose fetches keep failing (``FAILING_AFTER`` in a row or more: alive, fetching
        nothing)."""
        if self._pulls is None:
            return 0, {}
        live = {t.get_name() for t in self._pulls.loops if not t.done()}
        failing = {
            c.durable: self._pulls.failing[c.durable]
            for c in ctx.pull_consumers
            if self._pulls.failing.get(c.durable, (0, ""))[0] >= FAILING_AFTER
        }
        running = sum(
            f"pull-{c.durable}" in live and c.durable not in failing for c in ctx.pull_consumers
        )
        return running, failing

    async def stop(self) -> None:
        if self._status is not None:  # no longer reported as running
            with contextlib.suppress(Exception):
                await self._status.unsubscribe()
            self._status = None
        # The events in hand first: no more fetches, and what was fetched is handled and
        # committed while the commands and queries it asks (the consent gate, above all) are
        # still answered here. Stopped the other way round, a handler that asked the gate of
        # this very process waited for an answer that never came, until the 15 s limit
        # cancelled it (every test's teardown with work in flight took 15 s).
        if self._pulls is not None:
            self.cancelled_at_stop = await self._pulls.stop()
            self._pulls = None
        # Then commands and queries: no new ones, and those in hand are answered (and
        # committed) while the database and the broker are still there.
        await asyncio.gather(*(fast.stop() for fast in self._fast_subs), return_exceptions=True)
        self._fast_subs.clear()
        if self._broker is not None:
            with contextlib.suppress(Exception):
                await self._broker.stop()
            self._broker = None
        for plugin in reversed(self.plugins):
            ctx = self.contexts.get(plugin.name)
            if ctx is None:
                continue
            if plugin.on_stop:
                with contextlib.suppress(Exception):
                    await plugin.on_stop(ctx)
            with contextlib.suppress(Exception):
                await ctx.relay.stop()
            with contextlib.suppress(Exception):
                await ctx.db.dispose()
        self.contexts.clear()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
            self._nc = None
        log.info("services stopped")

    async def __aenter__(self) -> ServiceHost:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
