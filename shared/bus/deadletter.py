"""The dead-letter path: a message that cannot be processed is copied, with its reason, to the
dead-letter stream and only then acknowledged: it never blocks its consumer and is never lost."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from shared.contracts.envelope import Actor
from shared.contracts.subjects import DEAD_LETTER_STREAM, command_subject, dead_letter_subject
from shared.logging import redact_text

H_REASON = "Kenett-Dlq-Reason"
H_SUBJECT = "Kenett-Dlq-Subject"
H_STREAM_SEQ = "Kenett-Dlq-Stream-Seq"
H_DELIVERIES = "Kenett-Dlq-Deliveries"
H_CONSUMER = "Kenett-Dlq-Consumer"
H_AT = "Kenett-Dlq-At"
H_RESEND = "Kenett-Dlq-Resend"
"""Optional: ``<service>.<command> <json body>``: how to send this dead letter again, for dead
letters that are not events to replay (a notification's delivery, say)."""


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


class ResendFailed(RuntimeError):
    """A dead letter could not be sent again; it stays in the dead-letter stream."""


async def resend_dead_letter(nc: NatsClient, seq: int, actor: Actor, timeout: float = 10.0) -> str:
    """Send the dead letter ``seq`` again, then remove it from the dead-letter stream.

    A dead letter with a resend instruction (``Kenett-Dlq-Resend``) is handed to that command;
    any other is published again on its original subject, so its consumers see it once more
    (the others skip it: they applied it already, and their inbox remembers).
    """
    js = nc.jetstream()
    try:
        msg = await js.get_msg(DEAD_LETTER_STREAM, seq)
    except Exception:
        raise ResendFailed(f"no dead letter with sequence {seq}") from None
    headers: dict[str, Any] = dict(msg.headers or {})
    instruction = headers.get(H_RESEND)
    if instruction:
        target, _, body = str(instruction).partition(" ")
        service, _, command = target.partition(".")
        org = str(msg.subject or "").split(".")[1]
        payload = {**json.loads(body), "actor": actor.model_dump(mode="json")}
        reply = await nc.request(
            command_subject(org, service, command), json.dumps(payload).encode(), timeout=timeout
        )
        answer = json.loads(reply.data)
        if not answer.get("ok"):
            error = answer.get("error") or {}
            raise ResendFailed(f"{target} refused it: {error.get('message', 'no reason')}")
        what = f"handed to {target}"
    else:
        subject = headers.get(H_SUBJECT)
        if not subject:
            raise ResendFailed("the dead letter does not say where it came from")
        await js.publish(subject, msg.data or b"", headers={"Nats-Msg-Id": f"resend:{seq}"})
        what = f"published again on {subject}"
    await js.delete_msg(DEAD_LETTER_STREAM, seq)
    return what
