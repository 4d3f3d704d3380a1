"""Await events instead of sleeping: collect envelopes from a subscription and wait on a match."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from shared.contracts.envelope import Envelope


class EventWatcher:
    """``on_msg`` is a NATS subscription callback; ``wait_until`` resolves on a matching event."""

    def __init__(self) -> None:
        self.events: list[Envelope] = []
        self._changed = asyncio.Event()

    async def on_msg(self, msg: Any) -> None:
        try:
            self.record(Envelope.model_validate_json(msg.data))
        except ValueError:
            return

    def record(self, envelope: Envelope) -> None:
        """Note an event seen some other way (e.g. a consumer's ``on_handled`` hook)."""
        self.events.append(envelope)
        self._changed.set()

    def matching(
        self, type_: str, case_id: uuid.UUID | None = None, **payload: Any
    ) -> list[Envelope]:
        return [
            env
            for env in self.events
            if env.type == type_
            and (case_id is None or env.case_id == case_id)
            and all(env.payload.get(k) == v for k, v in payload.items())
        ]

    async def wait_until(self, condition: Callable[[], Any], timeout: float) -> Any:
        """Wait until ``condition()`` is truthy, re-checking on every new event."""
        deadline = time.monotonic() + timeout
        while not (result := condition()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the awaited events did not arrive in time")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue
        return result

    async def wait_for(
        self, case_id: uuid.UUID | None, type_: str, deadline: float, **payload: Any
    ) -> Envelope:
        """The first ``type_`` event of the case (with the given payload values)."""
        found = await self.wait_until(
            lambda: self.matching(type_, case_id, **payload), deadline - time.monotonic()
        )
        return found[0]  # type: ignore[no-any-return]
