"""The unit of work: a state change, the events it causes, the inbox mark and the audit record
are committed together or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key
from sqlmodel import col
from sqlmodel import select as sqlmodel_select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import Clock
from shared.contracts.envelope import Actor, Envelope, Event
from shared.contracts.subjects import XORG_PREFIX

from .engine import Database
from .fast import FastStatement
from .kernel import AuditRecord, CommandReply, OutboxMessage, ProcessedMessage

T = TypeVar("T")

# The inbox check, built once (the unit of work runs it for every event a consumer takes).
_INBOX_CHECK = FastStatement(
    select(col(ProcessedMessage.consumer)).where(
        col(ProcessedMessage.consumer) == bindparam("consumer"),
        col(ProcessedMessage.message_id) == bindparam("message_id"),
    )
)
_MESSAGE_ID_TYPE = ProcessedMessage.__table__.c.message_id.type  # type: ignore[attr-defined]
# The inbox check of a group of n events (n up to a consumer's batch size), by n.
_INBOX_CHECKS: dict[int, FastStatement] = {}


def _inbox_check_of(n: int) -> FastStatement:
    found = _INBOX_CHECKS.get(n)
    if found is None:
        found = _INBOX_CHECKS[n] = FastStatement(
            select(col(ProcessedMessage.message_id)).where(
                col(ProcessedMessage.consumer) == bindparam("consumer"),
                col(ProcessedMessage.message_id).in_(
                    [bindparam(f"m{i}", type_=_MESSAGE_ID_TYPE) for i in range(n)]
                ),
            )
        )
    return found


# The kernel's inserts at commit, by table.
_KERNEL_INSERTS = {
    model.__table__: FastStatement(insert(model.__table__))  # type: ignore[union-attr]
    for model in (OutboxMessage, ProcessedMessage, AuditRecord, CommandReply)
}


# ``insert_if_absent``'s statements, by (table, dialect name).
_INSERT_IF_ABSENT: dict[tuple[Table, str], FastStatement] = {}

_STORED_REPLY = FastStatement(
    select(col(CommandReply.reply)).where(
        col(CommandReply.command) == bindparam("command"),
        col(CommandReply.request_id) == bindparam("request_id"),
    )
)


# ``UnitOfWork.flush``'s UPDATEs, by (table, changed columns).
_UPDATES: dict[tuple[Table, tuple[str, ...]], FastStatement] = {}


# ``UnitOfWork.flush``'s INSERTs, by table; and each table's place in foreign-key order.
_INSERTS: dict[Table, FastStatement] = {}
_TABLE_ORDER: dict[Table, int] = {}


def _insert_of(obj: Any) -> tuple[tuple[int, int], Any, FastStatement, dict[str, Any]] | None:
    """The INSERT of a new object's row, with its place in the flush order; or None when the
    ORM must flush it (several tables, a column without a value that a default or the
    database would fill in, so the object would need it back)."""
    state = sa_inspect(obj)
    mapper = state.mapper
    table = mapper.local_table
    if len(mapper.tables) != 1 or mapper.version_id_col is not None:
        return None
    values: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        if len(prop.columns) != 1:
            return None
        column = prop.columns[0]
        if prop.key in state.dict:
            values[column.key] = state.dict[prop.key]
        elif (
            column.default is not None
            or column.server_default is not None
            or column.primary_key
            or not column.nullable
        ):
            return None
        else:
            values[column.key] = None
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS[table] = FastStatement(insert(table))
    if table not in _TABLE_ORDER:
        for i, t in enumerate(table.metadata.sorted_tables):
            _TABLE_ORDER.setdefault(t, i)
    return (_TABLE_ORDER[table], state.insert_order or 0), obj, statement, values


@dataclass(frozen=True)
class _Load:
    """``UnitOfWork.get_locked``'s SELECT of a model's row by primary key."""

    statement: FastStatement
    keys: tuple[str, ...]
    """The primary key's parameter names, in the mapper's order."""
    names: tuple[str, ...]
    """The selected columns' attribute names."""


_LOADS: dict[Any, _Load | None] = {}


def _load_of(model: Any) -> _Load | None:
    """The SELECT of every column of ``model``'s row by primary key (None: a model the ORM
    loads: several tables, or an attribute of several columns)."""
    if model in _LOADS:
        return _LOADS[model]
    mapper = sa_inspect(model)
    load = None
    if len(mapper.tables) == 1 and all(len(p.columns) == 1 for p in mapper.column_attrs):
        keys = tuple(f"pk_{c.key}" for c in mapper.primary_key)
        load = _Load(
            FastStatement(
                select(*(p.columns[0] for p in mapper.column_attrs)).where(
                    *(c == bindparam(k) for c, k in zip(mapper.primary_key, keys, strict=True))
                )
            ),
            keys,
            tuple(p.key for p in mapper.column_attrs),
        )
    _LOADS[model] = load
    return load


def _update_of(obj: Any) -> tuple[Any, FastStatement | None, dict[str, Any]] | None:
    """The UPDATE that writes a loaded row's changed columns (None as statement: nothing
    changed), or None when the ORM must flush it (several tables, a version counter, an
    ``onupdate`` default, a changed primary key)."""
    state = sa_inspect(obj)
    mapper = state.mapper
    table = mapper.local_table
    if (
        state.identity is None
        or len(mapper.tables) != 1
        or mapper.version_id_col is not None
        or any(c.onupdate is not None or c.server_onupdate is not None for c in table.columns)
    ):
        return None
    changed: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        history = state.attrs[prop.key].history
        if not history.has_changes():
            continue
        if len(prop.columns) != 1 or prop.columns[0].primary_key:
            return None
        changed[prop.columns[0].key] = history.added[0] if history.added else None
    if not changed:
        return state, None, {}
    keys = tuple(sorted(changed))
    statement = _UPDATES.get((table, keys))
    if statement is None:
        statement = _UPDATES[(table, keys)] = FastStatement(
            update(table)
            .where(*(c == bindparam(f"pk_{c.key}") for c in mapper.primary_key))
            .values({k: bindparam(f"v_{k}") for k in keys})
        )
    params = {f"v_{k}": v for k, v in changed.items()}
    params.update(
        {f"pk_{c.key}": v for c, v in zip(mapper.primary_key, state.identity, strict=True)}
    )
    return state, statement, params


class UnitOfWork:
    """``async with UnitOfWork(...) as uow: ...; await uow.commit()``; rolls back otherwise."""

    def __init__(
        self,
        db: Database,
        *,
        org: str,
        clock: Clock,
        on_commit_with_events: Callable[[], None] | None = None,
        readonly: bool = False,
    ) -> None:
        self._db = db
        self._readonly = readonly
        self.org = org
        self.clock = clock
        self._on_events = on_commit_with_events
        self._session: AsyncSession | None = None
        self._conn: AsyncConnection | None = None
        self.emitted: list[Envelope] = []
        self._committed = False
        self._after_commit: list[Callable[[], None]] = []
        # Kernel rows (outbox, inbox mark, audit, stored reply) are written with one plain
        # INSERT per table at commit, not as ORM objects: they are never read back in the
        # transaction, and building a mapped object per row was a tenth of a consumer's time.
        self._kernel_rows: dict[Table, list[dict[str, Any]]] = {}

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside 'async with'")
        return self._session

    async def connection(self) -> AsyncConnection:
        """The transaction's connection, as ``session.connection()`` gives it; after the first
        call without another trip through SQLAlchemy's asyncio layer (about 40 µs each, and
        the hot paths ask for it once per statement)."""
        conn = self._conn
        if conn is None:
            conn = self._conn = await self.session.connection()
        return conn

    async def flush(self) -> None:
        """Write the session's pending changes now, if it has any (an empty flush still
        costs a trip through SQLAlchemy's asyncio layer).

        On SQLite, when the only changes are to loaded rows (no new or deleted objects), each
        changed row is written with one UPDATE of its changed columns straight on the driver
        (``shared.db.fast``) and marked clean, as the ORM's flush would leave it: a flush of
        one changed row cost about 370 µs, most of it the ORM's unit-of-work machinery
        (docs/benchmarks.md "pipeline", change 14). Anything else is the ORM's flush."""
        sync = self.session.sync_session
        if not (sync.new or sync.dirty or sync.deleted):
            return
        if self._db.is_sqlite and not sync.deleted:
            inserts = [_insert_of(obj) for obj in sync.new]
            updates = [_update_of(obj) for obj in sync.dirty]
            if all(i is not None for i in inserts) and all(u is not None for u in updates):
                conn = await self.connection()
                # New rows first, parents before children (tables in foreign-key order), each
                # table's in the order they were added, as the ORM orders them.
                inserts.sort(key=lambda i: i[0])  # type: ignore[index]
                for _, _obj, statement, values in inserts:  # type: ignore[misc]
                    await statement.run(conn, values)
                for state, statement, params in updates:  # type: ignore[misc]
                    if statement is not None and await statement.run(conn, params) != 1:
                        raise StaleDataError(
                            f"UPDATE of {state.mapper.local_table.name} matched no row"
                        )
                    state._commit_all(state.dict, sync.identity_map)
                for _, obj, _, _ in inserts:  # type: ignore[misc]
                    # Persistent as written: what a flush leaves of an inserted row.
                    sync.expunge(obj)
                    make_transient_to_detached(obj)
                    sync.add(obj)
                return
        await self.session.flush()

    async def __aenter__(self) -> UnitOfWork:
        session = (self._db.read_sessions if self._readonly else self._db.sessions)()
        try:
            await session.begin()
        except BaseException:
            await session.close()
            raise
        self._session = session
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        self._conn = None
        try:
            if not self._committed:
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    @property
    def committed(self) -> bool:
        """Whether this unit of work's transaction has committed (its after-commit callbacks
        may still have failed)."""
        return self._committed

    def _add_row(self, model: Any, **values: Any) -> None:
        self._kernel_rows.setdefault(model.__table__, []).append(values)

    async def commit(self) -> None:
        """Commit, then wake the outbox relay if events were written."""
        await self.flush()  # changed rows the fast way where it can (``flush``)
        if self._kernel_rows:
            conn = await self.connection()
            for table, rows in self._kernel_rows.items():
                await _KERNEL_INSERTS[table].run(conn, rows)
            self._kernel_rows.clear()
        self._conn = None
        await self.session.commit()
        self._committed = True
        if self.emitted and self._on_events is not None:
            self._on_events()
        for callback in self._after_commit:
            callback()

    async def rollback(self) -> None:
        """Give up this unit of work's changes now (it cannot be committed afterwards)."""
        self._kernel_rows.clear()
        self._conn = None
        await self.session.rollback()

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this unit of work has committed (never if it rolls back)."""
        self._after_commit.append(callback)

    def emit(
        self,
        event: Event,
        *,
        actor: Actor,
        case_id: uuid.UUID | None,
        causation: Envelope | None = None,
        correlation_id: uuid.UUID | None = None,
    ) -> Envelope:
        """Write an event to the outbox, in this transaction."""
        envelope = Envelope.wrap(
            event,
            org=self.org,
            occurred_at=self.clock.now(),
            actor=actor,
            case_id=case_id,
            causation=causation,
            correlation_id=correlation_id,
        )
        self._add_row(
            OutboxMessage,
            message_id=envelope.id,
            subject=envelope.subject,
            body=envelope.model_dump_json(),
            created_at=envelope.occurred_at,
            published_at=None,
        )
        self.emitted.append(envelope)
        return envelope

    def send_across(self, subject: str, body: bytes, message_id: uuid.UUID) -> None:
        """Write a signed cross-organisation message to the outbox, in this transaction: it is
        published to the organisation's outbound stream after commit, like an event."""
        if not subject.startswith(XORG_PREFIX):
            raise ValueError("not a cross-organisation subject")
        self._add_row(
            OutboxMessage,
            message_id=message_id,
            subject=subject,
            body=body.decode(),
            created_at=self.clock.now(),
            published_at=None,
        )
        if self._on_events is not None:
            self._after_commit.append(self._on_events)

    def audit(
        self,
        *,
        actor: Actor,
        action: str,
        case_id: uuid.UUID | None,
        outcome: str = "ok",
        detail: str | None = None,
    ) -> None:
        """Append an audit record (who, what, when, which case); never personal data in detail."""
        self._add_row(
            AuditRecord,
            at=self.clock.now(),
            org=self.org,
            actor_kind=actor.kind,
            actor_id=actor.id,
            action=action,
            case_id=case_id,
            outcome=outcome,
            detail=detail,
        )

    async def lock(self, name: str) -> None:
        """Serialise transactions that take the same named lock, until this one ends.

        PostgreSQL: a transaction-scoped advisory lock. SQLite: every write transaction already
        holds the database's write lock from BEGIN IMMEDIATE, so nothing more is needed.
        """
        if not self._db.is_sqlite:
            await self.session.exec(  # type: ignore[call-overload]
                text("SELECT pg_advisory_xact_lock(hashtext(:n))").bindparams(n=name)
            )

    async def insert_if_absent(self, model: Any, values: dict[str, Any]) -> bool:
        """``INSERT … ON CONFLICT DO NOTHING`` of one row (statement built once per table);
        whether the row was inserted (False: it was there already)."""
        conn = await self.connection()
        key = (model.__table__, conn.dialect.name)
        stmt = _INSERT_IF_ABSENT.get(key)
        if stmt is None:
            dialect_insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
            stmt = _INSERT_IF_ABSENT[key] = FastStatement(
                dialect_insert(model.__table__).on_conflict_do_nothing()
            )
        return await stmt.run(conn, values) == 1

    async def get_or_insert(
        self,
        model: type[T],
        key: Any,
        values: dict[str, Any],
        *,
        for_update: bool = True,
        insert_first: bool = True,
        as_written: bool = False,
    ) -> T:
        """The row with primary key ``key``, inserting ``values`` first if it is absent.

        Safe against a concurrent insert of the same row (projections are fed by several
        consumers and commands): the insert does nothing on conflict, then the row is read
        (``for_update``: locked for this transaction).
        - ``insert_first=False``: the locked read comes first, for callers that usually find
          the row; the insert only when it is absent;
        - ``as_written``: a row this call inserted joins the session as written, without
          reading it back (only for a model whose columns have no server-side defaults).
        """
        s = self.session
        if not insert_first:
            found = await self.get_locked(model, key, for_update=for_update)
            if found is not None:
                return found
        if await self.insert_if_absent(model, values) and as_written:
            row = model(**values)
            make_transient_to_detached(row)  # persistent as written
            s.add(row)
            return row
        found = await self.get_locked(model, key, for_update=for_update)
        assert found is not None
        return found

    async def get_locked(self, model: type[T], key: Any, *, for_update: bool = True) -> T | None:
        """``session.get(model, key, with_for_update=..., populate_existing=True)``: the row as
        the database has it now, locked for this transaction on PostgreSQL.

        On SQLite (where the transaction holds the database's write lock from BEGIN, so there
        is nothing to lock) a row the session does not hold yet is read with one SELECT on
        the driver and joins the session as loaded (docs/benchmarks.md "pipeline", change
        16); pending changes are flushed first, as the ORM's autoflush would."""
        sync = self.session.sync_session
        if self._db.is_sqlite and sync.identity_map.get(identity_key(model, key)) is None:
            load = _load_of(model)
            if load is not None:
                await self.flush()
                values = key if isinstance(key, tuple) else (key,)
                params = dict(zip(load.keys, values, strict=True))
                rows = await load.statement.fetch(await self.connection(), params)
                if not rows:
                    return None
                row = model(**dict(zip(load.names, rows[0], strict=True)))
                make_transient_to_detached(row)  # persistent, as loaded
                sync.add(row)
                return row
        found: T | None = await self.session.get(
            model, key, with_for_update=for_update, populate_existing=True
        )
        return found

    async def already_processed(self, consumer: str, message_id: uuid.UUID) -> bool:
        """Inbox check: has this consumer applied this message before?"""
        conn = await self.connection()
        found = await _INBOX_CHECK.fetch(conn, {"consumer": consumer, "message_id": message_id})
        return bool(found)

    async def processed_among(self, consumer: str, message_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Inbox check for a batch: which of these messages this consumer applied before."""
        if len(message_ids) == 1:
            done = await self.already_processed(consumer, message_ids[0])
            return set(message_ids) if done else set()
        conn = await self.connection()
        params: dict[str, Any] = {f"m{i}": m for i, m in enumerate(message_ids)}
        params["consumer"] = consumer
        found = await _inbox_check_of(len(message_ids)).fetch(conn, params)
        return {row[0] for row in found}

    def mark_processed(self, consumer: str, message_id: uuid.UUID) -> None:
        """Inbox mark, committed with the state change it belongs to."""
        self._add_row(
            ProcessedMessage,
            consumer=consumer,
            message_id=message_id,
            processed_at=self.clock.now(),
        )

    async def stored_reply(self, command: str, request_id: uuid.UUID) -> str | None:
        """The reply already given to this idempotency key, if any."""
        conn = await self.connection()
        found = await _STORED_REPLY.fetch(conn, {"command": command, "request_id": request_id})
        return str(found[0][0]) if found else None

    def store_reply(self, command: str, request_id: uuid.UUID, reply: str) -> None:
        """Remember the reply to an idempotency key."""
        self._add_row(
            CommandReply,
            command=command,
            request_id=request_id,
            reply=reply,
            created_at=self.clock.now(),
        )

    async def page(
        self, stmt: Any, where: Sequence[Any], order_by: Sequence[Any], *, offset: int, limit: int
    ) -> tuple[int, list[Any]]:
        """How many rows ``where`` holds in all, and one page of ``stmt`` under it in
        ``order_by``: how every paged list (``limit``/``offset`` in, ``total``/``next_offset``
        out, ``shared.contracts.commands.next_offset``) reads."""
        total = int((await self.session.exec(sqlmodel_select(func.count()).where(*where))).one())
        rows = await self.session.exec(
            stmt.where(*where).order_by(*order_by).offset(offset).limit(limit)
        )
        return total, list(rows)

    async def audit_trail(self, case_id: uuid.UUID) -> list[AuditRecord]:
        """Every audit record of a case, oldest first (the person may see who accessed what)."""
        rows = await self.session.exec(
            sqlmodel_select(AuditRecord)
            .where(col(AuditRecord.case_id) == case_id)
            .order_by(col(AuditRecord.seq))
        )
        return list(rows)
