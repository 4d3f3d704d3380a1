"""Group commit of commands (``shared.bus.handlers.CommandGroup``): commands in hand at once
share one unit of work, yet each gets its own reply, audit record and idempotency key, and a
refusal or failure of one costs the others nothing but a retry alone. SQLite and PostgreSQL.

The commands are intake's report-need, run through the same processing as over NATS.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from sqlalchemy import text

from services.intake.handlers.reports import make_report_need
from services.intake.store import registry
from shared.bus.handlers import COMMAND_WORKERS, CommandProcessor
from shared.clock import SystemClock
from shared.config import Settings
from shared.contracts.intake import ReportNeed
from shared.contracts.replies import CommandRejected
from shared.db.engine import Database
from shared.db.kernel import kernel_registry
from shared.db.uow import UnitOfWork
from shared.plugins import discover
from shared.service import ServiceContext
from shared.synthetic import synthetic_national_id


class _NoRelay:
    def wake(self) -> None:
        return None


@pytest.fixture
async def ctx(database_url: str) -> AsyncIterator[ServiceContext]:
    db = Database(database_url, "intake")
    await db.prepare(
        [discover()["intake"].plugin.migrations], [kernel_registry.metadata, registry.metadata]
    )
    yield ServiceContext(
        "intake",
        Settings(org="testorg"),
        db,
        SystemClock(),
        cast(Any, None),
        cast(Any, None),
        cast(Any, _NoRelay()),
    )
    await db.dispose()


def body(seed: int, request_id: uuid.UUID | None = None) -> bytes:
    sent: dict[str, Any] = {
        "actor": {"kind": "user", "id": "saksbehandler-1"},
        "national_id": synthetic_national_id(random.Random(seed)),
        "reporter": {"kind": "employee", "unit": "Hjemmetjenesten"},
        "needs": ["ip"],
        "services": ["hjemmesykepleie"],
        "form": "oral",
    }
    if request_id is not None:
        sent["request_id"] = str(request_id)
    return json.dumps(sent).encode()


async def count(ctx: ServiceContext, sql: str) -> int:
    async with ctx.db.sessions() as s:
        return int((await s.exec(text(sql))).one()[0])  # type: ignore[call-overload]


async def test_commands_in_hand_share_a_transaction_and_each_keeps_its_reply_and_audit(
    ctx: ServiceContext,
) -> None:
    processor = CommandProcessor(ctx, ReportNeed, make_report_need(ctx), grouped=True)
    n = 2 * COMMAND_WORKERS + 3
    replies = await asyncio.gather(*(processor.process(body(seed)) for seed in range(n)))

    assert all(r.ok for r in replies), [r.error for r in replies if not r.ok]
    case_ids = {r.result["case_id"] for r in replies if r.result}
    assert len(case_ids) == n  # each its own case and reply
    group = processor.group
    assert group is not None
    assert group.applied == n
    assert group.groups < n  # they did not take a transaction each
    assert group.largest > 1
    assert await count(ctx, "SELECT count(*) FROM intake_case") == n
    assert await count(ctx, "SELECT count(*) FROM kernel_outbox") == n
    assert (
        await count(
            ctx,
            "SELECT count(*) FROM kernel_audit WHERE action = 'intake.report_need' "
            "AND outcome = 'ok'",
        )
        == n
    )


async def test_a_refused_command_is_refused_alone_and_the_rest_of_its_group_commits(
    ctx: ServiceContext,
) -> None:
    report_need = make_report_need(ctx)
    refused_key = uuid.uuid4()
    calls: list[uuid.UUID | None] = []

    async def handler(uow: UnitOfWork, cmd: ReportNeed) -> Any:
        calls.append(cmd.request_id)
        result = await report_need(uow, cmd)  # its writes are in the group's transaction
        if cmd.request_id == refused_key:
            raise CommandRejected("rule_violation", "refused by the test")
        return result

    processor = CommandProcessor(ctx, ReportNeed, handler, grouped=True)
    keys = [uuid.uuid4() for _ in range(COMMAND_WORKERS - 1)]
    keys.insert(3, refused_key)
    replies = await asyncio.gather(
        *(processor.process(body(seed, key)) for seed, key in enumerate(keys))
    )

    by_key = dict(zip(keys, replies, strict=True))
    assert not by_key[refused_key].ok
    assert by_key[refused_key].error is not None
    assert by_key[refused_key].error.code == "rule_violation"
    assert all(r.ok for k, r in by_key.items() if k != refused_key)
    # The refused command ran once (in the group); nothing of it is kept but its refusal.
    assert calls.count(refused_key) == 1
    assert await count(ctx, "SELECT count(*) FROM intake_case") == len(keys) - 1
    assert await count(ctx, "SELECT count(*) FROM kernel_command_reply") == len(keys) - 1
    assert (
        await count(
            ctx, "SELECT count(*) FROM kernel_audit WHERE outcome = 'refused:rule_violation'"
        )
        == 1
    )
    assert await count(ctx, "SELECT count(*) FROM kernel_audit WHERE outcome = 'ok'") == (
        len(keys) - 1
    )


async def test_a_resent_command_in_the_same_group_gets_the_first_reply(
    ctx: ServiceContext,
) -> None:
    processor = CommandProcessor(ctx, ReportNeed, make_report_need(ctx), grouped=True)
    key = uuid.uuid4()
    first, again, other = await asyncio.gather(
        processor.process(body(1, key)), processor.process(body(1, key)), processor.process(body(2))
    )

    assert first.ok and again.ok and other.ok
    assert again.result == first.result
    assert await count(ctx, "SELECT count(*) FROM intake_case") == 2
    assert await count(ctx, "SELECT count(*) FROM intake_report") == 2
