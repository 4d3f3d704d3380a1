"""Base of every command and query: who asks, and an optional idempotency key."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from .envelope import Actor


class Command(BaseModel):
    """A request to change something. ``request_id`` makes a retried command harmless."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Actor
    request_id: uuid.UUID | None = Field(
        None, description="Idempotency key: the same key returns the first reply, changes nothing."
    )
    correlation_id: uuid.UUID | None = None


class Query(BaseModel):
    """A request to read something; reads of a person's data are audited like commands."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Actor


def next_offset(offset: int, shown: int, total: int) -> int | None:
    """The offset of the page after one of ``shown`` rows from ``offset``; None at the end.

    Every paged reply (``limit``/``offset`` in, ``total``/``next_offset`` out) uses it, so a
    client can follow ``next_offset`` until it is None.
    """
    end = offset + shown
    return end if shown and end < total else None
