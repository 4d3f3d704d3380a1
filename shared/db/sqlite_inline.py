"""SQLite for an asyncio process without a thread per connection.

``aiosqlite`` runs every statement on a worker thread: a queue hand-off there and a
``call_soon_threadsafe`` back, for statements that take SQLite tens of microseconds. In a busy
all-in-one process those hand-offs, and the GIL contention between the worker threads and the
event loop, cost more than SQLite itself (py-spy, docs/benchmarks.md "pipeline").

This dialect runs the standard library's ``sqlite3`` directly on the event loop's thread, under
SQLAlchemy's asyncio layer (which drives the synchronous ORM in a greenlet either way). It is
safe because nothing here ever waits on SQLite's own lock inside the process:

- **writers** share ONE connection (``pool_size=1``), so a second write transaction waits for
  the pool asynchronously instead of spinning in SQLite's busy handler on the loop thread;
- **readers** use a pool of their own, and in WAL mode a reader never waits for a writer.

Another *process* on the same file (two instances of a service on one SQLite file, which the
docs advise against; PostgreSQL is for scaling out) still works: SQLite's busy timeout applies,
and the loop waits out the other process's transaction.

**Durable commits** (``PRAGMA synchronous=FULL``, with ``KENETT_DURABILITY=power``)
make every COMMIT wait for the disk (``fsync`` of the write-ahead log, a few hundred
microseconds here), so that a commit that a handler acked after, or a user was told about,
survives a power cut or an operating-system crash, not only a crash of kenett. That one wait
runs on a worker thread (``_COMMITS``): the standard library's ``sqlite3`` lets go of the GIL
while SQLite syncs, so the loop goes on with other work meanwhile, and the connection is not
used by anything else until the commit returns (the writers' pool holds one connection, taken
until the commit is through). With ``normal``, a commit only writes the log; it is done on the
loop's thread, as every other statement.

The URL stays ``sqlite+aiosqlite://`` in settings; ``Database`` picks this driver for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine.url import URL
from sqlalchemy.util.concurrency import await_, in_greenlet

# Durable commits wait for the disk here, not on the loop's thread (module docstring). A few
# threads: one commit at a time per database (one writer connection), several databases.
_COMMITS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kenett-sqlite-commit")


async def _ready() -> None:
    """Completes at once: lets a statement count as "awaited" for SQLAlchemy's asyncio layer
    (``AsyncConnection.execute`` insists on it) without a trip through the event loop."""


async def _commit_off_loop(connection: sqlite3.Connection) -> None:
    """COMMIT on a worker thread; the caller's task waits for it without holding the loop.

    A cancellation while the disk syncs (a shutdown cancels sweeps, the relay, late handlers)
    must not hand the connection back while the thread still commits on it: SQLAlchemy would
    invalidate and close it, or the next writer would use it. So the cancellation waits here
    for the commit to end (blocking the loop for the rest of that one sync), then goes on. The
    commit may have succeeded: what was cancelled is not acked, and redelivery meets the inbox.
    """
    done = _COMMITS.submit(connection.commit)
    try:
        await asyncio.shield(asyncio.wrap_future(done))
    except BaseException:
        if not done.done():
            _wait_out(done)
        raise


def _wait_out(done: concurrent.futures.Future[None]) -> None:
    """Block until a commit that was cancelled on the loop has ended on its thread."""
    concurrent.futures.wait([done])


class _Cursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:
        """What ``AsyncConnection.execute`` calls on an asyncio driver's cursor: the rows are
        fetched already, nothing to release."""


class _Connection(sqlite3.Connection):
    durable = False
    """``PRAGMA synchronous=FULL`` on this connection: its commits wait for the disk."""

    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


class SQLiteDialect_inline(SQLiteDialect_pysqlite):
    """pysqlite, declared usable by ``create_async_engine`` with an asyncio-aware pool."""

    driver = "kenett_inline"
    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool

    def create_connect_args(self, url: URL) -> Any:
        args, kwargs = super().create_connect_args(url)
        # Connections are used only on the loop's thread, but SQLAlchemy's pool may close one
        # from the garbage collector's thread at exit.
        kwargs["check_same_thread"] = False
        kwargs["factory"] = _Connection
        return args, kwargs

    def do_commit(self, dbapi_connection: Any) -> None:
        # Under SQLAlchemy's asyncio layer (a greenlet): the loop goes on while the disk syncs.
        durable = getattr(dbapi_connection, "durable", False)
        if durable and dbapi_connection.in_transaction and in_greenlet():
            await_(_commit_off_loop(dbapi_connection))
            return
        dbapi_connection.commit()

    def do_execute(self, cursor: Any, statement: Any, parameters: Any, context: Any = None) -> None:
        await_(_ready())
        cursor.execute(statement, parameters)

    def do_executemany(
        self, cursor: Any, statement: Any, parameters: Any, context: Any = None
    ) -> None:
        await_(_ready())
        cursor.executemany(statement, parameters)

    def do_execute_no_params(self, cursor: Any, statement: Any, context: Any = None) -> None:
        await_(_ready())
        cursor.execute(statement)


registry.register("sqlite.kenett_inline", __name__, "SQLiteDialect_inline")
INLINE_DRIVER = "sqlite+kenett_inline"
