"""Property (hypothesis): no input to ``report_need`` crashes the handler or leaves partial state.

Each example goes through the same processing as a request over NATS (decode, rules, one unit of
work with the outbox and the audit record), on a real SQLite database, and the tables are counted
before and after.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import UTC
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from services.intake.handlers.reports import make_report_need
from services.intake.store import registry
from shared.bus.handlers import CommandProcessor
from shared.clock import SystemClock
from shared.config import Settings
from shared.contracts.intake import ReportNeed
from shared.contracts.replies import Reply
from shared.db.engine import Database
from shared.db.kernel import kernel_registry
from shared.plugins import discover
from shared.service import ServiceContext
from shared.synthetic import synthetic_national_id

TABLES = ("intake_person", "intake_case", "intake_report", "kernel_outbox", "kernel_audit")
DELETE = object()

garbage = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.text(max_size=30),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
valid_reporters = st.sampled_from(
    [
        {"kind": "person"},
        {"kind": "ke"},
        {"kind": "next_of_kin", "relation": "mor"},
        {"kind": "employee", "unit": "Hjemmetjenesten"},
        {
            "kind": "hospital",
            "department": "Nevrologisk avdeling",
            "expected_discharge": "2026-12-01",
        },
    ]
)
field_values: dict[str, st.SearchStrategy[Any]] = {
    "national_id": st.one_of(
        st.builds(lambda seed: synthetic_national_id(random.Random(seed)), st.integers()),
        st.from_regex(r"\d{11}", fullmatch=True),
        st.text(max_size=15),
        garbage,
    ),
    "reporter": st.one_of(
        valid_reporters,
        st.fixed_dictionaries(
            {"kind": st.sampled_from(["employee", "neighbour", "hospital"])},
            optional={
                "unit": st.text(max_size=130),
                "relation": st.text(max_size=90),
                "expected_discharge": st.text(max_size=12),
            },
        ),
        garbage,
    ),
    "needs": st.one_of(
        st.lists(st.sampled_from(["ip", "coordinator", "plan"]), max_size=3), garbage
    ),
    "services": st.one_of(
        st.lists(
            st.sampled_from(["hjemmesykepleie", "fysioterapi", "fastlege", "magi"]), max_size=5
        ),
        garbage,
    ),
    "form": st.one_of(st.sampled_from(["oral", "written", "telepati"]), garbage),
    "received_at": st.one_of(
        st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
        st.datetimes().map(lambda d: d.isoformat()),
        garbage,
    ),
    "org": st.one_of(st.just("testorg"), st.text(max_size=70), garbage),
    "note": st.one_of(st.text(max_size=2100), garbage),
    "request_id": st.one_of(st.uuids().map(str), garbage),
    "actor": st.one_of(st.just({"kind": "user", "id": "s1"}), garbage),
}


def valid_body(seed: int) -> dict[str, Any]:
    return {
        "actor": {"kind": "user", "id": "saksbehandler-1"},
        "national_id": synthetic_national_id(random.Random(seed)),
        "reporter": {"kind": "employee", "unit": "Hjemmetjenesten"},
        "needs": ["ip"],
        "services": ["hjemmesykepleie", "fysioterapi"],
        "form": "oral",
    }


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))  # not even JSON
    body = valid_body(draw(st.integers()))
    for key in draw(st.lists(st.sampled_from(sorted(field_values)), max_size=4, unique=True)):
        value = draw(st.one_of(st.just(DELETE), field_values[key]))
        if value is DELETE:
            body.pop(key, None)
        else:
            body[key] = value
    return json.dumps(body).encode()


ACCEPTED_REQUEST_IDS: dict[str, Any] = {}


def _sent(body: bytes) -> dict[str, Any]:
    """The request as a dict, or empty when it is not a JSON object."""
    try:
        sent = json.loads(body)
    except ValueError:
        return {}
    return sent if isinstance(sent, dict) else {}


def _request_id(body: bytes) -> str | None:
    try:
        return str(uuid.UUID(_sent(body)["request_id"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class _NoRelay:
    def wake(self) -> None:
        return None


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('props')}/{{service}}.db"

    async def prepare() -> None:
        db = Database(url, "intake")
        await db.prepare(
            [discover()["intake"].plugin.migrations], [kernel_registry.metadata, registry.metadata]
        )
        await db.dispose()

    asyncio.run(prepare())
    return url


async def _process(url: str, body: bytes) -> tuple[Reply, dict[str, int], dict[str, int]]:
    db = Database(url, "intake")
    ctx = ServiceContext(
        "intake",
        Settings(org="testorg"),
        db,
        SystemClock(),
        cast(Any, None),
        cast(Any, None),
        cast(Any, _NoRelay()),
    )
    processor = CommandProcessor(ctx, ReportNeed, make_report_need(ctx))

    async def counts() -> dict[str, int]:
        async with db.sessions() as s:
            return {t: (await s.exec(text(f"SELECT count(*) FROM {t}"))).one()[0] for t in TABLES}

    try:
        before = await counts()
        reply = await processor.process(body)
        after = await counts()
    finally:
        await db.dispose()
    return reply, before, after


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies())
def test_no_report_crashes_the_handler_or_leaves_partial_state(db_url: str, body: bytes) -> None:
    reply, before, after = asyncio.run(_process(db_url, body))
    request_id = _request_id(body)
    if request_id is not None and request_id in ACCEPTED_REQUEST_IDS:
        # A retry with a key already accepted: the first reply again, and nothing new stored.
        assert reply.ok
        assert reply.result == ACCEPTED_REQUEST_IDS[request_id]
        assert after == before
        return
    event("accepted" if reply.ok else f"refused: {reply.error.code if reply.error else None}")
    delta = {t: after[t] - before[t] for t in TABLES}
    if reply.ok:
        assert reply.result is not None
        attached = reply.result["attached_to_open_case"]
        assert delta["intake_report"] == 1
        assert delta["intake_case"] == (0 if attached else 1)
        assert delta["intake_person"] in (0, 1)
        assert delta["kernel_outbox"] == 1
        assert delta["kernel_audit"] == 1
        uuid.UUID(reply.result["case_id"])
        if request_id is not None:
            ACCEPTED_REQUEST_IDS[request_id] = reply.result
    else:
        assert reply.error is not None
        assert reply.error.code in ("validation_failed", "rule_violation"), reply.error
        assert reply.error.fields, "a refusal names at least one field"
        # Nothing of the report is kept; a decodable command leaves only its audit record.
        assert {t: d for t, d in delta.items() if t != "kernel_audit"} == dict.fromkeys(
            [t for t in TABLES if t != "kernel_audit"], 0
        )
        assert delta["kernel_audit"] in (0, 1)
    # The reply never repeats an identity number that was sent.
    number = _sent(body).get("national_id")
    if isinstance(number, str) and len(number) == 11:
        assert number not in reply.model_dump_json()
