"""structlog set-up: JSON or console output, and redaction of personal data before any output.

Fødselsnummer, names and free text must never reach a log line (domain.md, "Identifiers and
data"). Redaction happens in the processor chain, so it applies to kenett's own log calls and to
third-party libraries' stdlib logging alike.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
import re
import sys
import uuid
from collections.abc import Iterator, Mapping, MutableMapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

import structlog
from pydantic import BaseModel
from stdnum.no import fodselsnummer

# 11 digits, optionally written as 6+5 with a space or dash: fødselsnummer, D-nummer, H-nummer.
_NATIONAL_ID = re.compile(r"(?<!\d)\d{6}[ -]?\d{5}(?!\d)")
REDACTED = "[redacted]"

# Keys whose values are personal data or free text whatever their shape.
SENSITIVE_KEYS = frozenset(
    {
        "national_id",
        "fodselsnummer",
        "fnr",
        "dnr",
        "name",
        "full_name",
        "display_name",
        "given_name",
        "family_name",
        "first_name",
        "last_name",
        "text",
        "note",
        "notes",
        "comment",
        "description",
        "body",
        "payload",
        "address",
        "phone",
        "email",
    }
)


def redact_text(value: str) -> str:
    """Replace anything shaped like a Norwegian national identity number."""
    return _NATIONAL_ID.sub(REDACTED, value)


_PLAIN = (bool, float, type(None), datetime, date, uuid.UUID)


def _redact(value: Any, depth: int = 0) -> Any:
    if depth > 6:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, BaseModel):
        return _redact(value.model_dump(mode="json"), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _redact(dataclasses.asdict(value), depth + 1)
    if isinstance(value, bytes):
        return REDACTED
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if str(k).lower() in SENSITIVE_KEYS else _redact(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact(v, depth + 1) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        if 10_000_000_000 <= abs(value) < 100_000_000_000:
            return REDACTED
        # Born on the 1st to the 9th: the number begins with 0, and as an int has 10 digits.
        if 1_000_000_000 <= abs(value) < 10_000_000_000 and fodselsnummer.is_valid(
            f"{abs(value):011d}"
        ):
            return REDACTED
        return value
    if isinstance(value, _PLAIN):
        return value
    # Anything else would be rendered by its repr: mask that instead of trusting it.
    return redact_text(repr(value))


def redact_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: drop sensitive keys and mask identity numbers in every value."""
    for key in list(event_dict):
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict


_CONTEXT: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "kenett_log_context", default=MappingProxyType({})
)


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every log line written inside the block (and in tasks it starts).

    What ``structlog.contextvars.bound_contextvars`` does, in one context variable: it is set
    for every delivery and every handler in a group, where structlog's form (a variable per key,
    read back first to restore it) cost 4.5 µs a time (docs/benchmarks.md "pipeline", 20)."""
    token = _CONTEXT.set({**_CONTEXT.get(), **fields})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def merge_log_context(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the fields of the enclosing ``log_context`` blocks (a line's own
    keyword arguments win)."""
    bound = _CONTEXT.get()
    for key, value in bound.items():
        event_dict.setdefault(key, value)
    return event_dict


def configure_logging(fmt: str = "console", level: str = "INFO", stream: Any = None) -> None:
    """Route structlog and stdlib logging through one redacting processor chain."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        merge_log_context,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_personal_data,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Per-message logs on hot paths are noise at INFO; FastStream logs each message there.
    for noisy in ("faststream", "faststream.access", "nats", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("alembic").setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger; bind org, service, correlation_id and case_id as context."""
    return structlog.stdlib.get_logger(name)
