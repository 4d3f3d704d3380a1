"""The outbox relay: publishes committed events to JetStream with ``Nats-Msg-Id``, marks them sent.

Publishing twice is harmless (JetStream de-duplicates on the id within the duplicate window, and
consumers keep an inbox), so a crash between publish and mark loses nothing and duplicates nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from nats.js import JetStreamContext
from sqlalchemy import Integer, bindparam, delete, text, update
from sqlmodel import col, select

from shared.clock import Clock
from shared.contracts.subjects import EVENTS_STREAM, XORG_PREFIX
from shared.db.engine import Database
from shared.db.fast import FastStatement
from shared.db.kernel import CommandReply, OutboxMessage, ProcessedMessage
from shared.logging import get_logger

log = get_logger(__name__)

# A published outbox row is kept a week for inspection. An inbox mark (and a stored command
# reply) is needed only while its message can still be redelivered, i.e. while it is in the
# events stream (max age 30 days): kept 35 days.
OUTBOX_KEEP = timedelta(days=7)
INBOX_KEEP = timedelta(days=35)
PRUNE_EVERY_S = 3600.0


async def prune(db: Database, clock: Clock) -> dict[str, int]:
    """Delete kernel rows past their retention; returns how many rows each table lost."""
    now = clock.now()
    statements = {
        "kernel_outbox": delete(OutboxMessage).where(
            col(OutboxMessage.published_at) < now - OUTBOX_KEEP
        ),
        "kernel_inbox": delete(ProcessedMessage).where(
            col(ProcessedMessage.processed_at) < now - INBOX_KEEP
        ),
        "kernel_command_reply": delete(CommandReply).where(
            col(CommandReply.created_at) < now - INBOX_KEEP
        ),
    }
    removed = {}
    async with db.sessions() as session, session.begin():
        for table, stmt in statements.items():
            result = await session.exec(stmt)
            removed[table] = int(result.rowcount or 0)
    return removed


# The relay's read, built once; plain rows, no ORM objects (it runs after every commit). On
# SQLite it and the marking run straight on the driver (shared.db.fast).
_UNPUBLISHED = FastStatement(
    select(
        col(OutboxMessage.seq),
        col(OutboxMessage.message_id),
        col(OutboxMessage.subject),
        col(OutboxMessage.body),
    )
    .where(col(OutboxMessage.published_at).is_(None))
    .order_by(col(OutboxMessage.seq))
    .limit(bindparam("n", type_=Integer))
)
_MARK_ONE = FastStatement(
    update(OutboxMessage)
    .where(col(OutboxMessage.seq) == bindparam("k_seq"))
    .values(published_at=bindparam("at"))
)


class OutboxRelay:
    """One per service per process. Woken after each commit that wrote events; polls as a fallback
    for rows left by a crashed process or written by another instance."""

    def __init__(
        self,
        db: Database,
        js: JetStreamContext,
        clock: Clock,
        *,
        batch_size: int = 200,
        poll_interval: float = 1.0,
    ) -> None:
        self._db = db
        self._js = js
        self._clock = clock
        self._batch = batch_size
        self._poll = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.published = 0
        self.batches = 0
        """Batches published (each a read and a marking transaction)."""

    def wake(self) -> None:
        """Called after a commit that wrote outbox rows."""
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._db.service}")

    async def stop(self) -> None:
        if self._task is None:
            return
        # The flag, not only the cancellation: on Python 3.11 asyncio.wait_for can swallow a
        # cancel that arrives as the wake-up event fires, and the loop would run on for ever.
        self._stopping = True
        self._wake.set()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), timeout=15)
        self._task = None
        # Flush what was committed before stop; what remains is sent by the next start.
        with contextlib.suppress(Exception):
            await self.drain()

    async def _run(self) -> None:
        next_prune = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            self._wake.clear()
            if self._stopping:
                return
            try:
                while await self.drain() == self._batch:
                    pass
                if loop.time() >= next_prune:
                    next_prune = loop.time() + PRUNE_EVERY_S
                    await prune(self._db, self._clock)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker or the database is away; retry on next tick
                log.warning(
                    "outbox relay failed, will retry",
                    service=self._db.service,
                    error=type(exc).__name__,
                )

    async def drain(self) -> int:
        """Publish one batch of unpublished rows, oldest first; returns how many were sent.

        On PostgreSQL several instances of a service share the outbox: one drains at a time,
        chosen by a session advisory lock (released if its process dies), so rows are not
        published twice in parallel and the stream sees them in outbox order.
        """
        if self._db.is_sqlite:
            return await self._drain_batch()
        key = f"kenett-outbox:{self._db.schema}"
        async with self._db.engine.connect() as conn:
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": key})
            await conn.commit()
            if not got:
                return 0
            try:
                return await self._drain_batch()
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
                await conn.commit()

    async def _drain_batch(self) -> int:
        # Read in a short transaction; publish outside any transaction (a slow broker must not
        # hold a database lock); mark what was sent in a second short transaction.
        async with self._db.transaction() as conn:
            rows = [
                (int(seq or 0), message_id, str(subject), str(body))
                for seq, message_id, subject, body in await _UNPUBLISHED.fetch(
                    conn, {"n": self._batch}
                )
            ]
        if not rows:
            return 0
        sent: list[int] = []
        try:
            # One at a time, in order, stopping at the first failure: a later event never
            # reaches the stream before an earlier one that is still to be re-sent.
            for seq, message_id, subject, body in rows:
                await self._js.publish(
                    subject,
                    body.encode(),
                    # Cross-organisation messages go to the organisation's outbound stream.
                    stream=None if subject.startswith(XORG_PREFIX) else EVENTS_STREAM,
                    headers={"Nats-Msg-Id": str(message_id)},
                )
                sent.append(seq)
        finally:
            if sent:
                at = self._clock.now()
                async with self._db.transaction() as conn:
                    if self._db.is_sqlite:
                        await _MARK_ONE.run(conn, [{"k_seq": seq, "at": at} for seq in sent])
                    else:
                        await conn.execute(
                            update(OutboxMessage)
                            .where(col(OutboxMessage.seq).in_(sent))
                            .values(published_at=at)
                        )
                self.published += len(sent)
                self.batches += 1
        return len(sent)
