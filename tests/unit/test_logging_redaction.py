"""Fødselsnummer, names and free text never reach a log line."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from shared.logging import configure_logging, get_logger
from tests.helpers import national_id


@pytest.fixture
def log_output():
    buf = io.StringIO()
    configure_logging("json", "DEBUG", stream=buf)
    yield buf
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def lines(buf: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


def test_identity_numbers_are_masked_anywhere_in_a_log_line(log_output) -> None:
    number = national_id()
    spaced = f"{number[:6]} {number[6:]}"
    get_logger("t").info(f"lookup of {number} failed", detail={"ids": [spaced]}, n=int(number))
    text = log_output.getvalue()
    assert number not in text
    assert spaced not in text
    assert "[redacted]" in text


def test_names_and_free_text_keys_are_dropped(log_output) -> None:
    get_logger("t").info(
        "registered", display_name="Kari Nordmann", note="har diabetes", case_id="c1"
    )
    (entry,) = lines(log_output)
    assert entry["display_name"] == "[redacted]"
    assert entry["note"] == "[redacted]"
    assert entry["case_id"] == "c1"
    assert "Kari" not in log_output.getvalue()


def test_third_party_stdlib_logging_is_redacted_too(log_output) -> None:
    number = national_id()
    logging.getLogger("some.library").warning("bad row %s", number)
    assert number not in log_output.getvalue()
    assert lines(log_output)[0]["level"] == "warning"


def test_bound_context_is_in_every_line(log_output) -> None:
    structlog.contextvars.bind_contextvars(org="lund", service="intake", correlation_id="x1")
    try:
        get_logger("t").info("hello")
    finally:
        structlog.contextvars.clear_contextvars()
    (entry,) = lines(log_output)
    assert (entry["org"], entry["service"], entry["correlation_id"]) == ("lund", "intake", "x1")


async def test_log_context_fields_are_in_every_line_inside_and_in_tasks_only(log_output) -> None:
    import asyncio

    from shared.logging import log_context

    log = get_logger("t")
    with log_context(org="lund", case_id="c1"):
        with log_context(case_id="c2", correlation_id="x2"):  # nested: the inner one wins
            log.info("inner")
            await asyncio.create_task(_log_in_task())  # a task started inside sees it too
        log.info("outer", case_id="own")  # a line's own field wins
    log.info("after")
    inner, in_task, outer, after = lines(log_output)
    assert (inner["org"], inner["case_id"], inner["correlation_id"]) == ("lund", "c2", "x2")
    assert (in_task["case_id"], in_task["correlation_id"]) == ("c2", "x2")
    assert (outer["case_id"], outer["org"]) == ("own", "lund") and "correlation_id" not in outer
    assert not {"org", "case_id", "correlation_id"} & set(after)


async def _log_in_task() -> None:
    get_logger("t").info("in task")


def test_log_context_values_are_redacted_too(log_output) -> None:
    from shared.logging import log_context

    number = national_id()
    with log_context(note=f"ringte fra {number}"):
        get_logger("t").info("hello")
    assert number not in log_output.getvalue()


def test_objects_are_redacted_not_printed_by_repr(log_output) -> None:
    from dataclasses import dataclass

    from tests.helpers import report_need

    number = national_id()

    @dataclass
    class Row:
        national_id: str
        ref: str

    class Opaque:
        def __repr__(self) -> str:
            return f"Opaque(id={number})"

    cmd = report_need(national_id=number)
    get_logger("t").info("debugging", cmd=cmd, row=Row(number, "2026-000001"), other=Opaque())
    text = log_output.getvalue()
    assert number not in text
    (entry,) = lines(log_output)
    assert entry["row"]["ref"] == "2026-000001"
    assert entry["cmd"]["national_id"] == "[redacted]"


def test_error_reasons_never_carry_a_lookup_key_or_an_identity_number() -> None:
    from shared.bus.deadletter import describe_error

    assert describe_error(KeyError("oppfølging etter noe privat")) == "KeyError"
    assert describe_error(IndexError("list index out of range")) == "IndexError"
    number = national_id()
    reason = describe_error(ValueError(f"bad row {number}"))
    assert number not in reason
    assert reason.startswith("ValueError: bad row")
    assert describe_error(RuntimeError("simulated outage")) == "RuntimeError: simulated outage"
