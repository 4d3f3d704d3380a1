"""Delivery guarantees on a real nats-server: de-duplication, the inbox, poison messages, and
dead letters after bounded retries. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import pytest
from faststream.nats import NatsRouter
from sqlalchemy import MetaData, text

from shared.bus.deadletter import H_CONSUMER, H_DELIVERIES, H_REASON, read_dead_letters
from shared.bus.handlers import event_consumer
from shared.client import KenettClient
from shared.config import Settings
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.planning import PlanCreated
from shared.contracts.subjects import EVENTS_STREAM
from shared.db.uow import UnitOfWork
from shared.plugins import ServicePlugin
from shared.runtime.host import ServiceHost
from shared.service import ServiceContext
from tests.helpers import until_settled

pytestmark = pytest.mark.nats
ORG = "testorg"
SUBJECT = PlanCreated.subject(ORG)
ACTOR = Actor(kind="service", id="planning")


@dataclass
class Probe:
    """A service whose handler records each call and writes one audit row per effect."""

    failures: dict[uuid.UUID, int] = field(default_factory=dict)  # event id -> times to fail
    calls: list[uuid.UUID] = field(default_factory=list)
    handled: asyncio.Queue[uuid.UUID] = field(default_factory=asyncio.Queue)
    batch_size: int = 1
    # While set, the first event's handler waits here (so the next ones pile up in the stream).
    hold: asyncio.Event | None = None
    held: asyncio.Event = field(default_factory=asyncio.Event)
    wants: Any = None
    twin: bool = False
    """A second consumer of the same events in the same service ("probe-twin")."""
    twin_calls: list[uuid.UUID] = field(default_factory=list)
    twin_handled: asyncio.Queue[uuid.UUID] = field(default_factory=asyncio.Queue)

    async def handle_twin(self, uow: UnitOfWork, env: Envelope, event: PlanCreated) -> None:
        self.twin_calls.append(env.id)
        uow.audit(actor=env.actor, action="probe.twin", case_id=env.case_id)
        uow.on_commit(lambda: self.twin_handled.put_nowait(env.id))

    async def handle(self, uow: UnitOfWork, env: Envelope, event: PlanCreated) -> None:
        self.calls.append(env.id)
        if self.hold is not None and not self.held.is_set():
            self.held.set()
            await self.hold.wait()
        if self.failures.get(env.id, 0) > 0:
            self.failures[env.id] -= 1
            raise RuntimeError("simulated outage")
        uow.audit(actor=env.actor, action="probe.effect", case_id=env.case_id)
        uow.on_commit(lambda: self.handled.put_nowait(env.id))

    def plugin(self, migrations: Path) -> ServicePlugin:
        def build(ctx: ServiceContext) -> NatsRouter:
            router = NatsRouter()
            # By default one message at a time: when the next one is handled, the previous is
            # done.
            consumers = [("probe", self.handle, self.wants)]
            if self.twin:
                consumers.append(("twin", self.handle_twin, None))
            for name, handler, wants in consumers:
                event_consumer(
                    router,
                    ctx,
                    name=name,
                    event=PlanCreated,
                    handler=handler,
                    batch_size=self.batch_size,
                    wants=wants,
                )
            return router

        return ServicePlugin(
            name="probe",
            description="test probe",
            build_router=build,
            migrations=migrations,
            metadata=MetaData(),
        )


def envelope(case_id: uuid.UUID | None = None) -> Envelope:
    case_id = case_id or uuid.uuid4()
    event = PlanCreated(
        plan_id=uuid.uuid4(),
        case_id=case_id,
        case_ref="2026-000001",
        coordinator_id=uuid.uuid4(),
    )
    return Envelope.wrap(
        event, org=ORG, occurred_at=datetime.now(UTC), actor=ACTOR, case_id=case_id
    )


@dataclass
class Rig:
    probe: Probe
    host: ServiceHost
    nc: Any
    js: Any

    async def publish(self, env: Envelope | bytes, msg_id: str | None = "auto") -> Any:
        data = env if isinstance(env, bytes) else env.model_dump_json().encode()
        headers = None
        if msg_id == "auto" and isinstance(env, Envelope):
            headers = {"Nats-Msg-Id": str(env.id)}
        elif msg_id not in (None, "auto"):
            headers = {"Nats-Msg-Id": msg_id}
        return await self.js.publish(SUBJECT, data, stream=EVENTS_STREAM, headers=headers)

    async def handled(self, event_id: uuid.UUID, timeout: float = 15) -> None:
        while True:
            got = await asyncio.wait_for(self.probe.handled.get(), timeout)
            if got == event_id:
                return

    async def first_dead_letter(self) -> asyncio.Future[Any]:
        """Resolves to the first message dead-lettered from now on."""
        dead: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        async def on_dead(msg: Any) -> None:
            if not dead.done():
                dead.set_result(msg)

        await self.nc.subscribe(f"kenett.{ORG}.dlq.>", cb=on_dead)
        return dead

    async def all_handled(self, event_ids: set[uuid.UUID], timeout: float = 15) -> None:
        waiting = set(event_ids)
        while waiting:
            waiting.discard(await asyncio.wait_for(self.probe.handled.get(), timeout))

    async def effects(self, case_id: uuid.UUID) -> int:
        async with self.host.contexts["probe"].uow() as uow:
            row = await uow.session.exec(
                text(
                    "SELECT count(*) FROM kernel_audit WHERE action = 'probe.effect' "
                    "AND case_id = :c"
                ).bindparams(c=case_id)
            )
            return int(row.one()[0])


async def status_of(rig: Rig) -> Any:
    (instance,) = await KenettClient(rig.nc, ORG).status(wait=5.0, expect=1)
    return instance


@pytest.fixture
def probe(request: pytest.FixtureRequest) -> Probe:
    """One message at a time; ``indirect`` parametrization "group" takes 16 at a time and
    holds the first one's handler until the rest have piled up (``_held_then_piled_up``)."""
    if getattr(request, "param", None) == "group":
        return Probe(batch_size=16, hold=asyncio.Event())
    if getattr(request, "param", None) == "twin":
        return Probe(batch_size=16, hold=asyncio.Event(), twin=True)
    if getattr(request, "param", None) == "wants":
        return Probe(wants=lambda e: e.case_ref != "ignored")
    return Probe()


@pytest.fixture
async def rig(
    nats_server: Any, database_url: str, tmp_path: Path, probe: Probe
) -> AsyncIterator[Rig]:
    (tmp_path / "probe-migrations").mkdir()
    settings = Settings(
        org=ORG, nats_url=nats_server.url, database_url=database_url, max_deliver=3, ack_wait_s=5
    )
    host = ServiceHost(settings, [probe.plugin(tmp_path / "probe-migrations")])
    await host.start()
    nc = await nats.connect(nats_server.url)
    try:
        yield Rig(probe, host, nc, nc.jetstream())
    finally:
        await nc.close()
        await host.stop()


async def test_the_same_event_delivered_twice_has_one_effect(rig: Rig) -> None:
    event = envelope()
    first = await rig.publish(event)
    # JetStream drops a re-publish with the same Nats-Msg-Id inside the duplicate window ...
    again = await rig.publish(event)
    assert not first.duplicate
    assert again.duplicate is True
    # ... and a copy that gets through anyway (no id, or after the window) meets the inbox.
    copy = await rig.publish(event, msg_id=None)
    assert copy.seq == first.seq + 1
    sentinel = envelope()
    await rig.publish(sentinel)
    await rig.handled(sentinel.id)

    info = await rig.js.consumer_info(EVENTS_STREAM, "probe-probe")
    assert info.delivered.stream_seq >= copy.seq + 1  # the copy was delivered to the consumer
    assert rig.probe.calls.count(event.id) == 1  # ... and the inbox kept the handler out
    assert await rig.effects(event.case_id) == 1  # type: ignore[arg-type]


async def test_a_poison_message_is_dead_lettered_and_the_consumer_goes_on(rig: Rig) -> None:
    bad_version = json.loads(envelope().model_dump_json())
    bad_version["version"] = 99
    bad_payload = json.loads(envelope().model_dump_json())
    del bad_payload["payload"]["coordinator_id"]
    await rig.publish(b"{not json at all", msg_id="poison-1")
    await rig.publish(json.dumps(bad_version).encode(), msg_id="poison-2")
    await rig.publish(json.dumps(bad_payload).encode(), msg_id="poison-3")
    good = envelope()
    await rig.publish(good)
    await rig.handled(good.id)
    assert await rig.effects(good.case_id) == 1  # type: ignore[arg-type]

    letters = await read_dead_letters(rig.js, ORG)
    reasons = [d.reason for d in letters]
    assert len(letters) == 3
    assert reasons[0].startswith("invalid envelope")
    assert "unsupported version 99 of planning.plan_created" in reasons[1]
    assert "payload.coordinator_id" not in reasons[2]
    assert "coordinator_id: Field required" in reasons[2]
    assert {d.consumer for d in letters} == {"probe-probe"}
    assert letters[0].data == b"{not json at all"  # the original is kept for inspection
    assert {d.subject for d in letters} == {SUBJECT}


async def test_a_transient_failure_is_retried_and_then_succeeds(rig: Rig) -> None:
    event = envelope()
    rig.probe.failures[event.id] = 2  # fails twice, third delivery (= max_deliver) works
    await rig.publish(event)
    await rig.handled(event.id)
    assert rig.probe.calls.count(event.id) == 3
    assert await rig.effects(event.case_id) == 1  # type: ignore[arg-type]
    assert await read_dead_letters(rig.js, ORG) == []


async def test_after_max_deliver_failures_the_event_is_dead_lettered_with_the_reason(
    rig: Rig,
) -> None:
    dead = await rig.first_dead_letter()
    event = envelope()
    rig.probe.failures[event.id] = 99
    await rig.publish(event)
    msg = await asyncio.wait_for(dead, 30)
    assert msg.headers[H_REASON] == "gave up after 3 deliveries: RuntimeError: simulated outage"
    assert msg.headers[H_DELIVERIES] == "3"
    assert msg.headers[H_CONSUMER] == "probe-probe"
    assert Envelope.model_validate_json(msg.data).id == event.id
    # The consumer is not blocked: the next event is processed.
    after = envelope()
    await rig.publish(after)
    await rig.handled(after.id)
    assert rig.probe.calls.count(event.id) == 3
    assert await rig.effects(event.case_id) == 0  # type: ignore[arg-type]


async def _held_then_piled_up(rig: Rig, events: list[Envelope]) -> None:
    """Publish ``events``; the first one's handler waits until all are in the stream."""
    hold = rig.probe.hold
    assert hold is not None
    await rig.publish(events[0])
    await asyncio.wait_for(rig.probe.held.wait(), 15)
    for event in events[1:]:
        await rig.publish(event)
    hold.set()


@pytest.mark.parametrize("probe", ["group"], indirect=True)
async def test_events_in_hand_share_one_transaction_and_each_is_applied_once(
    rig: Rig,
) -> None:
    events = [envelope() for _ in range(20)]
    await _held_then_piled_up(rig, events)
    await rig.all_handled({e.id for e in events})

    group = rig.host.contexts["probe"].groups[0]
    assert group.applied == 20
    assert group.groups < 20  # the 19 that piled up did not take a transaction each
    assert group.largest > 1
    for event in events:
        assert rig.probe.calls.count(event.id) == 1
        assert await rig.effects(event.case_id) == 1  # type: ignore[arg-type]


@pytest.mark.parametrize("probe", ["twin"], indirect=True)
async def test_two_consumers_of_one_service_each_apply_each_event_once_under_its_own_key(
    rig: Rig,
) -> None:
    """Two consumers of the same events in one service: each applies each event once, under
    its own inbox key (the same event id marked by one consumer does not keep the other out),
    and ``kenett status`` counts the transactions of both."""
    events = [envelope() for _ in range(10)]
    await _held_then_piled_up(rig, events)
    await rig.all_handled({e.id for e in events})
    twin_waiting = {e.id for e in events}
    while twin_waiting:
        twin_waiting.discard(await asyncio.wait_for(rig.probe.twin_handled.get(), 15))

    ctx = rig.host.contexts["probe"]
    assert sorted(g.name for g in ctx.groups) == ["probe-probe", "probe-twin"]
    assert sum(g.applied for g in ctx.groups) == 20
    (health,) = (await status_of(rig)).services
    assert health.events_committed == 20
    assert health.event_transactions == sum(g.groups for g in ctx.groups)
    assert health.event_transactions < 20  # the ones that piled up shared transactions
    assert health.events_published == 0  # the probe emits nothing
    for event in events:
        assert rig.probe.calls.count(event.id) == 1
        assert rig.probe.twin_calls.count(event.id) == 1
    async with ctx.uow() as uow:
        ids = [e.id for e in events]
        assert await uow.processed_among("probe-probe", ids) == set(ids)
        assert await uow.processed_among("probe-twin", ids) == set(ids)
        row = await uow.session.exec(
            text("SELECT count(*) FROM kernel_audit WHERE action = 'probe.twin'")
        )
        assert int(row.one()[0]) == 10
    for name in ("probe-probe", "probe-twin"):
        info = await until_settled(rig.js, EVENTS_STREAM, name)
        assert info.num_ack_pending == 0 and info.num_pending == 0


@pytest.mark.parametrize("probe", ["group"], indirect=True)
async def test_a_failing_event_fails_alone_and_the_rest_of_its_group_commits(
    rig: Rig,
) -> None:
    dead = await rig.first_dead_letter()
    events = [envelope() for _ in range(12)]
    bad = events[5]
    rig.probe.failures[bad.id] = 99
    await _held_then_piled_up(rig, events)
    msg = await asyncio.wait_for(dead, 30)

    # The failing event's handler ran once per delivery, in its group or alone ...
    assert msg.headers[H_REASON] == "gave up after 3 deliveries: RuntimeError: simulated outage"
    assert rig.probe.calls.count(bad.id) == 3
    assert await rig.effects(bad.case_id) == 0  # type: ignore[arg-type]
    # ... and every other event of its group was applied alone, exactly once.
    others = [e for e in events if e is not bad]
    await rig.all_handled({e.id for e in others})
    for event in others:
        assert await rig.effects(event.case_id) == 1  # type: ignore[arg-type]


@pytest.mark.parametrize("probe", ["wants"], indirect=True)
async def test_an_event_the_consumer_does_not_want_is_acked_without_a_transaction(
    rig: Rig,
) -> None:
    ignored = envelope()
    ignored.payload["case_ref"] = "ignored"
    wanted = envelope()
    await rig.publish(ignored)
    await rig.publish(wanted)
    await rig.handled(wanted.id)

    assert rig.probe.calls == [wanted.id]
    async with rig.host.contexts["probe"].uow() as uow:
        marks = await uow.processed_among("probe-probe", [ignored.id, wanted.id])
    assert marks == {wanted.id}  # no inbox mark: it had no effect to guard
    info = await until_settled(rig.js, EVENTS_STREAM, "probe-probe")
    assert info.num_ack_pending == 0 and info.num_pending == 0  # both acked
