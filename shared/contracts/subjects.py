"""Subject naming. The organisation is a token so NATS permissions can isolate tenants.

No personal identifier or health detail ever goes into a subject: only org, service, and the
name of an event, command or query.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

EVENTS_STREAM = "KENETT_EVENTS"
DEAD_LETTER_STREAM = "KENETT_DLQ"
XORG_PREFIX = "kenett-xorg."
"""Cross-organisation messages: ``kenett-xorg.<to>.<from>`` (shared.federation.topology)."""


def _check(*tokens: str) -> None:
    for token in tokens:
        if not _TOKEN.match(token):
            raise ValueError(f"not a valid subject token: {token!r}")


def event_subject(org: str, service: str, event: str) -> str:
    """``kenett.<org>.evt.<service>.<event>``: captured by the events stream."""
    _check(org, service, event)
    return f"kenett.{org}.evt.{service}.{event}"


def command_subject(org: str, service: str, command: str) -> str:
    """``kenett.<org>.cmd.<service>.<command>``: request/reply, answered by one instance."""
    _check(org, service, command)
    return f"kenett.{org}.cmd.{service}.{command}"


def query_subject(org: str, service: str, query: str) -> str:
    """``kenett.<org>.qry.<service>.<query>``: request/reply reads."""
    _check(org, service, query)
    return f"kenett.{org}.qry.{service}.{query}"


def dead_letter_subject(org: str, service: str, consumer: str) -> str:
    """``kenett.<org>.dlq.<service>.<consumer>``: captured by the dead-letter stream."""
    _check(org, service, consumer)
    return f"kenett.{org}.dlq.{service}.{consumer}"


def status_subject(org: str) -> str:
    """``kenett.<org>.sys.status``: every running process answers (no queue group), so a
    caller gathers one reply per instance (``kenett status``)."""
    _check(org)
    return f"kenett.{org}.sys.status"
