"""Kernel tables are pruned past their retention, and only past it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import MetaData, text

from shared.bus.outbox import INBOX_KEEP, OUTBOX_KEEP, prune
from shared.clock import FixedClock
from shared.db.engine import Database
from shared.db.kernel import CommandReply, OutboxMessage, ProcessedMessage, kernel_registry


async def test_published_outbox_and_old_inbox_rows_are_pruned(database_url: str, tmp_path) -> None:
    (tmp_path / "none").mkdir()
    db = Database(database_url, "housekeeping")
    await db.prepare([tmp_path / "none"], [kernel_registry.metadata, MetaData()])
    clock = FixedClock(datetime(2026, 11, 22, 12, tzinfo=UTC))
    now = clock.now()
    old_out, new_out = (
        now - OUTBOX_KEEP - timedelta(hours=1),
        now - OUTBOX_KEEP + timedelta(hours=1),
    )
    old_in = now - INBOX_KEEP - timedelta(hours=1)
    try:
        async with db.sessions() as s, s.begin():
            for published in (old_out, new_out, None):  # None: not yet sent, never pruned
                s.add(
                    OutboxMessage(
                        message_id=uuid.uuid4(),
                        subject="s",
                        body="{}",
                        created_at=old_out,
                        published_at=published,
                    )
                )
            for at in (old_in, now):
                s.add(ProcessedMessage(consumer="c", message_id=uuid.uuid4(), processed_at=at))
                s.add(CommandReply(command="c", request_id=uuid.uuid4(), reply="{}", created_at=at))
        removed = await prune(db, clock)
        assert removed == {"kernel_outbox": 1, "kernel_inbox": 1, "kernel_command_reply": 1}
        async with db.sessions() as s:
            for table, left in (
                ("kernel_outbox", 2),
                ("kernel_inbox", 1),
                ("kernel_command_reply", 1),
            ):
                assert (await s.exec(text(f"SELECT count(*) FROM {table}"))).one()[0] == left
            unsent = (
                await s.exec(text("SELECT count(*) FROM kernel_outbox WHERE published_at IS NULL"))
            ).one()[0]
        assert unsent == 1
        assert await prune(db, clock) == {
            "kernel_outbox": 0,
            "kernel_inbox": 0,
            "kernel_command_reply": 0,
        }
    finally:
        await db.dispose()
