"""Hot statements straight on SQLite's driver, compiled once: the kernel's own rows.

Through SQLAlchemy's execution machinery one statement costs about 55 µs of Python on the
benchmark machine, against 3–6 µs for ``sqlite3`` itself, and every unit of work runs several
of the kernel's (the inbox check, the outbox, inbox, audit and stored-reply inserts):
docs/benchmarks.md "pipeline", change 10.

A ``FastStatement`` wraps a Core statement. On the in-process SQLite driver
(``shared.db.sqlite_inline``) it is compiled once, by SQLAlchemy, for the set of parameter
names it is given, and then run on the DBAPI connection of the caller's SQLAlchemy connection,
inside that connection's transaction, with SQLAlchemy's own bind and result processors (so a
UUID, a timezone-aware datetime or an enum is written and read exactly as the ORM writes and
reads it). Anything it cannot do the same way (a Python-side column default to evaluate, an
expanding ``IN``, another database) goes through SQLAlchemy as before: on PostgreSQL nothing
changes.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from .sqlite_inline import SQLiteDialect_inline

Params = dict[str, Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    compiled: SQLCompiler
    binds: tuple[Callable[[Any], Any] | None, ...]
    results: tuple[Callable[[Any], Any] | None, ...]
    row: Callable[..., tuple[Any, ...]]
    """Makes a row with the result columns' names as attributes (``fetch(named=True)``)."""
    direct: tuple[tuple[bool, Any, Callable[[Any], Any] | None], ...] | None
    """Per position: (True, the caller's key, its processor) or (False, the statement's own
    value, already processed, None); None when a name needs SQLAlchemy's own resolution."""


class FastStatement:
    """A Core statement run straight on SQLite's driver (module docstring)."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement: Any = statement
        self._compiled: dict[tuple[str, ...], _Compiled | None] = {}

    def _compile(self, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled | None:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)
        if (
            compiled.insert_prefetch
            or compiled.update_prefetch
            or compiled.literal_execute_params
            or compiled.post_compile_params
            or any(b.expanding or b.type._isnull for b in compiled.binds.values())
            or compiled.positiontup is None
        ):
            return None  # SQLAlchemy would do more than bind and run: let it
        processors = compiled._bind_processors
        names = tuple(compiled.positiontup)
        binds = tuple(processors.get(n) for n in names)
        results = tuple(
            entry.type._cached_result_processor(dialect, None) for entry in compiled._result_columns
        )
        # Each position's value straight from the caller's parameters (or the statement's own
        # literal), without SQLAlchemy's construct_params per row, where names are plain.
        own = compiled.construct_params({}, _check=False)
        direct: list[tuple[bool, Any, Callable[[Any], Any] | None]] | None = []
        for n, proc in zip(names, binds, strict=True):
            bind = compiled.binds.get(n)
            if n in keys:
                direct.append((True, n, proc))  # type: ignore[union-attr,arg-type]
            elif bind is not None and not bind.required and n in own:
                value = own[n]
                direct.append((False, value if proc is None else proc(value), None))  # type: ignore[union-attr,operator]
            else:
                direct = None  # an escaped or missing name: construct_params says what is wrong
                break
        return _Compiled(
            sql=compiled.string,
            names=names,
            compiled=compiled,
            binds=binds,  # type: ignore[arg-type]
            results=results,
            row=namedtuple("Row", [e.keyname for e in compiled._result_columns], rename=True),
            direct=None if direct is None else tuple(direct),
        )

    def _for(
        self, conn: AsyncConnection, keys: tuple[str, ...], alone: bool = False
    ) -> _Compiled | None:
        sync = conn.sync_connection
        if (
            not isinstance(conn.dialect, SQLiteDialect_inline)
            or sync is None
            # Outside a transaction SQLAlchemy would begin one first (the engine's begin
            # hook): let it, unless this is a read on its own (``fetch(alone=True)``).
            or not (alone or sync.in_transaction())
        ):
            return None
        try:
            return self._compiled[keys]
        except KeyError:
            found = self._compiled[keys] = self._compile(conn.dialect, keys)
            return found

    @staticmethod
    def _row(c: _Compiled, params: Params) -> tuple[Any, ...]:
        if c.direct is not None:
            row = []
            for is_param, key, proc in c.direct:
                if not is_param:
                    row.append(key)
                elif proc is None:
                    row.append(params[key])
                else:
                    row.append(proc(params[key]))
            return tuple(row)
        values = c.compiled.construct_params(params, _check=True)
        return tuple(
            values[n] if proc is None else proc(values[n])
            for n, proc in zip(c.names, c.binds, strict=True)
        )

    @staticmethod
    def _cursor(conn: AsyncConnection) -> Any:
        # In the connection's transaction (``BEGIN`` / ``BEGIN IMMEDIATE`` by the engine's
        # begin hook; ``_for`` checked that it has begun).
        sync = conn.sync_connection
        assert sync is not None
        return sync.connection.driver_connection.cursor()  # type: ignore[union-attr]

    async def fetch(
        self,
        conn: AsyncConnection,
        params: Params | None = None,
        *,
        alone: bool = False,
        named: bool = False,
    ) -> list[Any]:
        """The rows, as tuples, of a statement that returns rows. ``alone``: the only statement
        on a connection outside any transaction (a reader's one SELECT, which SQLite runs in
        an implicit transaction of its own). ``named``: each row also has its columns' names
        as attributes (``row.told``), as SQLAlchemy's rows have."""
        params = params or {}
        c = self._for(conn, tuple(sorted(params)), alone)
        if c is None:
            result = await conn.execute(self.statement, params)
            return list(result) if named else [tuple(r) for r in result]
        cur = self._cursor(conn)
        try:
            cur.execute(c.sql, self._row(c, params))
            rows = cur.fetchall()
        except sqlite3.Error as exc:
            raise _wrapped(c, exc) from exc
        finally:
            cur.close()
        procs = c.results
        if any(procs):
            rows = [
                tuple(v if p is None else p(v) for v, p in zip(row, procs, strict=True))
                for row in rows
            ]
        return [c.row(*row) for row in rows] if named else rows

    async def run(self, conn: AsyncConnection, params: Params | Sequence[Params]) -> int:
        """Run a statement that returns no rows, once or for each of several parameter sets;
        how many rows it changed."""
        sets: Sequence[Params] = [params] if isinstance(params, dict) else params
        keys = tuple(sorted(sets[0]))
        c = self._for(conn, keys)
        if c is None or any(tuple(sorted(p)) != keys for p in sets[1:]):
            result = await conn.execute(self.statement, params)
            return int(result.rowcount or 0)
        cur = self._cursor(conn)
        try:
            if len(sets) > 1:
                cur.executemany(c.sql, [self._row(c, p) for p in sets])
            else:
                cur.execute(c.sql, self._row(c, sets[0]))
            return int(cur.rowcount)
        except sqlite3.Error as exc:
            raise _wrapped(c, exc) from exc
        finally:
            cur.close()


def _wrapped(c: _Compiled, exc: sqlite3.Error) -> BaseException:
    """The driver's error as SQLAlchemy raises it (``IntegrityError``, ``OperationalError``
    ...), so that callers tell a lost race or an outage apart exactly as before; never with
    the parameters, which may be personal data."""
    return DBAPIError.instance(c.sql, None, exc, sqlite3.Error, hide_parameters=True)
