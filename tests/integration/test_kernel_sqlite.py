"""The kernel's SQLite: statements on the loop's thread, writers queued in the pool, kernel rows
(outbox, inbox mark, audit, stored reply) written at commit and only then."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from shared.clock import FixedClock
from shared.contracts.envelope import Actor
from shared.contracts.intake import CaseStatusChanged
from shared.db.engine import Database
from shared.db.kernel import kernel_registry
from shared.db.uow import UnitOfWork

ACTOR = Actor(kind="user", id="test")


@pytest.fixture
async def db(tmp_path: Path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/{{service}}.db", "kerneltest")
    await database.prepare([], [kernel_registry.metadata])
    yield database
    await database.dispose()


def uow(db: Database) -> UnitOfWork:
    return UnitOfWork(db, org="test", clock=FixedClock(datetime(2026, 11, 23, 8, tzinfo=UTC)))


def status_changed() -> CaseStatusChanged:
    return CaseStatusChanged(
        case_id=uuid.uuid4(), case_ref="2026-000001", previous="reported", status="active"
    )


async def count(db: Database, table: str) -> int:
    async with db.read_engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_fifty_concurrent_writers_all_commit_without_database_is_locked(
    db: Database,
) -> None:
    async def write(i: int) -> None:
        async with uow(db) as u:
            u.audit(actor=ACTOR, action=f"test.write{i}", case_id=uuid.uuid4())
            await asyncio.sleep(0)  # hand the loop to the others mid-transaction
            await u.commit()

    await asyncio.wait_for(asyncio.gather(*(write(i) for i in range(50))), 30)
    assert await count(db, "kernel_audit") == 50


async def test_a_read_only_unit_of_work_cannot_write(db: Database) -> None:
    async with UnitOfWork(
        db, org="test", clock=FixedClock(datetime(2026, 11, 23, 8, tzinfo=UTC)), readonly=True
    ) as u:
        with pytest.raises(OperationalError, match="readonly"):
            await u.session.exec(  # type: ignore[call-overload]
                text("INSERT INTO kernel_inbox VALUES ('c', 'x', '2026-01-01')")
            )


async def test_kernel_rows_are_written_at_commit_in_order_and_not_at_all_on_rollback(
    db: Database,
) -> None:
    message = uuid.uuid4()
    async with uow(db) as u:
        u.emit(status_changed(), actor=ACTOR, case_id=uuid.uuid4())
        u.mark_processed("c", message)
        # Not committed: rolled back by the context manager.
    assert await count(db, "kernel_outbox") == 0
    async with uow(db) as u:
        assert not await u.already_processed("c", message)

    async with uow(db) as u:
        first = u.emit(status_changed(), actor=ACTOR, case_id=uuid.uuid4())
        second = u.emit(status_changed(), actor=ACTOR, case_id=uuid.uuid4())
        u.mark_processed("c", message)
        u.store_reply("test.cmd", message, '{"ok": true}')
        await u.commit()
    async with uow(db) as u:
        assert await u.already_processed("c", message)
        assert await u.stored_reply("test.cmd", message) == '{"ok": true}'
    async with db.read_engine.connect() as conn:
        ids = (await conn.execute(text("SELECT message_id FROM kernel_outbox ORDER BY seq"))).all()
    assert [uuid.UUID(str(row[0])) for row in ids] == [first.id, second.id]


async def test_reader_and_transaction_give_their_connection_back_when_the_block_ends(
    db: Database,
) -> None:
    """``Database.reader``/``transaction``: the pool has the connection again as soon as the
    block ends, with no task in between (so a burst of queries reuses the pool's connections
    instead of opening new ones); a failed transaction is rolled back; a reader cannot write."""
    readers, writers = db.read_engine.sync_engine.pool, db.engine.sync_engine.pool
    async with db.reader() as conn:
        assert readers.checkedout() == 1  # type: ignore[attr-defined]
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    assert readers.checkedout() == 0  # type: ignore[attr-defined]
    opened: list[object] = []
    event.listen(db.read_engine.sync_engine, "connect", lambda c, r: opened.append(c))

    async def query() -> None:
        async with db.reader() as conn:
            await conn.execute(text("SELECT 1"))

    await asyncio.gather(*(query() for _ in range(50)))  # a burst: one at a time on the loop
    assert opened == []  # the one connection opened above served them all

    async with db.transaction() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        await conn.execute(text("INSERT INTO t VALUES (1)"))
    assert writers.checkedout() == 0  # type: ignore[attr-defined]

    async def fails() -> None:
        async with db.transaction() as conn:
            await conn.execute(text("INSERT INTO t VALUES (2)"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fails()
    assert writers.checkedout() == 0  # type: ignore[attr-defined]
    assert await count(db, "t") == 1

    async def writes() -> None:
        async with db.reader() as conn:
            await conn.execute(text("INSERT INTO t VALUES (3)"))

    with pytest.raises(OperationalError):
        await writes()
    assert readers.checkedout() == 0  # type: ignore[attr-defined]
