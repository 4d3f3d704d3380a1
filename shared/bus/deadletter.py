"""The dead-letter path: a message that cannot be processed is copied, with its reason, to the
dead-letter stream and only then acknowledged: it never blocks its consumer and is never lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from shared.contracts.subjects import DEAD_LETTER_STREAM, dead_letter_subject
from shared.logging import redact_text

H_REASON = "Kenett-Dlq-Reason"
H_SUBJECT = "Kenett-Dlq-Subject"
H_STREAM_SEQ = "Kenett-Dlq-Stream-Seq"
H_DELIVERIES = "Kenett-Dlq-Deliveries"
H_CONSUMER = "Kenett-Dlq-Consumer"
H_AT = "Kenett-Dlq-At"


def describe_error(exc: BaseException) -> str:
    """A reason safe to store and show: error class and a redacted, short message.

    Database errors can quote the values of a statement, so only their class is kept.
    """
    name = type(exc).__name__
    module = type(exc).__module__
    if module.startswith(("sqlalchemy", "asyncpg", "sqlite3", "aiosqlite")):
        orig = getattr(exc, "orig", None)
        return f"database error: {name}" + (f" ({type(orig).__name__})" if orig else "")
    if isinstance(exc, LookupError | UnicodeError):
        # Their message is the missing key or the offending value itself: free text at worst.
        return name
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{name}: {redact_text(text)[:300]}" if text else name


async def dead_letter(
    js: JetStreamContext,
    msg: Msg,
    *,
    org: str,
    service: str,
    consumer: str,
    reason: str,
    at: datetime,
) -> None:
    """Copy ``msg`` to the dead-letter stream with the reason. De-duplicated per stream sequence."""
    meta = msg.metadata
    stream_seq = str(meta.sequence.stream)
    headers = {
        H_REASON: redact_text(reason)[:1000],
        H_SUBJECT: msg.subject,
        H_STREAM_SEQ: stream_seq,
        H_DELIVERIES: str(meta.num_delivered),
        H_CONSUMER: consumer,
        H_AT: at.isoformat(),
        "Nats-Msg-Id": f"dlq:{consumer}:{meta.stream}:{stream_seq}",
    }
    await js.publish(
        dead_letter_subject(org, service, consumer),
        msg.data,
        stream=DEAD_LETTER_STREAM,
        headers=headers,
    )


@dataclass(frozen=True)
class DeadLetter:
    """One entry of the dead-letter stream."""

    seq: int
    consumer: str
    subject: str
    reason: str
    deliveries: int
    at: str
    data: bytes


async def read_dead_letters(
    js: JetStreamContext, org: str | None = None, limit: int = 1000
) -> list[DeadLetter]:
    """Read the dead-letter stream (oldest first) without consuming it."""
    info = await js.stream_info(DEAD_LETTER_STREAM)
    if info.state.messages == 0:
        return []
    subject = f"kenett.{org}.dlq.>" if org else "kenett.*.dlq.>"
    sub = await js.subscribe(
        subject, stream=DEAD_LETTER_STREAM, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    out: list[DeadLetter] = []
    try:
        while len(out) < limit:
            try:
                m = await sub.next_msg(timeout=1.0)
            except TimeoutError:
                break
            h = m.headers or {}
            out.append(
                DeadLetter(
                    seq=m.metadata.sequence.stream,
                    consumer=h.get(H_CONSUMER, ""),
                    subject=h.get(H_SUBJECT, ""),
                    reason=h.get(H_REASON, ""),
                    deliveries=int(h.get(H_DELIVERIES, "0")),
                    at=h.get(H_AT, ""),
                    data=m.data,
                )
            )
            if m.metadata.num_pending == 0:
                break
    finally:
        await sub.unsubscribe()
    return out
