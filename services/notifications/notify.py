"""Making a notice: the inbox row, and one delivery per channel the recipient uses.

Everything here runs inside the caller's unit of work, so a notice, its deliveries and its
``notification_created`` event commit together with the trigger's inbox mark (an event) or
the reminder's fired stage: a redelivered event or a restarted sweep never makes a second one.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlmodel import col, select

from shared.channels import Channel
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.notifications import NotificationCreated, Policy, QuietHours
from shared.db.uow import UnitOfWork

from .domain import IMPORTANT, NoticeKind, TemplateFailed, UnsafeNotice, quiet_until, render
from .store import Delivery, Notification, OrgPolicy, Recipient

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

NOTICE_NS = uuid.UUID("6f1c7a52-3d4e-4b0a-9c55-0a4b7e2f9d11")
FALLBACK_TEXT = "Du har et nytt varsel i kenett. Logg inn for å se det."


def notice_id(trigger: uuid.UUID, recipient_id: uuid.UUID, kind: NoticeKind) -> uuid.UUID:
    """A notice's id: one per (trigger, recipient, kind), so a repeated trigger finds it."""
    return uuid.uuid5(NOTICE_NS, f"{trigger}:{recipient_id}:{kind.value}")


@dataclass
class Known:
    """Read once for a batch of notices (a sweep's reminders), instead of once per notice:
    the notices that already exist, and the recipients' own preferences."""

    notices: set[uuid.UUID]
    recipients: dict[uuid.UUID, Recipient]


CHUNK = 1000


@dataclass(frozen=True)
class Target:
    """One recipient of a notice."""

    kind: str
    id: uuid.UUID


@dataclass
class Effective:
    """A recipient's preferences after the organisation's defaults fill the gaps."""

    channels: list[str]
    addresses: dict[str, str]
    quiet: QuietHours | None
    digest: bool
    row: Recipient | None = None


@dataclass
class Notifier:
    """What a handler needs to tell people: the channels in use and the org's policy."""

    channels: Mapping[str, Channel]

    async def known(
        self, uow: UnitOfWork, notice_ids: Iterable[uuid.UUID], recipient_ids: Iterable[uuid.UUID]
    ) -> Known:
        """Which of these notices exist already, and these recipients' rows, in a few reads."""
        notices, recipients = sorted(set(notice_ids)), sorted(set(recipient_ids))
        found: set[uuid.UUID] = set()
        rows: dict[uuid.UUID, Recipient] = {}
        for i in range(0, len(notices), CHUNK):
            found.update(
                await uow.session.exec(
                    select(Notification.id).where(col(Notification.id).in_(notices[i : i + CHUNK]))
                )
            )
        for i in range(0, len(recipients), CHUNK):
            for r in await uow.session.exec(
                select(Recipient).where(col(Recipient.recipient_id).in_(recipients[i : i + CHUNK]))
            ):
                rows[r.recipient_id] = r
        return Known(found, rows)

    async def policy(self, uow: UnitOfWork) -> Policy:
        row = await uow.session.get(OrgPolicy, uow.org)
        return Policy.model_validate_json(row.policy) if row is not None else Policy()

    def effective(self, row: Recipient | None, policy: Policy) -> Effective:
        if row is None:
            return Effective(
                [c for c in policy.default_channels if c in self.channels],
                {},
                policy.quiet_hours,
                False,
            )
        own = json.loads(row.channels) if row.channels is not None else None
        chosen = own if own is not None else policy.default_channels
        if row.quiet_off:
            quiet: QuietHours | None = None
        elif row.quiet_start and row.quiet_end:
            quiet = QuietHours(
                start=time.fromisoformat(row.quiet_start), end=time.fromisoformat(row.quiet_end)
            )
        else:
            quiet = policy.quiet_hours
        return Effective(
            [c for c in chosen if c in self.channels],
            json.loads(row.addresses),
            quiet,
            row.digest,
            row,
        )

    async def notify(
        self,
        uow: UnitOfWork,
        *,
        trigger: uuid.UUID,
        kind: NoticeKind,
        case_id: uuid.UUID | None,
        case_ref: str | None,
        targets: Iterable[Target],
        actor: Actor,
        causation: Envelope | None = None,
        on: date | None = None,
        count: int | None = None,
        problem: str | None = None,
        policy: Policy | None = None,
        known: Known | None = None,
    ) -> int:
        """One notice per target (the same target twice counts once); returns how many were
        made now (0 when this trigger already told them)."""
        policy = policy or await self.policy(uow)
        made = 0
        seen: set[uuid.UUID] = set()
        for target in targets:
            if target.id in seen:
                continue
            seen.add(target.id)
            nid = notice_id(trigger, target.id, kind)
            if known is not None:
                if nid in known.notices:
                    continue  # told already: a repeated trigger changes nothing
                known.notices.add(nid)
            elif await uow.session.get(Notification, nid) is not None:
                continue  # told already: a repeated trigger changes nothing
            text, trouble = _text(kind, case_ref, on, count)
            now = uow.clock.now()
            notice = Notification(
                id=nid,
                org=uow.org,
                recipient_kind=target.kind,
                recipient_id=target.id,
                case_id=case_id,
                case_ref=case_ref,
                kind=kind.value,
                text=text,
                trigger_event_id=trigger,
                created_at=now,
                important=kind in IMPORTANT,
                problem=_join(problem, trouble),
            )
            uow.session.add(notice)
            recipient = (
                known.recipients.get(target.id)
                if known is not None
                else await uow.session.get(Recipient, target.id)
            )
            prefs = self.effective(recipient, policy)
            missing = self._deliveries(uow, notice, prefs, now)
            if missing:
                notice.problem = _join(
                    notice.problem,
                    f"no address registered for {', '.join(missing)}; the notice is in the "
                    "inbox only",
                )
            uow.emit(
                NotificationCreated(
                    notification_id=notice.id,
                    case_id=case_id,
                    recipient_id=target.id,
                    kind=kind.value,
                    trigger_event_id=trigger,
                ),
                actor=actor,
                case_id=case_id,
                causation=causation,
            )
            made += 1
        return made

    def _deliveries(
        self, uow: UnitOfWork, notice: Notification, prefs: Effective, now: datetime
    ) -> list[str]:
        missing = []
        for name in prefs.channels:
            channel = self.channels[name]
            if not prefs.addresses.get(name):
                missing.append(name)
                continue
            held = prefs.digest and channel.respects_quiet_hours
            not_before = quiet_until(now, prefs.quiet) if channel.respects_quiet_hours else now
            uow.session.add(
                Delivery(
                    id=uuid.uuid5(NOTICE_NS, f"{notice.id}:{name}"),
                    org=uow.org,
                    notification_id=notice.id,
                    recipient_id=notice.recipient_id,
                    channel=name,
                    kind=notice.kind,
                    status="held_digest" if held else "pending",
                    next_attempt_at=None if held else not_before,
                    created_at=now,
                )
            )
        return missing


def _text(
    kind: NoticeKind, case_ref: str | None, on: date | None, count: int | None
) -> tuple[str, str | None]:
    """The notice text; when it cannot be made, a plain fallback and why (recorded on the
    notice, so the recipient is still told and nothing else stops)."""
    try:
        return render(kind, case_ref, on=on, count=count), None
    except TemplateFailed as exc:
        return FALLBACK_TEXT, f"the text of {kind.value} could not be made: {exc}"
    except UnsafeNotice as exc:
        return FALLBACK_TEXT, f"the text of {kind.value} was refused: {exc}"


def _join(a: str | None, b: str | None) -> str | None:
    text = "; ".join(p for p in (a, b) if p)
    return text[:300] if text else None
