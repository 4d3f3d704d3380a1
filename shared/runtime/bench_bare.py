"""The bare bus: what one FastStream process can do with JetStream and no database at all.

A durable pull consumer takes an event, decodes it (the same envelope parse every kenett
consumer does), publishes it again to the stream with a fresh de-duplication id, and acks the
one it took. ``--inflight`` events circulate, so the consumer is never idle. The hops per second
it sustains are the yardstick ``kenett bench pipeline`` divides by: a pipeline event costs one
such hop plus whatever the service does with it.

Run by the pipeline benchmark as ``python -m shared.runtime.bench_bare URL BODY_FILE SECONDS``;
it prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path

from faststream import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsMessage, PullSub
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy, StorageType, StreamConfig

from shared.bus.broker import make_broker
from shared.config import Settings
from shared.contracts.envelope import parse_envelope
from shared.natsconn import connect_once
from shared.runtime.loop import EventLoop
from shared.runtime.loop import run as run_loop

STREAM = "BENCH_BARE"
SUBJECT = "bench.bare.hop"
WARM_UP_S = 2.0


async def measure(url: str, body: bytes, seconds: float, inflight: int = 64) -> dict[str, float]:
    # The services' own broker set-up (shared.bus.broker), so the two are compared like for like.
    broker = make_broker(Settings(org="bench", nats_url=url))
    hops = 0

    config = ConsumerConfig(
        durable_name="bare",
        filter_subject=SUBJECT,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=JsAckPolicy.EXPLICIT,
        ack_wait=30,
        max_ack_pending=1000,
    )

    @broker.subscriber(
        SUBJECT,
        stream=JStream(STREAM, declare=False),
        durable="bare",
        config=config,
        pull_sub=PullSub(batch_size=16, timeout=5.0),
        ack_policy=AckPolicy.MANUAL,
    )
    async def hop(msg: NatsMessage) -> None:
        nonlocal hops
        parse_envelope(msg.raw_message.data)
        await broker.publish(
            msg.raw_message.data,
            SUBJECT,
            stream=STREAM,
            headers={"Nats-Msg-Id": uuid.uuid4().hex},
        )
        await msg.ack()
        hops += 1

    nc = await connect_once(url, "kenett-bench-bare")
    js = nc.jetstream()
    await js.add_stream(
        StreamConfig(
            name=STREAM,
            subjects=[SUBJECT],
            storage=StorageType.FILE,
            duplicate_window=600.0,
        )
    )
    await js.add_consumer(STREAM, config=config)
    await broker.start()
    for _ in range(inflight):
        await js.publish(SUBJECT, body, stream=STREAM, headers={"Nats-Msg-Id": uuid.uuid4().hex})
    await asyncio.sleep(WARM_UP_S)  # the measurement window is a span of time by design
    start_hops, loop = hops, asyncio.get_running_loop()
    t0 = loop.time()
    await asyncio.sleep(seconds)
    counted, elapsed = hops - start_hops, loop.time() - t0
    await broker.stop()
    await nc.close()
    return {"bare_hops": counted, "bare_seconds": round(elapsed, 3)}


def main() -> None:
    url, body_file, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    loop: EventLoop = "asyncio" if sys.argv[4:5] == ["asyncio"] else "uvloop"
    figures = run_loop(measure(url, Path(body_file).read_bytes(), seconds), loop)
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
