"""The outbox relay: committed rows published once, in order, with their de-duplication id,
and marked sent in the round that sent them; stop sends and marks what is left."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import pytest
from sqlalchemy import event, text

from shared.bus.outbox import OutboxRelay
from shared.bus.streams import ensure_streams
from shared.clock import FixedClock
from shared.contracts.subjects import EVENTS_STREAM
from shared.db.engine import Database
from shared.db.kernel import OutboxMessage, kernel_registry

pytestmark = pytest.mark.nats
CLOCK = FixedClock(datetime(2026, 12, 4, 8, tzinfo=UTC))


async def _add(db: Database, n: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(n)]
    async with db.sessions() as s, s.begin():
        for i, message_id in enumerate(ids):
            s.add(
                OutboxMessage(
                    message_id=message_id,
                    subject="kenett.testorg.evt.test.thing",
                    body=json.dumps({"n": i}),
                    created_at=CLOCK.now(),
                )
            )
    return ids


async def _unmarked(db: Database) -> int:
    async with db.reader() as conn:
        found = await conn.execute(
            text("SELECT count(*) FROM kernel_outbox WHERE published_at IS NULL")
        )
        return int(found.scalar_one())


async def test_rows_are_published_once_in_order_and_marked_sent(
    nats_server: Any, tmp_path: Path
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/{{service}}.db", "relaytest")
    await db.prepare([], [kernel_registry.metadata])
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        relay = OutboxRelay(db, js, CLOCK, batch_size=10)
        begun: list[object] = []
        event.listen(db.engine.sync_engine, "begin", lambda conn: begun.append(conn))

        first = await _add(db, 3)
        begun.clear()
        assert await relay.drain() == 3
        assert len(begun) == 2  # the read, and the marks after the publications
        assert await _unmarked(db) == 0

        second = await _add(db, 2)
        assert await relay.drain() == 2  # the first three are not sent again
        assert await _unmarked(db) == 0
        assert await relay.drain() == 0
        assert relay.published == 5

        third = await _add(db, 1)
        relay.start()
        relay.wake()
        await relay.stop()  # sends what is left and marks it, whoever sent it
        assert await _unmarked(db) == 0
        assert relay.published == 6

        stream = await js.stream_info(EVENTS_STREAM)
        assert stream.state.messages == 6
        sub = await js.pull_subscribe("kenett.testorg.evt.>", durable="relaytest")
        got = await sub.fetch(6, timeout=5)
        assert [m.headers["Nats-Msg-Id"] for m in got if m.headers] == [
            str(i) for i in first + second + third
        ]
        assert [json.loads(m.data)["n"] for m in got] == [0, 1, 2, 0, 1, 0]
    finally:
        await nc.close()
        await db.dispose()
