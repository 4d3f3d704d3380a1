"""Sending what waits in the delivery table through the channels.

A delivery is claimed in one transaction (status ``sending`` with a lease), sent outside any
transaction, and its outcome recorded in another. A process that dies between the two leaves
the claim to run out; the delivery is then sent again with the same ``delivery_id``, which
every channel passes on as its idempotency key (e-mail Message-ID, webhook header, SMS
reference), so the receiver can drop the repeat. Several processes share the work:
PostgreSQL hands each its own rows (``FOR UPDATE SKIP LOCKED``); SQLite has one writer.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col, or_, select

from shared.channels import Channel, DeliveryError, OutgoingMessage
from shared.contracts.envelope import Actor
from shared.contracts.notifications import DeliveryDead
from shared.db.uow import UnitOfWork
from shared.logging import get_logger
from shared.service import ServiceContext

from .domain import TemplateFailed, UnsafeNotice, backoff_at, render_external
from .store import Delivery, Recipient

log = get_logger(__name__)

LEASE = timedelta(minutes=2)
CLAIM = 64
PARALLEL = 16

_ADDRESSES = sa.select(col(Recipient.recipient_id), col(Recipient.addresses)).where(
    col(Recipient.recipient_id).in_(sa.bindparam("ids", expanding=True))
)


@dataclass
class Outcome:
    delivery_id: uuid.UUID
    error: DeliveryError | None


@dataclass
class DispatchResult:
    sent: int = 0
    retrying: int = 0
    dead: int = 0

    def add(self, other: DispatchResult) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.dead += other.dead


class Dispatcher:
    """Sends due deliveries; one per service process."""

    def __init__(self, ctx: ServiceContext, channels: Mapping[str, Channel]) -> None:
        self.ctx = ctx
        self.channels = channels
        self.wake = asyncio.Event()
        self._gate = asyncio.Semaphore(PARALLEL)
        self._running = asyncio.Lock()

    async def run_once(self) -> DispatchResult:
        """Send everything due now (in rounds of CLAIM), and return what happened."""
        total = DispatchResult()
        async with self._running:
            while True:
                claimed = await self._claim()
                if not claimed:
                    return total
                outcomes = await asyncio.gather(*(self._send(d) for d in claimed))
                total.add(await self._record(outcomes))

    async def _claim(self) -> list[tuple[Delivery, str | None]]:
        now = self.ctx.clock.now()
        async with self.ctx.uow() as uow:
            statement = (
                select(Delivery)
                .where(
                    Delivery.org == uow.org,
                    or_(
                        (col(Delivery.status) == "pending")
                        & (col(Delivery.next_attempt_at) <= now),
                        (col(Delivery.status) == "sending") & (col(Delivery.claimed_until) < now),
                    ),
                )
                .order_by(col(Delivery.next_attempt_at))
                .limit(CLAIM)
                .with_for_update(skip_locked=True)
            )
            rows = list(await uow.session.exec(statement))
            # The recipients' addresses in one read for the round (was one ORM get each).
            addresses: dict[uuid.UUID, str] = {}
            if rows:
                conn = await uow.connection()
                found = await conn.execute(
                    _ADDRESSES, {"ids": sorted({d.recipient_id for d in rows})}
                )
                addresses = {row[0]: row[1] for row in found}
            out = []
            for d in rows:
                d.status, d.claimed_until = "sending", now + LEASE
                d.attempts += 1
                stored = addresses.get(d.recipient_id)
                address = json.loads(stored).get(d.channel) if stored is not None else None
                out.append((d, address))
            await uow.commit()
            for d, _ in out:
                uow.session.expunge(d)
            return out

    async def _send(self, claimed: tuple[Delivery, str | None]) -> Outcome:
        d, address = claimed
        channel = self.channels.get(d.channel)
        if channel is None:
            return Outcome(
                d.id, DeliveryError(f"channel {d.channel} is not installed", permanent=True)
            )
        if not address:
            return Outcome(
                d.id,
                DeliveryError(
                    f"no {d.channel} address registered for the recipient", permanent=True
                ),
            )
        try:
            subject, text = render_external(self.ctx.settings.login_url, d.count)
        except (TemplateFailed, UnsafeNotice) as exc:
            return Outcome(d.id, DeliveryError(f"the outgoing text failed: {exc}", permanent=True))
        message = OutgoingMessage(
            delivery_id=d.id,
            notification_id=d.notification_id,
            org=d.org,
            recipient_id=d.recipient_id,
            address=address,
            kind=d.kind,
            subject=subject,
            text=text,
            login_url=self.ctx.settings.login_url,
            created_at=d.created_at,
            count=d.count,
        )
        async with self._gate:
            try:
                await channel.send(message)
            except DeliveryError as exc:
                return Outcome(d.id, exc)
            except Exception as exc:  # a channel's own bug or a network error: try again
                # Only the class: a third-party channel's message may quote the address.
                return Outcome(
                    d.id, DeliveryError(f"the {d.channel} channel failed ({type(exc).__name__})")
                )
        return Outcome(d.id, None)

    async def _record(self, outcomes: list[Outcome]) -> DispatchResult:
        result = DispatchResult()
        async with self.ctx.uow() as uow:
            now = uow.clock.now()
            # The round's deliveries locked in one read (was one ORM get each).
            held = {
                d.id: d
                for d in await uow.session.exec(
                    select(Delivery)
                    .where(col(Delivery.id).in_([o.delivery_id for o in outcomes]))
                    .with_for_update()
                )
            }
            for outcome in outcomes:
                d = held.get(outcome.delivery_id)
                if d is None or d.status != "sending":
                    continue
                d.claimed_until = None
                if outcome.error is None:
                    d.status, d.sent_at, d.last_error = "sent", now, None
                    result.sent += 1
                    continue
                d.last_error = outcome.error.reason[:300]
                channel = self.channels.get(d.channel)
                backoff = channel.backoff_s if channel is not None else ()
                again = None if outcome.error.permanent else backoff_at(now, d.attempts, backoff)
                if again is not None:
                    d.status, d.next_attempt_at = "pending", again
                    result.retrying += 1
                    continue
                d.status, d.next_attempt_at = "dead", None
                result.dead += 1
                reason = (
                    d.last_error
                    if outcome.error.permanent
                    else f"gave up after {d.attempts} attempts: {d.last_error}"
                )
                uow.emit(
                    DeliveryDead(
                        delivery_id=d.id,
                        notification_id=d.notification_id,
                        channel=d.channel,
                        reason=reason[:300],
                        attempts=d.attempts,
                    ),
                    actor=Actor(kind="service", id="notifications"),
                    case_id=None,
                )
            await uow.commit()
        if result.dead:
            log.warning("deliveries dead-lettered", count=result.dead)
        return result


async def resend(uow: UnitOfWork, delivery_id: uuid.UUID) -> Delivery | None:
    """Put a delivery back in line, attempts counted from the first again."""
    d = await uow.session.get(Delivery, delivery_id, with_for_update=True)
    if d is None or d.org != uow.org:
        return None
    d.status, d.attempts, d.next_attempt_at = "pending", 0, uow.clock.now()
    d.last_error, d.claimed_until = None, None
    return d
