"""Engines: SQLite (a file per service) by default, PostgreSQL (a schema per service) by URL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from .migrate import upgrade
from .sqlite_inline import INLINE_DRIVER

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

SQLITE_SYNCHRONOUS = ("full", "normal")
"""``normal``: a commit is in the write-ahead log when it returns, so it survives a crash of
kenett but not necessarily of the machine. ``full``: it is on disk (synced; the wait runs off
the loop, ``shared.db.sqlite_inline``), so it survives a power cut too: ``KENETT_DURABILITY``."""


class Database:
    """One service's database: engine, sessions, and its migrations."""

    def __init__(
        self,
        url_template: str,
        service: str,
        schema_prefix: str = "",
        *,
        sqlite_synchronous: str = "normal",
    ) -> None:
        if sqlite_synchronous not in SQLITE_SYNCHRONOUS:
            raise ValueError(
                f"sqlite_synchronous must be one of {', '.join(SQLITE_SYNCHRONOUS)}, "
                f"not {sqlite_synchronous!r}"
            )
        self.service = service
        self.sqlite_synchronous = sqlite_synchronous
        self.url = url_template.replace("{service}", service)
        self.is_sqlite = self.url.startswith("sqlite")
        self.schema: str | None = None
        if self.is_sqlite:
            self.engine = self._sqlite_engine()
            self.read_engine = self._sqlite_engine(readonly=True)
        else:
            schema = f"{schema_prefix}{service}".replace("-", "_")
            if not _SCHEMA.match(schema):
                raise ValueError(f"not a valid schema name: {schema!r}")
            self.schema = schema
            self.engine = create_async_engine(
                self.url,
                hide_parameters=True,  # an error never quotes a value (personal data)
                # Sized for one process's consumers and commands at full load, and at most 14
                # per service, so six services in one process stay under PostgreSQL's default
                # of 100 connections. Beyond the pool, connections are opened and closed per
                # use: at 5 that churn (connect, TLS probe, statements prepared again) was a
                # sixth of the process's time (py-spy, docs/benchmarks.md "pipeline").
                pool_size=10,
                max_overflow=4,
                pool_pre_ping=True,
                connect_args={
                    "server_settings": {"search_path": schema},
                    # A service runs a few hundred distinct statements; asyncpg's default
                    # cache of 100 prepared statements per connection made it prepare them
                    # again and again (py-spy, docs/benchmarks.md "pipeline").
                    "prepared_statement_cache_size": 1000,
                },
            )
            self.read_engine = self.engine.execution_options(kenett_readonly=True)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self.read_sessions = async_sessionmaker(
            self.read_engine,
            class_=AsyncSession,
            expire_on_commit=False,
        )

    def _sqlite_engine(self, foreign_keys: bool = True, readonly: bool = False) -> AsyncEngine:
        """SQLite on the loop's thread (``shared.db.sqlite_inline``): one connection for all
        writers, so they queue in the pool, never in SQLite's busy handler; a few for readers."""
        path = self.url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            INLINE_DRIVER + self.url[self.url.index(":///") :],
            hide_parameters=True,  # an error never quotes a value (personal data)
            connect_args={"timeout": 30},
            # Readers never wait for each other in WAL mode, so they never wait for the pool
            # either (a reader held across a slow request must not stall the outbox relay).
            pool_size=4 if readonly else 1,
            max_overflow=28 if readonly else 0,
            pool_timeout=120,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take the write lock at BEGIN: a deferred transaction that reads and then writes
            # can fail with "database is locked" when another connection wrote in between.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            durable = not readonly and self.sqlite_synchronous == "full"
            cur.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            dbapi_conn.durable = durable
            cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cur.execute("PRAGMA busy_timeout=30000")
            if readonly:
                cur.execute("PRAGMA query_only=ON")  # a write here is a bug: fail, never wait
            cur.close()

        begin = "BEGIN" if readonly else "BEGIN IMMEDIATE"

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Reads take no write lock; writes take it at BEGIN (see above). Straight on the
            # driver's connection: through SQLAlchemy's statement machinery this one line was
            # a third of an empty transaction's cost (docs/benchmarks.md "pipeline").
            conn.connection.driver_connection.execute(begin)

        return engine

    async def prepare(self, version_dirs: list[Path], metadata: list[Any]) -> None:
        """Create the schema if needed and run the kernel's and the service's migrations."""
        if self.schema:
            async with self.engine.begin() as conn:
                # Serialise concurrent start-ups of the same service (several processes).
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": self.schema}
                )
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
        if self.is_sqlite:
            await self._migrate_sqlite(version_dirs, metadata)
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": self.schema}
            )
            await conn.run_sync(upgrade, version_dirs, metadata)

    async def _migrate_sqlite(self, version_dirs: list[Path], metadata: list[Any]) -> None:
        # Alembic changes a SQLite table by rebuilding it (copy, drop, rename); with foreign
        # keys on, dropping a table that other rows refer to fails. So migrations run with them
        # off, and the result is checked before the transaction commits.
        engine = self._sqlite_engine(foreign_keys=False)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(upgrade, version_dirs, metadata)
                broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    tables = sorted({str(row[0]) for row in broken})
                    raise RuntimeError(
                        f"migration of {self.service} left broken references in {tables}"
                    )
        finally:
            await engine.dispose()

    def reader(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A read-only connection for a few statements outside any transaction."""
        return self._returned_at_once(self.read_engine, begin=False)

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """``engine.begin()``: a write transaction, committed when the block ends (rolled back
        on an error)."""
        return self._returned_at_once(self.engine, begin=True)

    @asynccontextmanager
    async def _returned_at_once(
        self, engine: AsyncEngine, *, begin: bool
    ) -> AsyncIterator[AsyncConnection]:
        """On SQLite the connection goes back to the pool as soon as the block ends. ``async
        with engine.connect()`` closes in a task of its own (SQLAlchemy shields the close from
        cancellation), so under load the next query found the pool empty and opened a
        connection, PRAGMAs and all, that was closed again on return: 272 connections for
        1,400 cases in the pipeline benchmark (docs/benchmarks.md "pipeline", change 17); the
        one writer connection came back a turn of the loop late. Here the close cannot be
        cancelled halfway: on the inline driver it never waits. Elsewhere SQLAlchemy's own."""
        if not self.is_sqlite:
            async with engine.begin() if begin else engine.connect() as shielded:
                yield shielded
            return
        conn = await engine.connect()
        try:
            if begin:
                async with conn.begin():
                    yield conn
            else:
                yield conn
        finally:
            await conn.close()

    async def dispose(self) -> None:
        """Close all connections."""
        await self.engine.dispose()
        if self.read_engine is not self.engine and self.is_sqlite:
            await self.read_engine.dispose()
