"""The broker factory: one FastStream NatsBroker per process, configured the same way everywhere.

Acknowledgement is explicit and chosen per subscriber by ``shared.bus.handlers``: event consumers
use ``AckPolicy.MANUAL`` (ack after commit, nack with delay, dead letter with reason, bounded by
``Settings.max_deliver``); request/reply responders need no acks.
"""

from __future__ import annotations

import logging

from faststream.nats import NatsBroker, NatsMessage

from shared.config import Settings


async def _the_message(msg: NatsMessage) -> NatsMessage:
    """The "decoder": every kenett subscriber takes the message itself and parses its body
    with the contract's own model (so a bad body gets a reason naming the field)."""
    return msg


def make_broker(settings: Settings, url: str | None = None) -> NatsBroker:
    """A broker that reconnects forever and does not log every message at INFO."""
    fs_logger = logging.getLogger("kenett.faststream")
    if fs_logger.level == logging.NOTSET:
        fs_logger.setLevel(logging.WARNING)  # FastStream is chatty at INFO
    return NatsBroker(
        url or settings.nats_url,
        logger=fs_logger,
        log_level=logging.DEBUG,  # per-message lines only when debugging
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        graceful_timeout=15.0,  # on stop, let handlers in flight finish (and commit) first
        name=f"kenett-{settings.org}",
        # No dependency injection per message: FastStream resolves a ``NatsMessage`` parameter
        # through its context on a worker thread, which cost a thread hand-off per message
        # (py-spy; docs/benchmarks.md "pipeline"). Subscribers get the message as their one
        # argument instead, from the decoder above.
        apply_types=False,
        decoder=_the_message,
    )
