"""Every JetStream stream, declared in this one place. Subscribers never declare streams."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from shared.contracts.subjects import DEAD_LETTER_STREAM, EVENTS_STREAM

DAY = 24 * 3600.0


@dataclass(frozen=True)
class StreamSpec:
    """A stream's whole configuration."""

    name: str
    subjects: tuple[str, ...]
    max_age_s: float
    duplicate_window_s: float
    description: str

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            description=self.description,
            subjects=list(self.subjects),
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            max_age=self.max_age_s,
            duplicate_window=self.duplicate_window_s,
        )


STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec(
        name=EVENTS_STREAM,
        subjects=("kenett.*.evt.>",),
        max_age_s=30 * DAY,
        duplicate_window_s=600.0,
        description="Domain events of every service; consumers are durable pull consumers.",
    ),
    StreamSpec(
        name=DEAD_LETTER_STREAM,
        subjects=("kenett.*.dlq.>",),
        max_age_s=365 * DAY,
        duplicate_window_s=600.0,
        description="Messages no consumer could process, with the reason in headers.",
    ),
)


async def ensure_streams(js: JetStreamContext, extra: tuple[StreamSpec, ...] = ()) -> list[str]:
    """Create missing streams and bring existing ones to the declared config; returns the names."""
    done = []
    for spec in (*STREAMS, *extra):
        config = spec.config()
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)
        done.append(spec.name)
    return done
