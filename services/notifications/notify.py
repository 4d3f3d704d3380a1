"""Making a notice: the inbox row, and one delivery per channel the recipient uses.

Everything here runs inside the caller's unit of work, so a notice, its deliveries and its
``notification_created`` event commit together with the trigger's inbox mark (an event) or
the reminder's fired stage: a redelivered event or a restarted sweep never makes a second one.
"""

from __future__ import annotations

import json
import uuid
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from time import monotonic
from typing import TYPE_CHECKING, Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.orm.util import identity_key
from sqlmodel import col, select

from shared.channels import Channel
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.notifications import NotificationCreated, Policy, QuietHours
from shared.db.fast import FastStatement
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


class Prefs(Protocol):
    """A recipient's own choices as stored: a ``Recipient`` row, or a core row of its columns
    (``TOLD_AND_PREFS``) when only these are needed."""

    @property
    def addresses(self) -> str: ...
    @property
    def channels(self) -> str | None: ...
    @property
    def quiet_start(self) -> str | None: ...
    @property
    def quiet_end(self) -> str | None: ...
    @property
    def quiet_off(self) -> bool: ...
    @property
    def digest(self) -> bool: ...


@dataclass
class Effective:
    """A recipient's preferences after the organisation's defaults fill the gaps."""

    channels: list[str]
    addresses: dict[str, str]
    quiet: QuietHours | None
    digest: bool
    row: Prefs | None = None


# Statements of the hot path built once: core statements through the session's connection
# cost a fraction of an ORM ``get`` (no identity map, no autoflush, no object built).
NOTICE_EXISTS = FastStatement(
    sa.select(col(Notification.id)).where(col(Notification.id) == sa.bindparam("id"))
)
# Whether a notice exists, and its recipient's stored choices (NULLs when there is no row),
# in one statement: one row always, from a one-row table outer-joined to the recipient.
_ONE = sa.select(sa.literal_column("1").label("one")).subquery("one")
TOLD_AND_PREFS = FastStatement(
    sa.select(
        sa.exists().where(col(Notification.id) == sa.bindparam("id")).label("told"),
        col(Recipient.recipient_id),
        col(Recipient.addresses),
        col(Recipient.channels),
        col(Recipient.quiet_start),
        col(Recipient.quiet_end),
        col(Recipient.quiet_off),
        col(Recipient.digest),
    ).select_from(
        _ONE.outerjoin(Recipient, col(Recipient.recipient_id) == sa.bindparam("recipient_id"))
    )
)

# The org's policy is cached per notifier (``Notifier.policy``) where the notifier's process
# is the database's only writer (SQLite, all-in-one; on PostgreSQL it is not cached, see
# ``Runtime``). It changes only through ``set_policy``, whose commit calls
# ``policy_committed``: from then on every notifier of this process on that database serves the
# new policy (the committing one is handed it, the others read it again). As a safeguard for a
# second process on the same SQLite file (which the docs advise against), a cached policy is
# trusted for POLICY_TTL_S only.
POLICY_TTL_S = 5.0
_POLICY_GENERATION: dict[Hashable, int] = {}


@dataclass
class Notifier:
    """What a handler needs to tell people: the channels in use and the org's policy.

    ``source`` names the database the policy is read from (``(url, schema)``); notifiers on
    the same one share invalidation. ``None``: the policy is read on every call, uncached."""

    channels: Mapping[str, Channel]
    source: Hashable | None = None
    _policies: dict[str, tuple[Policy, int, float]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # The notices ``notify`` added to each session (for as long as the session lives): the
    # existence check reads the database without flushing, so it asks here first; a notice
    # still in its session counts (one rolled back is no longer in it).
    _added: weakref.WeakKeyDictionary[Any, dict[uuid.UUID, Notification]] = field(
        default_factory=weakref.WeakKeyDictionary, init=False, repr=False, compare=False
    )

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
        """The org's policy (read-only: the object may be shared). Served from this notifier's
        cache while no change was committed in this process since it was read and it is
        younger than POLICY_TTL_S; read again otherwise."""
        if self.source is None:
            return await self._read_policy(uow)
        generation = _POLICY_GENERATION.get(self.source, 0)
        now = monotonic()
        cached = self._policies.get(uow.org)
        if cached is not None and cached[1] == generation and now - cached[2] < POLICY_TTL_S:
            return cached[0]
        policy = await self._read_policy(uow)
        # A change committed while this read was under way may not be in what it read: then
        # it is used for this call only, never cached.
        if _POLICY_GENERATION.get(self.source, 0) == generation:
            self._policies[uow.org] = (policy, generation, now)
        return policy

    async def _read_policy(self, uow: UnitOfWork) -> Policy:
        row = await uow.session.get(OrgPolicy, uow.org)
        return Policy.model_validate_json(row.policy) if row is not None else Policy()

    def policy_committed(self, org: str, stored: str) -> None:
        """``set_policy`` committed ``stored`` (the policy's JSON) for ``org``: no notifier
        of this process on this database serves the one before it from now on."""
        if self.source is None:
            return
        generation = _POLICY_GENERATION.get(self.source, 0) + 1
        _POLICY_GENERATION[self.source] = generation
        self._policies[org] = (Policy.model_validate_json(stored), generation, monotonic())

    def effective(self, row: Prefs | None, policy: Policy) -> Effective:
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
        wake: Callable[[], None] | None = None,
    ) -> int:
        """One notice per target (the same target twice counts once); returns how many were
        made now (0 when this trigger already told them). ``wake`` runs once this unit of
        work commits, if a delivery waiting to be sent was made.

        Without ``known``, what is read per notice (does it exist, the recipient's choices)
        is read with core statements that flush nothing: the notices and deliveries added
        here are flushed once, at the commit. A notice added earlier in this session counts
        as existing (``_added``); a recipient is taken from the session when it holds one
        (its unflushed changes included), else from the database."""
        policy = policy or await self.policy(uow)
        made = 0
        sending = False
        seen: set[uuid.UUID] = set()
        for target in targets:
            if target.id in seen:
                continue
            seen.add(target.id)
            nid = notice_id(trigger, target.id, kind)
            recipient: Prefs | None
            if known is not None:
                if nid in known.notices:
                    continue  # told already: a repeated trigger changes nothing
                known.notices.add(nid)
                recipient = known.recipients.get(target.id)
            else:
                told, recipient = await self._told_and_prefs(uow, nid, target.id)
                if told:
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
            if known is None:
                self._added.setdefault(uow.session, {})[nid] = notice
            prefs = self.effective(recipient, policy)
            missing, to_send = self._deliveries(uow, notice, prefs, now)
            sending = sending or to_send
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
        if sending and wake is not None:
            uow.on_commit(wake)
        return made

    async def _told_and_prefs(
        self, uow: UnitOfWork, nid: uuid.UUID, recipient_id: uuid.UUID
    ) -> tuple[bool, Prefs | None]:
        """Does this notice exist already (in the database, or added to this session and not
        rolled back since), and the recipient's stored choices: the session's row if it holds
        one loaded, else the columns ``effective`` needs. One core statement at most."""
        added = self._added.get(uow.session)
        notice = added.get(nid) if added is not None else None
        if notice is not None and notice in uow.session:
            return True, None
        held = uow.session.sync_session.identity_map.get(identity_key(Recipient, recipient_id))
        conn = await uow.connection()
        if held is not None and not sa.inspect(held).expired_attributes:
            return bool(await NOTICE_EXISTS.fetch(conn, {"id": nid})), held
        (row,) = await TOLD_AND_PREFS.fetch(
            conn, {"id": nid, "recipient_id": recipient_id}, named=True
        )
        return bool(row.told), cast(Prefs, row) if row.recipient_id is not None else None

    def _deliveries(
        self, uow: UnitOfWork, notice: Notification, prefs: Effective, now: datetime
    ) -> tuple[list[str], bool]:
        """Add the notice's deliveries; returns the channels without an address, and whether
        a delivery now waits to be sent (not held for a digest)."""
        missing = []
        to_send = False
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
            to_send = to_send or not held
        return missing, to_send


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
