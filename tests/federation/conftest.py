"""A federation on loopback for each test: a hub and three leaf-node nats-servers (a hospital
and two municipalities), each organisation with its own JetStream domain, key, database and all
its services in this process."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest

from services.federation.handlers import Runtime, runtime
from shared.client import KenettClient
from shared.clock import FixedClock
from shared.config import Settings
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.federation import GetLink, SendNeedReport
from shared.plugins import select
from shared.runtime.federation import LocalFederation
from shared.runtime.host import ServiceHost
from shared.synthetic import synthetic_national_id
from shared.watch import EventWatcher
from tests.helpers import clock_start, oslo_today, register_coordinator

pytestmark = [pytest.mark.nats, pytest.mark.federation]

HOSPITAL, LUND, IVELAND = "sykehuset", "lund", "iveland"
HOSPITAL_COORDINATOR = "hk-1"
BOTH_DATABASES = pytest.mark.parametrize(
    "federation_database",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)


@dataclass
class Org:
    code: str
    settings: Settings
    host: ServiceHost
    nc: Any
    client: KenettClient
    events: EventWatcher
    clock: FixedClock
    handled: dict[str, EventWatcher]

    async def settled(self, service: str, env: Envelope) -> None:
        """Wait until ``service`` here has handled ``env``."""
        seen = self.handled[service]
        await seen.wait_until(lambda: any(e.id == env.id for e in seen.events), 15.0)

    async def event(self, type_: str, case_id: uuid.UUID | None = None, **payload: Any) -> Envelope:
        found = await self.events.wait_until(
            lambda: self.events.matching(type_, case_id, **payload), 15.0
        )
        return found[0]  # type: ignore[no-any-return]

    @property
    def rt(self) -> Runtime:
        return runtime(self.host.contexts["federation"])

    async def until(self, predicate: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
        """Wait until the predicate holds, re-checked whenever a message is applied here."""
        await self.rt.until(predicate, timeout)

    async def cmd(self, service: str, command: Any) -> dict[str, Any]:
        return await self.client.command(service, command)

    async def query(self, service: str, q: Any) -> dict[str, Any]:
        return await self.client.query(service, q)


@dataclass
class Federation:
    servers: LocalFederation
    orgs: dict[str, Org]

    def __getitem__(self, code: str) -> Org:
        return self.orgs[code]


def staff(org: str) -> Actor:
    return Actor(kind="user", id=f"ke-{org}")


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20261123)


@pytest.fixture
def national_id(rng: random.Random) -> str:
    return synthetic_national_id(rng)


async def start_org(
    servers: LocalFederation,
    code: str,
    kind: str,
    root: Path,
    database_url: str | None = None,
    **extra: Any,
) -> Org:
    settings = Settings(
        org=code,
        org_kind=kind,  # type: ignore[arg-type]
        org_name=next(o.name for o in servers.orgs if o.code == code),
        nats_url=servers.leaf_url(code),
        database_url=database_url or f"sqlite+aiosqlite:///{root}/{code}/db/{{service}}.db",
        # On PostgreSQL the organisations share a database, each in schemas of its own.
        database_schema_prefix=f"{code}_" if database_url else "",
        federation_file=servers.federation_file(code),
        max_deliver=3,
        relay_poll_s=0.5,
        ack_wait_s=5,
        notify_sweep_s=3600,
        federation_sweep_s=3600,
        **extra,
    )
    clock = FixedClock(clock_start())
    plugins = select(None)
    handled = {plugin.name: EventWatcher() for plugin in plugins}
    host = ServiceHost(
        settings,
        plugins,
        clock=clock,
        on_handled=lambda service, _consumer, env: handled[service].record(env),
    )
    await host.start()
    nc = await nats.connect(servers.leaf_url(code))
    events = EventWatcher()
    await nc.subscribe(f"kenett.{code}.evt.>", cb=events.on_msg)
    await nc.flush()
    client = KenettClient(nc, code, timeout=15)
    if kind == "hospital":
        # The hospital coordinator the tests name: health personnel, in the registry (R17).
        await client.command(
            "assignment",
            register_coordinator(
                HOSPITAL_COORDINATOR,
                actor=staff(code),
                health_personnel=True,
                profession="sykepleier",
            ),
        )
    return Org(code, settings, host, nc, client, events, clock, handled)


@pytest.fixture
def federation_database(request: pytest.FixtureRequest) -> str | None:
    """None: SQLite files per organisation. ``BOTH_DATABASES`` runs a test on PostgreSQL too,
    the organisations sharing one database, each in schemas of its own."""
    if getattr(request, "param", "sqlite") == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return None


@pytest.fixture
async def federation(
    tmp_path: Path, request: pytest.FixtureRequest, federation_database: str | None
) -> AsyncIterator[Federation]:
    marker = request.node.get_closest_marker("kenett_settings")
    extra = marker.kwargs if marker else {}
    database_url = federation_database
    servers = LocalFederation(tmp_path / "fed").start()
    orgs: dict[str, Org] = {}
    try:
        await servers.prepare_streams()
        for spec in servers.orgs:
            orgs[spec.code] = await start_org(
                servers, spec.code, spec.kind, tmp_path, database_url, **extra
            )
        yield Federation(servers, orgs)
    finally:
        for org in orgs.values():
            await org.nc.close()
            await org.host.stop()
        servers.stop()


async def link_view(org: Org, link_id: uuid.UUID, on: date | None = None) -> dict[str, Any]:
    return await org.query("federation", GetLink(actor=staff(org.code), link_id=link_id, on=on))


async def until_receipt(org: Org, link_id: uuid.UUID, message_id: str) -> dict[str, Any]:
    """Wait until the sender has the receipt of ``message_id``; returns the message's view."""
    found: dict[str, Any] = {}

    async def has_receipt() -> bool:
        view = await link_view(org, link_id)
        for m in view["messages"]:
            if m["message_id"] == message_id and m["receipt_at"]:
                found.update(m)
                return True
        return False

    await org.until(has_receipt)
    return found


async def report_from_hospital(
    federation: Federation, national_id: str, to: str = LUND, **extra: Any
) -> tuple[uuid.UUID, uuid.UUID]:
    """The hospital reports a need to ``to``; returns (link id, the municipality's case id)."""
    hospital = federation[HOSPITAL]
    fields: dict[str, Any] = {
        "needs": ["ip", "coordinator"],
        "department": "Medisinsk avdeling",
        "expected_discharge": oslo_today() + timedelta(days=10),
        "hospital_coordinator": "hk-1",
        "basis": "consent",
        **extra,
    }
    sent = await hospital.cmd(
        "federation",
        SendNeedReport(actor=staff(HOSPITAL), to=to, national_id=national_id, **fields),
    )
    link_id = uuid.UUID(sent["link_id"])
    receipt = await until_receipt(hospital, link_id, sent["message_id"])
    assert receipt["status"] == "accepted", receipt
    there = await link_view(federation[to], link_id)
    return link_id, uuid.UUID(there["case_id"])
