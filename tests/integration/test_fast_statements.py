"""``shared.db.fast.FastStatement``: a statement run straight on SQLite's driver writes and reads
exactly what SQLAlchemy would (UUIDs, timezone-aware datetimes, dates, enums, booleans, JSON,
NULLs), inside the unit of work's transaction; what it cannot do the same way goes through
SQLAlchemy, and on PostgreSQL everything does."""

from __future__ import annotations

import enum
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Integer,
    String,
    bindparam,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Field, SQLModel, col

from shared.clock import FixedClock
from shared.db.engine import Database
from shared.db.fast import FastStatement
from shared.db.kernel import kernel_registry
from shared.db.types import UTCDateTime, service_registry
from shared.db.uow import UnitOfWork

_registry = service_registry()


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


class Base(SQLModel, registry=_registry):
    pass


class Sample(Base, table=True):
    __tablename__ = "fasttest_sample"

    id: uuid.UUID = Field(primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)  # type: ignore[call-overload]
    on: date | None = None
    colour: Colour
    flag: bool
    label: str | None = None
    counter: int = Field(default=0, sa_column_kwargs={"default": 0})


class Counted(Base, table=True):
    """A column whose default is Python-side: the fast path hands such an insert to SQLAlchemy."""

    __tablename__ = "fasttest_counted"
    __table_args__ = ()

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    name: str = Field(sa_column=Column(String, nullable=False, default=lambda: "defaulted"))
    note: str | None = None


ROWS = [
    {
        "id": uuid.uuid4(),
        "at": datetime(2026, 12, 3, 21, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1))),
        "on": date(2027, 2, 28),
        "colour": Colour.RED,
        "flag": True,
        "label": "Ærlig og ålreit",
        "counter": 3,
    },
    {
        "id": uuid.uuid4(),
        "at": datetime(2026, 1, 1, tzinfo=UTC),
        "on": None,
        "colour": Colour.BLUE,
        "flag": False,
        "label": None,
        "counter": 0,
    },
]

INSERT = FastStatement(insert(Sample.__table__))  # type: ignore[attr-defined]
BY_ID = FastStatement(
    select(
        col(Sample.id),
        col(Sample.at),
        col(Sample.on),
        col(Sample.colour),
        col(Sample.flag),
        col(Sample.label),
        col(Sample.counter),
    ).where(col(Sample.id) == bindparam("id"))
)
BUMP = FastStatement(
    update(Sample.__table__)  # type: ignore[attr-defined]
    .where(col(Sample.id) == bindparam("k_id"))
    .values(counter=col(Sample.counter) + 1)
)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, "fasttest")
    await database.prepare([], [kernel_registry.metadata])
    async with database.engine.begin() as conn:
        await conn.run_sync(_registry.metadata.create_all)
    yield database
    await database.dispose()


def uow(db: Database) -> UnitOfWork:
    return UnitOfWork(db, org="test", clock=FixedClock(datetime(2026, 12, 3, 8, tzinfo=UTC)))


def _expected(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["id"],
        row["at"].astimezone(UTC),
        row["on"],
        row["colour"],
        row["flag"],
        row["label"],
        row["counter"],
    )


async def test_rows_written_fast_are_read_back_the_same_by_the_orm_and_by_core(
    db: Database,
) -> None:
    async with uow(db) as u:
        conn = await u.session.connection()
        # asyncpg's executemany does not say how many rows it wrote.
        assert await INSERT.run(conn, ROWS) == (2 if db.is_sqlite else -1)
        await u.commit()

    async with uow(db) as u:
        for row in ROWS:
            orm = await u.session.get(Sample, row["id"])
            assert orm is not None
            assert (orm.id, orm.at, orm.on, orm.colour, orm.flag, orm.label, orm.counter) == (
                _expected(row)
            )
            assert orm.at.tzinfo is not None  # timezone-aware, in UTC
            conn = await u.session.connection()
            fast = await BY_ID.fetch(conn, {"id": row["id"]})
            core = [tuple(r) for r in await conn.execute(BY_ID.statement, {"id": row["id"]})]
            assert fast == core == [_expected(row)]


async def test_an_update_counts_its_rows_and_a_reader_reads_alone(db: Database) -> None:
    async with uow(db) as u:
        conn = await u.session.connection()
        await INSERT.run(conn, ROWS[0])
        assert await BUMP.run(conn, {"k_id": ROWS[0]["id"]}) == 1
        assert await BUMP.run(conn, {"k_id": uuid.uuid4()}) == 0
        await u.commit()
    async with db.read_engine.connect() as conn:
        (row,) = await BY_ID.fetch(conn, {"id": ROWS[0]["id"]}, alone=True)
    assert row[-1] == ROWS[0]["counter"] + 1


async def test_nothing_written_fast_survives_a_rollback(db: Database) -> None:
    async with uow(db) as u:
        conn = await u.session.connection()
        await INSERT.run(conn, ROWS)
        await u.rollback()
    async with uow(db) as u:
        conn = await u.session.connection()
        assert await BY_ID.fetch(conn, {"id": ROWS[0]["id"]}) == []


async def test_a_duplicate_key_fails_as_sqlalchemy_integrity_error_without_the_values(
    db: Database,
) -> None:
    async with uow(db) as u:
        conn = await u.session.connection()
        await INSERT.run(conn, ROWS[0])
        await u.commit()
    # The group commit tells a lost race by SQLAlchemy's IntegrityError
    # (shared.bus.handlers.lost_race): the fast path raises the same class. Neither path quotes
    # the parameters, which may be personal data (the engines hide them).
    async with uow(db) as u:
        conn = await u.session.connection()
        with pytest.raises(IntegrityError) as raised:
            await INSERT.run(conn, ROWS[0])
    assert ROWS[0]["label"] not in str(raised.value)
    assert str(ROWS[0]["id"].hex) not in str(raised.value)
    async with uow(db) as u:
        conn = await u.session.connection()
        with pytest.raises(SQLAlchemyError, match=r"bind parameter 'id'"):
            await BY_ID.fetch(conn, {})


async def test_a_python_side_default_and_an_expanding_in_go_through_sqlalchemy(
    db: Database,
) -> None:
    defaulted = FastStatement(insert(Counted.__table__))  # type: ignore[attr-defined]
    expanding = FastStatement(
        select(func.count()).where(col(Sample.id).in_(bindparam("ids", expanding=True)))
    )
    async with uow(db) as u:
        conn = await u.session.connection()
        await INSERT.run(conn, ROWS)
        await defaulted.run(conn, {"note": "x"})
        assert await expanding.fetch(conn, {"ids": [r["id"] for r in ROWS]}) == [(2,)]
        await u.commit()
    async with uow(db) as u:
        conn = await u.session.connection()
        names = [r[0] for r in await conn.execute(select(col(Counted.name)))]
        assert names == ["defaulted"]


async def test_insert_if_absent_inserts_once(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("the fast path is SQLite's; PostgreSQL's insert is covered by the flows")
    stmt = FastStatement(sqlite_insert(Sample.__table__).on_conflict_do_nothing())  # type: ignore[attr-defined]
    async with uow(db) as u:
        conn = await u.session.connection()
        assert await stmt.run(conn, ROWS[0]) == 1
        assert await stmt.run(conn, ROWS[0]) == 0
        await u.commit()


async def test_on_sqlite_the_statement_bypasses_sqlalchemy_and_a_default_does_not(
    db: Database,
) -> None:
    """What the fast path is for: on SQLite no statement goes through SQLAlchemy's execution
    (its cursor events do not fire); an insert with a Python-side default does."""
    seen: list[str] = []

    def on_execute(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        async with uow(db) as u:
            conn = await u.session.connection()
            await INSERT.run(conn, ROWS)
            await BY_ID.fetch(conn, {"id": ROWS[0]["id"]})
            fast = len(seen)
            await FastStatement(insert(Counted.__table__)).run(conn, {"note": "x"})  # type: ignore[attr-defined]
            await u.commit()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", on_execute)
    assert fast == (0 if db.is_sqlite else 2)
    assert len(seen) == fast + 1


async def test_a_changed_row_is_written_by_one_update_and_left_clean(db: Database) -> None:
    """``UnitOfWork.flush`` (and commit): on SQLite a loaded row's changed columns go out as one
    UPDATE on the driver, not through the ORM's flush; the row reads back changed, the object
    is clean afterwards, and nothing else of the row is touched."""
    async with uow(db) as u:
        conn = await u.connection()
        await INSERT.run(conn, ROWS)
        await u.commit()
    seen: list[str] = []

    def on_execute(*args: Any) -> None:
        seen.append(args[2])

    later = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
    event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        async with uow(db) as u:
            row = await u.session.get(Sample, ROWS[0]["id"])
            assert row is not None
            loaded = len(seen)
            row.label, row.at, row.on = None, later, date(2027, 3, 1)
            row.flag = row.flag  # set to what it was: not a change
            await u.flush()
            assert not u.session.sync_session.dirty
            await u.commit()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", on_execute)
    # The UPDATE (and the commit's) went through SQLAlchemy's cursor only on PostgreSQL.
    assert len(seen) - loaded == (0 if db.is_sqlite else 1)
    async with uow(db) as u:
        conn = await u.connection()
        (got,) = await BY_ID.fetch(conn, {"id": ROWS[0]["id"]})
        other = await BY_ID.fetch(conn, {"id": ROWS[1]["id"]})
    assert got == (ROWS[0]["id"], later, date(2027, 3, 1), Colour.RED, True, None, 3)
    assert other == [_expected(ROWS[1])]


async def test_a_changed_row_that_is_gone_fails_as_the_orm_would(db: Database) -> None:
    async with uow(db) as u:
        conn = await u.connection()
        await INSERT.run(conn, ROWS[0])
        await u.commit()
    async with uow(db) as u:
        row = await u.session.get(Sample, ROWS[0]["id"])
        assert row is not None
        conn = await u.connection()
        await conn.execute(delete(Sample.__table__))  # type: ignore[attr-defined]
        row.label = "changed"
        with pytest.raises(StaleDataError):
            await u.commit()


async def test_new_rows_beside_changed_ones_go_through_the_orm_in_its_order(db: Database) -> None:
    async with uow(db) as u:
        conn = await u.connection()
        await INSERT.run(conn, ROWS[0])
        await u.commit()
    async with uow(db) as u:
        row = await u.session.get(Sample, ROWS[0]["id"])
        assert row is not None
        row.counter = 9
        u.session.add(Counted(note="ny"))
        await u.commit()
    async with uow(db) as u:
        conn = await u.connection()
        (got,) = await BY_ID.fetch(conn, {"id": ROWS[0]["id"]})
        names = [r[0] for r in await conn.execute(select(col(Counted.name)))]
    assert got[-1] == 9 and names == ["defaulted"]


async def test_new_rows_are_written_by_plain_inserts_and_become_persistent(db: Database) -> None:
    """A new object whose every column has a value is inserted on the driver and joins the
    session as written: found by ``get`` without a read, changed later by an UPDATE."""
    async with uow(db) as u:
        for row in ROWS:
            u.session.add(Sample(**row))
        await u.flush()
        assert not u.session.sync_session.new
        held = await u.session.get(Sample, ROWS[0]["id"])
        assert held is not None and held in u.session
        held.counter = 7
        await u.commit()
    async with uow(db) as u:
        conn = await u.connection()
        (first,) = await BY_ID.fetch(conn, {"id": ROWS[0]["id"]})
        second = await BY_ID.fetch(conn, {"id": ROWS[1]["id"]})
    assert first == (*_expected(ROWS[0])[:-1], 7)
    assert second == [_expected(ROWS[1])]


async def test_a_locked_read_loads_the_row_as_the_orm_would(db: Database) -> None:
    """``UnitOfWork.get_locked``: the row as stored (a row the session holds is read again),
    None for an absent key, and an unflushed new row is found, as autoflush would find it."""
    async with uow(db) as u:
        conn = await u.connection()
        await INSERT.run(conn, ROWS[0])
        await u.commit()
    async with uow(db) as u:
        got = await u.get_locked(Sample, ROWS[0]["id"])
        assert got is not None and got in u.session and not u.session.sync_session.dirty
        assert (got.id, got.at, got.on, got.colour, got.flag, got.label, got.counter) == (
            _expected(ROWS[0])
        )
        conn = await u.connection()
        await BUMP.run(conn, {"k_id": ROWS[0]["id"]})  # behind the session's back
        again = await u.get_locked(Sample, ROWS[0]["id"])
        assert again is got and again.counter == ROWS[0]["counter"] + 1
        assert await u.get_locked(Sample, uuid.uuid4()) is None
        u.session.add(Sample(**ROWS[1]))
        pending = await u.get_locked(Sample, ROWS[1]["id"])
        assert pending is not None and pending.label is None
        await u.commit()
