"""Notifications' handlers: who is told what on each event (domain.AUDIENCES), the reminders
those events put on the clock, and the inbox, preferences and policy over request/reply."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from faststream.nats import NatsMessage, NatsRouter
from pydantic import ValidationError
from sqlmodel import col, func, select

from shared import gate
from shared.bus.handlers import command_responder, event_consumer, query_responder
from shared.channels import AddressInvalid, Channel, discover_channels
from shared.contracts.assignment import (
    CaseAwaitingCoordinator,
    CoordinationStopped,
    CoordinatorAppointed,
    CoordinatorOverLimit,
    DutyOverdue,
    HandoverCompleted,
    HandoverPlanned,
)
from shared.contracts.commands import next_offset
from shared.contracts.consent import (
    ConsentEnded,
    ConsentKind,
    ConsentRecorded,
    EndCause,
    GateActor,
    GateDecision,
    GiverRole,
    MayQuery,
)
from shared.contracts.envelope import Envelope
from shared.contracts.federation import (
    HandoverAnswered,
    HandoverProposed,
    MessageRefused,
    ReceiptOverdue,
)
from shared.contracts.intake import AppealRegistered, CaseOpened, DecisionMade
from shared.contracts.notifications import (
    ChannelInfo,
    Channels,
    Deliveries,
    DeliveryDead,
    DeliveryView,
    GetPolicy,
    GetPreferences,
    Inbox,
    ListChannels,
    ListDeliveries,
    ListInbox,
    ListReminders,
    ListUnreadImportant,
    MarkRead,
    MarkReadResult,
    NoticeEscalated,
    NotificationView,
    Policy,
    Preferences,
    Reminders,
    ReminderView,
    ResendDelivery,
    SetPolicy,
    SetPreferences,
    SweepNotifications,
    SweepResult,
    UnreadImportant,
    UnreadNotice,
    ke_inbox,
)
from shared.contracts.planning import (
    EvaluationOverdue,
    MeetingCancelled,
    MeetingScheduled,
    PlanCreated,
    PlanScheduleChanged,
)
from shared.contracts.replies import Reply, refuse
from shared.contracts.subjects import DEAD_LETTER_STREAM, command_subject, dead_letter_subject
from shared.db.uow import UnitOfWork
from shared.gate import ask_gate
from shared.logging import get_logger
from shared.service import ServiceContext

from . import reminders as rem
from .dispatch import Dispatcher, resend
from .domain import (
    AUDIENCES,
    NoticeKind,
    ReminderKind,
    digest_due,
    local_date,
    mask,
    start_of_day,
)
from .notify import NOTICE_NS, Notifier, Target
from .store import (
    CaseCoordinator,
    Delivery,
    Notification,
    OrgPolicy,
    ParentConsent,
    Recipient,
    Reminder,
)

log = get_logger(__name__)
_RENEWED_AT_16 = frozenset({ConsentKind.IP, ConsentKind.COORDINATOR})

DISPATCH_EVERY_S = 1.0
Pairs = set[tuple[uuid.UUID, str]]


def build_channels(ctx: ServiceContext) -> dict[str, Channel]:
    """The channels this instance enables: those ``KENETT_CHANNELS`` names, or else every
    installed channel its settings configure (e-mail needs an SMTP host, webhooks a key)."""
    wanted = ctx.settings.channels
    out: dict[str, Channel] = {}
    for name, installed in discover_channels().items():
        plugin = installed.plugin
        if name in (wanted or ()) or (wanted is None and plugin.configured(ctx.settings)):
            out[name] = plugin.factory(ctx.settings)
    unknown = sorted(set(wanted or ()) - set(out))
    if unknown:
        log.warning("channels named in KENETT_CHANNELS are not installed", channels=unknown)
    return out


@dataclass
class Runtime:
    """One notifications service in one process: its channels, notifier and dispatcher."""

    ctx: ServiceContext
    channels: dict[str, Channel]
    notifier: Notifier = field(init=False)
    dispatcher: Dispatcher = field(init=False)

    def __post_init__(self) -> None:
        db = self.ctx.db  # None where only the router is built (the AsyncAPI document)
        # The policy is cached only where this process is the database's one writer (SQLite,
        # all-in-one): there every change is seen at once. On PostgreSQL other instances may
        # change it, so it is read for every notice (``Notifier.policy``).
        source = (db.url, db.schema) if db is not None and db.is_sqlite else None
        self.notifier = Notifier(self.channels, source=source)
        self.dispatcher = Dispatcher(self.ctx, self.channels)
        self._sweeping = asyncio.Lock()  # the background sweep and the command take turns

    async def relatives_allowed(self, pairs: list[tuple[uuid.UUID, str]]) -> Pairs:
        """Which relatives may be told anything at all (the gate's "notify", R8)."""
        allowed: Pairs = set()
        for case_id, relative in pairs:
            decision = await ask_gate(
                self.ctx.nc,
                self.ctx.org,
                MayQuery(
                    actor=self.ctx.actor,
                    case_id=case_id,
                    who=GateActor(kind="next_of_kin", id=relative),
                    action="notify",
                ),
                timeout=self.ctx.settings.command_timeout_s,
            )
            if decision.allow:
                allowed.add((case_id, relative))
        return allowed

    async def relatives_of(self, case_id: uuid.UUID) -> Pairs:
        async with self.ctx.uow(readonly=True) as uow:
            registered = await rem.next_of_kin_of(uow, [case_id])
            pairs = [(case_id, r.relative) for r in registered if r.relative]
        return await self.relatives_allowed(pairs)

    # --- the sweep ------------------------------------------------------------------------

    async def sweep(self) -> SweepResult:
        async with self._sweeping:
            return await self._sweep()

    async def _sweep(self) -> SweepResult:
        result = SweepResult()
        result.reminders = await self.fire_reminders()
        result.escalated = await self.escalate()
        result.digests = await self.digests()
        sent = await self.dispatcher.run_once()
        result.sent, result.retrying, result.dead = sent.sent, sent.retrying, sent.dead
        return result

    async def fire_reminders(self) -> int:
        ctx, total = self.ctx, 0
        now = ctx.clock.now()
        while True:
            async with ctx.uow(readonly=True) as uow:
                policy = await self.notifier.policy(uow)
                batch = await rem.due_batch(uow, now)
                registered = await rem.next_of_kin_of(uow, [r.case_id for r in batch if r.case_id])
                pairs = rem.wanted_relatives(batch, registered)
                ids = [r.id for r in batch]
            if not ids:
                return total
            allowed = await self.relatives_allowed(pairs)
            async with ctx.uow() as uow:
                await uow.lock("notifications-reminders")
                rows = await uow.session.exec(
                    select(Reminder).where(col(Reminder.id).in_(ids)).with_for_update()
                )
                total += await rem.fire(uow, self.notifier, policy, list(rows), allowed, ctx.actor)
                await uow.commit()
            if len(ids) < rem.BATCH:
                return total

    async def escalate(self) -> int:
        """Important notices nobody has read in time go to the org's escalation recipient."""
        ctx, total = self.ctx, 0
        while True:
            async with ctx.uow() as uow:
                policy = await self.notifier.policy(uow)
                now = uow.clock.now()
                cutoff = now - timedelta(hours=policy.escalate_after_hours)
                rows = list(
                    await uow.session.exec(
                        select(Notification)
                        .where(
                            Notification.org == uow.org,
                            col(Notification.important).is_(True),
                            col(Notification.read_at).is_(None),
                            col(Notification.escalated_at).is_(None),
                            col(Notification.created_at) <= cutoff,
                        )
                        .order_by(col(Notification.created_at))
                        .limit(rem.BATCH)
                        .with_for_update(skip_locked=True)
                    )
                )
                to = policy.escalation_recipient
                target = Target(to.kind, to.recipient_id(uow.org))
                for n in rows:
                    n.escalated_at = now
                    total += await self.notifier.notify(
                        uow,
                        trigger=n.id,
                        kind=NoticeKind.UNREAD_ESCALATION,
                        case_id=n.case_id,
                        case_ref=n.case_ref,
                        targets=[target],
                        actor=ctx.actor,
                        count=int(policy.escalate_after_hours),
                        policy=policy,
                    )
                    uow.emit(
                        NoticeEscalated(
                            notification_id=n.id,
                            case_id=n.case_id,
                            kind=n.kind,
                            escalated_to=target.id,
                            unread_since=n.created_at,
                        ),
                        actor=ctx.actor,
                        case_id=n.case_id,
                    )
                await uow.commit()
            if len(rows) < rem.BATCH:
                return total

    async def digests(self) -> int:
        """Once a day at the org's digest time: one message per channel for each recipient who
        chose a digest, counting the notices still unread."""
        made = 0
        async with self.ctx.uow() as uow:
            policy = await self.notifier.policy(uow)
            now = uow.clock.now()
            recipients = list(
                await uow.session.exec(
                    select(Recipient)
                    .where(Recipient.org == uow.org, col(Recipient.digest).is_(True))
                    .with_for_update()
                )
            )
            for r in recipients:
                day = digest_due(now, policy.digest_at, r.last_digest_on)
                if day is None:
                    continue
                r.last_digest_on = day
                held = list(
                    await uow.session.exec(
                        select(Delivery, Notification.read_at)
                        .join(Notification, col(Notification.id) == col(Delivery.notification_id))
                        .where(
                            Delivery.recipient_id == r.recipient_id,
                            Delivery.status == "held_digest",
                        )
                    )
                )
                by_channel: dict[str, list[tuple[Delivery, Any]]] = {}
                for d, read_at in held:
                    by_channel.setdefault(d.channel, []).append((d, read_at))
                for channel, items in by_channel.items():
                    unread = sum(1 for _, read_at in items if read_at is None)
                    digest_id = uuid.uuid5(NOTICE_NS, f"digest:{r.recipient_id}:{channel}:{day}")
                    for d, _ in items:
                        d.status, d.digest_id = ("digested" if unread else "skipped"), digest_id
                    if not unread or await uow.session.get(Delivery, digest_id) is not None:
                        continue
                    uow.session.add(
                        Delivery(
                            id=digest_id,
                            org=uow.org,
                            notification_id=None,
                            recipient_id=r.recipient_id,
                            channel=channel,
                            kind="digest",
                            status="pending",
                            next_attempt_at=now,
                            created_at=now,
                            count=unread,
                            digest_day=day,
                        )
                    )
                    made += 1
            await uow.commit()
        return made

    # --- background work ------------------------------------------------------------------

    def start(self) -> None:
        async def sweeping() -> None:
            while True:
                try:
                    result = await self.sweep()
                    if result.reminders or result.escalated or result.dead:
                        log.info(
                            "notifications sweep",
                            reminders=result.reminders,
                            escalated=result.escalated,
                            dead=result.dead,
                        )
                except Exception as exc:  # the database or the gate is away: next time
                    log.warning("notifications sweep failed", error=type(exc).__name__)
                await asyncio.sleep(self.ctx.settings.notify_sweep_s)

        async def dispatching() -> None:
            while True:
                self.dispatcher.wake.clear()  # before the round: a wake during it is kept
                try:
                    await self.dispatcher.run_once()
                except Exception as exc:
                    log.warning("notifications dispatch failed", error=type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.dispatcher.wake.wait(), DISPATCH_EVERY_S)

        self.ctx.tasks.append(asyncio.create_task(sweeping(), name="notifications-sweeper"))
        self.ctx.tasks.append(asyncio.create_task(dispatching(), name="notifications-dispatcher"))

    async def close(self) -> None:
        for channel in self.channels.values():
            try:
                await channel.close()
            except Exception as exc:
                log.warning("channel close failed", channel=channel.name, error=type(exc).__name__)


_RUNTIMES: dict[int, Runtime] = {}


def runtime_of(ctx: ServiceContext) -> Runtime:
    return _RUNTIMES[id(ctx)]


# --- Events: who is told ----------------------------------------------------------------------


def make_event_handlers(
    rt: Runtime,
) -> list[tuple[str, type[Any], Callable[..., Awaitable[None]], Any]]:
    notifier, ctx = rt.notifier, rt.ctx
    # Deliveries just made are sent without waiting for the next poll (``notify`` wakes the
    # dispatcher on commit only when it made one to send).
    wake = rt.dispatcher.wake.set

    async def tell(
        uow: UnitOfWork,
        env: Envelope,
        kind: NoticeKind,
        *,
        case_id: uuid.UUID | None,
        case_ref: str | None,
        named: list[dict[str, str]] | None = None,
        allowed: Pairs | None = None,
        on: Any = None,
        count: int | None = None,
        problem: str | None = None,
    ) -> int:
        relatives = sorted({rel for c, rel in (allowed or set()) if c == case_id})
        who, trouble = await rem.targets(
            uow,
            AUDIENCES[kind],
            case_id=case_id,
            named=named or [],
            relatives=relatives,
            allowed=allowed,
        )
        return await notifier.notify(
            uow,
            trigger=env.id,
            kind=kind,
            case_id=case_id,
            case_ref=case_ref,
            targets=who,
            actor=env.actor,
            causation=env,
            on=on,
            count=count,
            problem=problem or trouble,
            wake=wake,
        )

    async def set_coordinator(
        uow: UnitOfWork, case_id: uuid.UUID, coordinator: uuid.UUID | None
    ) -> None:
        await rem.set_coordinator(uow, case_id, coordinator)

    async def on_appointed(uow: UnitOfWork, env: Envelope, e: CoordinatorAppointed) -> None:
        """The coordinator is told (R9); a case no longer waits for one (R11)."""
        await set_coordinator(uow, e.case_id, e.coordinator_id)
        await tell(
            uow,
            env,
            NoticeKind.COORDINATOR_APPOINTED,
            case_id=e.case_id,
            case_ref=e.case_ref,
            named=[{"kind": "coordinator", "id": str(e.coordinator_id)}],
        )
        waiting = await rem.by_key(uow, f"case:{e.case_id}:awaiting")
        if waiting is not None:
            await rem.deactivate(uow, [waiting])

    async def may_coordinate(env: Envelope, e: PlanCreated) -> GateDecision:
        who = GateActor(kind="coordinator", id=str(e.coordinator_id))
        return await gate.ask(ctx, e.case_id, who, "coordinate")

    async def on_plan_created(
        uow: UnitOfWork, env: Envelope, e: PlanCreated, gate: GateDecision
    ) -> None:
        """The coordinator hears a draft plan waits (R9), if coordination still stands."""
        if gate.allow:
            await tell(uow, env, NoticeKind.PLAN_CREATED, case_id=e.case_id, case_ref=e.case_ref)

    async def on_stopped(uow: UnitOfWork, env: Envelope, e: CoordinationStopped) -> None:
        await set_coordinator(uow, e.case_id, None)

    async def on_consent_recorded(uow: UnitOfWork, env: Envelope, e: ConsentRecorded) -> None:
        """Consents given on a child's behalf (by parents, or barnevernet where it has taken
        over care) are remembered: they lapse at 16 (R6), and the renewal is due before then. A
        young person who has consented themself (in advance, valid from the birthday) is not
        reminded to renew; if a consent on their behalf still lapses unrenewed, its end tells
        them then."""
        if e.given_by_role in (GiverRole.PARENT, GiverRole.BARNEVERN):
            await uow.get_or_insert(
                ParentConsent,
                e.consent_id,
                {"consent_id": e.consent_id, "org": uow.org, "case_id": e.case_id},
            )
        elif e.given_by_role is GiverRole.PERSON and e.kind in _RENEWED_AT_16:
            renewal = await rem.by_key(uow, f"case:{e.case_id}:sixteen")
            if renewal is not None:
                await rem.deactivate(uow, [renewal])

    async def on_consent_ended(uow: UnitOfWork, env: Envelope, e: ConsentEnded) -> None:
        """A parent's consent lapsed at 16 (R6): the coordinator and the young person hear."""
        row = await uow.session.get(ParentConsent, e.consent_id)
        if row is not None:
            row.active = False
        else:  # the end came first: remembered, so a late record never counts
            uow.session.add(
                ParentConsent(consent_id=e.consent_id, org=uow.org, case_id=e.case_id, active=False)
            )
        if e.cause is not EndCause.RENEWAL_NEEDED:
            return
        coordinator = await uow.session.get(CaseCoordinator, e.case_id)
        if coordinator is not None and coordinator.coordinator_id is not None:
            await tell(
                uow,
                env,
                NoticeKind.CONSENT_RENEWAL_COORDINATOR,
                case_id=e.case_id,
                case_ref=e.case_ref,
            )
        await tell(
            uow, env, NoticeKind.CONSENT_RENEWAL_PERSON, case_id=e.case_id, case_ref=e.case_ref
        )

    async def on_case_opened(uow: UnitOfWork, env: Envelope, e: CaseOpened) -> None:
        """A child's case: a reminder before the 16th birthday, when parents' consents lapse
        and the young person decides (R6)."""
        birthday = rem.sixteenth_birthday(e.birth_date)
        if start_of_day(birthday) <= uow.clock.now():
            return
        policy = await notifier.policy(uow)
        await rem.upsert(
            uow,
            policy,
            key=f"case:{e.case_id}:sixteen",
            kind=ReminderKind.CONSENT_RENEWAL,
            case_id=e.case_id,
            case_ref=e.case_ref,
            due_at=start_of_day(birthday),
            shown_on=birthday,
            source=e.case_id,
        )

    async def on_awaiting(uow: UnitOfWork, env: Envelope, e: CaseAwaitingCoordinator) -> None:
        """The KE is told at once (R11, R18), and again if the case still waits. Not when a
        decision known here refused the case a coordinator after what assignment knew when it
        flagged the case (R4): the event is stale, and the case waits for nobody."""
        if await rem.awaiting_is_stale(uow, e.case_id, e.coordinator_decided_at):
            return
        await tell(
            uow, env, NoticeKind.CASE_NEEDS_COORDINATOR, case_id=e.case_id, case_ref=e.case_ref
        )
        policy = await notifier.policy(uow)
        await rem.upsert(
            uow,
            policy,
            key=f"case:{e.case_id}:awaiting",
            kind=ReminderKind.WITHOUT_COORDINATOR,
            case_id=e.case_id,
            case_ref=e.case_ref,
            due_at=env.occurred_at,
            shown_on=local_date(env.occurred_at),
            source=e.case_id,
            keep_due=True,
        )

    async def on_over_limit(uow: UnitOfWork, env: Envelope, e: CoordinatorOverLimit) -> None:
        """The KE and the coordinator hear that a caseload went over the limit (R10)."""
        await tell(
            uow,
            env,
            NoticeKind.COORDINATOR_OVER_LIMIT,
            case_id=None,
            case_ref=None,
            named=[{"kind": "coordinator", "id": str(e.coordinator_id)}],
            count=e.caseload,
        )

    async def on_duty_overdue(uow: UnitOfWork, env: Envelope, e: DutyOverdue) -> None:
        """The responsible coordinator hears of an overdue duty (R12, R19); the KE if nobody is."""
        who = (
            Target("coordinator", e.coordinator_id)
            if e.coordinator_id is not None
            else Target("ke", ke_inbox(uow.org))
        )
        await notifier.notify(
            uow,
            trigger=env.id,
            kind=NoticeKind.DUTY_OVERDUE,
            case_id=e.case_id,
            case_ref=e.case_ref,
            targets=[who],
            actor=env.actor,
            causation=env,
            wake=wake,
        )

    async def on_evaluation_overdue(uow: UnitOfWork, env: Envelope, e: EvaluationOverdue) -> None:
        """The coordinator sees that goals and measures are evaluated (R9, R16), and the plan
        revised on its dates (R14 point 7)."""
        kind = (
            NoticeKind.REVISION_OVERDUE
            if e.item_kind == "revision"
            else NoticeKind.EVALUATION_OVERDUE
        )
        await tell(uow, env, kind, case_id=e.case_id, case_ref=e.case_ref)

    async def on_schedule(uow: UnitOfWork, env: Envelope, e: PlanScheduleChanged) -> None:
        """The plan's dates become reminders: evaluations (R16) and measure deadlines, told to
        the coordinator and whoever the measure names as responsible."""
        policy = await notifier.policy(uow)
        keep: set[uuid.UUID] = set()
        for item in e.items:
            if item.evaluation_on is not None:
                kind = (
                    ReminderKind.REVISION
                    if item.item_kind == "revision"
                    else ReminderKind.EVALUATION
                )
                row = await rem.upsert(
                    uow,
                    policy,
                    key=f"plan:{e.plan_id}:{item.item_id}:{kind.value}",
                    kind=kind,
                    case_id=e.case_id,
                    case_ref=e.case_ref,
                    due_at=start_of_day(item.evaluation_on),
                    shown_on=item.evaluation_on,
                    source=e.plan_id,
                    item_id=item.item_id,
                )
                keep.add(row.id)
            if item.item_kind == "measure" and item.deadline is not None:
                target = (
                    rem.party_target(uow.org, e.case_id, item.responsible)
                    if item.responsible
                    else None
                )
                row = await rem.upsert(
                    uow,
                    policy,
                    key=f"plan:{e.plan_id}:{item.item_id}:deadline",
                    kind=ReminderKind.MEASURE_DEADLINE,
                    case_id=e.case_id,
                    case_ref=e.case_ref,
                    due_at=start_of_day(rem.day_after(item.deadline)),
                    shown_on=item.deadline,
                    source=e.plan_id,
                    item_id=item.item_id,
                    recipients=[target] if target else [],
                )
                keep.add(row.id)
        stale = [
            r
            for r in await rem.of_source(
                uow,
                e.plan_id,
                [ReminderKind.EVALUATION, ReminderKind.REVISION, ReminderKind.MEASURE_DEADLINE],
            )
            if r.id not in keep
        ]
        await rem.deactivate(uow, stale)

    async def relatives_gate(env: Envelope, e: Any) -> Pairs:
        return await rt.relatives_of(e.case_id)

    async def on_meeting(
        uow: UnitOfWork, env: Envelope, e: MeetingScheduled, allowed: Pairs
    ) -> None:
        """The group's members, the person and permitted relatives are called (R13); a
        reminder follows before the meeting."""
        named = [{"kind": "member", "id": str(r)} for r in e.recipients]
        await tell(
            uow,
            env,
            NoticeKind.MEETING_SCHEDULED,
            case_id=e.case_id,
            case_ref=e.case_ref,
            named=named,
            allowed=allowed,
        )
        policy = await notifier.policy(uow)
        await rem.upsert(
            uow,
            policy,
            key=f"meeting:{e.meeting_id}",
            kind=ReminderKind.MEETING,
            case_id=e.case_id,
            case_ref=e.case_ref,
            due_at=e.at,
            shown_on=local_date(e.at),
            source=e.meeting_id,
            recipients=named,
        )

    async def on_meeting_cancelled(
        uow: UnitOfWork, env: Envelope, e: MeetingCancelled, allowed: Pairs
    ) -> None:
        """Those called hear that the meeting is off; its reminder stops."""
        row = await rem.by_key(uow, f"meeting:{e.meeting_id}")
        if row is None:
            return
        await rem.deactivate(uow, [row])
        await tell(
            uow,
            env,
            NoticeKind.MEETING_CANCELLED,
            case_id=e.case_id,
            case_ref=e.case_ref,
            named=json.loads(row.recipients),
            allowed=allowed,
        )

    async def on_decision(uow: UnitOfWork, env: Envelope, e: DecisionMade) -> None:
        """An IP decision's appeal deadline (R3): the KE is reminded before it and when it
        has passed without an appeal. A decision against a coordinator (R4) takes the case off
        the KE's reminders that it still has none."""
        if e.kind == "coordinator":
            refused = await rem.record_coordinator_decision(
                uow, e.case_id, env.occurred_at, refused=not e.granted
            )
            waiting = await rem.by_key(uow, f"case:{e.case_id}:awaiting")
            if refused and waiting is not None:
                await rem.deactivate(uow, [waiting])
        if e.appeal_deadline is None:
            return
        policy = await notifier.policy(uow)
        await rem.upsert(
            uow,
            policy,
            key=f"decision:{e.decision_id}:appeal",
            kind=ReminderKind.APPEAL_DEADLINE,
            case_id=e.case_id,
            case_ref=e.case_ref,
            due_at=start_of_day(rem.day_after(e.appeal_deadline)),
            shown_on=e.appeal_deadline,
            source=e.decision_id,
        )

    async def on_appeal(uow: UnitOfWork, env: Envelope, e: AppealRegistered) -> None:
        """An appeal came: the deadline reminders stop, and the KE must act on it (R3)."""
        row = await rem.by_key(uow, f"decision:{e.decision_id}:appeal")
        if row is not None:
            await rem.deactivate(uow, [row])
        await tell(uow, env, NoticeKind.APPEAL_REGISTERED, case_id=e.case_id, case_ref=e.case_ref)

    async def on_handover_planned(uow: UnitOfWork, env: Envelope, e: HandoverPlanned) -> None:
        """Both coordinators hear of a planned change (R11); the person hears they get a new
        coordinator."""
        on = local_date(e.overlap_start)
        await tell(
            uow,
            env,
            NoticeKind.HANDOVER_PLANNED,
            case_id=e.case_id,
            case_ref=e.case_ref,
            named=[
                {"kind": "coordinator", "id": str(e.to_coordinator_id)},
                {"kind": "coordinator", "id": str(e.from_coordinator_id)},
            ],
            on=on,
        )
        await tell(
            uow,
            env,
            NoticeKind.NEW_COORDINATOR_FOR_PERSON,
            case_id=e.case_id,
            case_ref=e.case_ref,
            on=on,
        )

    async def on_handover_completed(uow: UnitOfWork, env: Envelope, e: HandoverCompleted) -> None:
        await tell(
            uow,
            env,
            NoticeKind.HANDOVER_COMPLETED,
            case_id=e.case_id,
            case_ref=e.case_ref,
            named=[
                {"kind": "coordinator", "id": str(e.from_coordinator_id)},
                {"kind": "coordinator", "id": str(e.to_coordinator_id)},
            ],
        )

    # Federation (R17): the KE hears what another organisation did with what was sent from
    # here. The events name the local case (if any) in the envelope, never its reference.

    async def on_message_refused(uow: UnitOfWork, env: Envelope, e: MessageRefused) -> None:
        """Another organisation refused a message sent from here; the reason is in the link."""
        await tell(uow, env, NoticeKind.XORG_MESSAGE_REFUSED, case_id=env.case_id, case_ref=None)

    async def on_receipt_overdue(uow: UnitOfWork, env: Envelope, e: ReceiptOverdue) -> None:
        """A message sent from here has had no receipt in time."""
        await tell(
            uow,
            env,
            NoticeKind.XORG_RECEIPT_OVERDUE,
            case_id=env.case_id,
            case_ref=None,
            on=local_date(e.sent_at),
        )

    async def on_handover_proposed(uow: UnitOfWork, env: Envelope, e: HandoverProposed) -> None:
        """Another organisation proposes that this one takes over coordination (R11, R17)."""
        await tell(
            uow,
            env,
            NoticeKind.XORG_HANDOVER_PROPOSED,
            case_id=env.case_id,
            case_ref=None,
            on=e.start,
        )

    async def on_handover_answered(uow: UnitOfWork, env: Envelope, e: HandoverAnswered) -> None:
        """The other organisation accepted or refused the handover proposed from here."""
        await tell(uow, env, NoticeKind.XORG_HANDOVER_ANSWERED, case_id=env.case_id, case_ref=None)

    async def on_delivery_dead(uow: UnitOfWork, env: Envelope, e: DeliveryDead) -> None:
        """A delivery that gave up is copied to the dead-letter stream, where ``kenett dlq``
        shows it with the reason and ``kenett dlq resend`` sends it again."""
        from shared.bus.deadletter import (
            H_AT,
            H_CONSUMER,
            H_DELIVERIES,
            H_REASON,
            H_RESEND,
            H_SUBJECT,
        )

        await ctx.js.publish(
            dead_letter_subject(ctx.org, ctx.name, "delivery"),
            env.model_dump_json().encode(),
            stream=DEAD_LETTER_STREAM,
            headers={
                H_REASON: f"{e.channel}: {e.reason}",
                H_SUBJECT: DeliveryDead.subject(ctx.org),
                H_CONSUMER: f"notifications-delivery-{e.channel}",
                H_DELIVERIES: str(e.attempts),
                H_AT: env.occurred_at.isoformat(),
                H_RESEND: f"notifications.resend {json.dumps({'delivery_id': str(e.delivery_id)})}",
                "Nats-Msg-Id": f"dlq:delivery:{env.id}",
            },
        )

    return [
        ("coordinator-appointed", CoordinatorAppointed, on_appointed, None),
        ("plan-created", PlanCreated, on_plan_created, may_coordinate),
        ("coordination-stopped", CoordinationStopped, on_stopped, None),
        ("consent-recorded", ConsentRecorded, on_consent_recorded, None),
        ("consent-ended", ConsentEnded, on_consent_ended, None),
        ("case-opened", CaseOpened, on_case_opened, None),
        ("case-awaiting-coordinator", CaseAwaitingCoordinator, on_awaiting, None),
        ("coordinator-over-limit", CoordinatorOverLimit, on_over_limit, None),
        ("duty-overdue", DutyOverdue, on_duty_overdue, None),
        ("evaluation-overdue", EvaluationOverdue, on_evaluation_overdue, None),
        ("schedule-changed", PlanScheduleChanged, on_schedule, None),
        ("meeting-scheduled", MeetingScheduled, on_meeting, relatives_gate),
        ("meeting-cancelled", MeetingCancelled, on_meeting_cancelled, relatives_gate),
        ("decision-made", DecisionMade, on_decision, None),
        ("appeal-registered", AppealRegistered, on_appeal, None),
        ("handover-planned", HandoverPlanned, on_handover_planned, None),
        ("handover-completed", HandoverCompleted, on_handover_completed, None),
        ("xorg-message-refused", MessageRefused, on_message_refused, None),
        ("xorg-receipt-overdue", ReceiptOverdue, on_receipt_overdue, None),
        ("xorg-handover-proposed", HandoverProposed, on_handover_proposed, None),
        ("xorg-handover-answered", HandoverAnswered, on_handover_answered, None),
        ("delivery-dead", DeliveryDead, on_delivery_dead, None),
    ]


# --- Requests: the inbox, preferences, policy, deliveries -------------------------------------


def _view(n: Notification) -> NotificationView:
    return NotificationView(
        notification_id=n.id,
        case_id=n.case_id,
        kind=n.kind,
        text=n.text,
        created_at=n.created_at,
        read_at=n.read_at,
        important=n.important,
        escalated_at=n.escalated_at,
        problem=n.problem,
    )


async def _unread(uow: UnitOfWork, recipient_id: uuid.UUID) -> int:
    count = await uow.session.exec(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.org == uow.org,
            Notification.recipient_id == recipient_id,
            col(Notification.read_at).is_(None),
        )
    )
    return int(count.one())


async def list_inbox(uow: UnitOfWork, q: ListInbox) -> Inbox:
    """A recipient's inbox, newest first."""
    statement = select(Notification).where(
        Notification.org == uow.org, Notification.recipient_id == q.recipient_id
    )
    if q.unread_only:
        statement = statement.where(col(Notification.read_at).is_(None))
    rows = await uow.session.exec(
        statement.order_by(col(Notification.created_at).desc(), col(Notification.id)).limit(q.limit)
    )
    shown = [_view(n) for n in rows]
    # Each case a shown notice is about is read (the person's own inbox, say): in its log.
    for case_id in dict.fromkeys(v.case_id for v in shown if v.case_id is not None):
        uow.audit(actor=q.actor, action="notifications.inbox", case_id=case_id)
    return Inbox(notifications=shown, unread=await _unread(uow, q.recipient_id))


async def mark_read(uow: UnitOfWork, cmd: MarkRead) -> MarkReadResult:
    """Read or unread again; what still waited to be sent about a read notice is dropped."""
    rows = list(
        await uow.session.exec(
            select(Notification)
            .where(
                Notification.org == uow.org,
                col(Notification.id).in_(cmd.notification_ids),
            )
            .with_for_update()
        )
    )
    found = {n.id: n for n in rows}
    for i, nid in enumerate(cmd.notification_ids):
        n = found.get(nid)
        if n is None or n.recipient_id != cmd.recipient_id:
            raise refuse(
                "not_found",
                "no such notice in this recipient's inbox",
                f"notification_ids.{i}",
                "unknown notice, or another recipient's",
            )
    now = uow.clock.now()
    changed = 0
    for n in rows:
        if cmd.read and n.read_at is None:
            n.read_at, n.read_by = now, cmd.by
            changed += 1
        elif not cmd.read and n.read_at is not None:
            n.read_at, n.read_by = None, None
            changed += 1
    if cmd.read and rows:
        waiting = await uow.session.exec(
            select(Delivery)
            .where(
                col(Delivery.notification_id).in_([n.id for n in rows]),
                col(Delivery.status) == "pending",
                col(Delivery.next_attempt_at) > now,  # held by quiet hours
            )
            .with_for_update()
        )
        for d in waiting:
            d.status, d.last_error = "skipped", "read before it was sent"
    await uow.session.flush()
    return MarkReadResult(changed=changed, unread=await _unread(uow, cmd.recipient_id))


def make_unread_important(rt: Runtime):  # type: ignore[no-untyped-def]
    async def unread_important(uow: UnitOfWork, q: ListUnreadImportant) -> UnreadImportant:
        """Important notices nobody has read after the given time (the org's escalation
        time by default), oldest first, a page at a time."""
        policy = await rt.notifier.policy(uow)
        hours = (
            q.older_than_hours if q.older_than_hours is not None else policy.escalate_after_hours
        )
        now = uow.clock.now()
        unread = (
            Notification.org == uow.org,
            col(Notification.important).is_(True),
            col(Notification.read_at).is_(None),
            col(Notification.created_at) <= now - timedelta(hours=hours),
        )
        total, rows = await uow.page(
            select(Notification),
            unread,
            (col(Notification.created_at), col(Notification.id)),
            offset=q.offset,
            limit=q.limit,
        )
        notices = [
            UnreadNotice(
                notification_id=n.id,
                recipient_id=n.recipient_id,
                recipient_kind=n.recipient_kind,
                case_id=n.case_id,
                kind=n.kind,
                created_at=n.created_at,
                hours_unread=round((now - n.created_at).total_seconds() / 3600, 1),
                escalated_at=n.escalated_at,
            )
            for n in rows
        ]
        return UnreadImportant(
            notices=notices, total=total, next_offset=next_offset(q.offset, len(notices), total)
        )

    return unread_important


def make_preferences(rt: Runtime):  # type: ignore[no-untyped-def]
    channels = rt.channels

    def check_channels(names: list[str], field_name: str) -> None:
        for i, name in enumerate(names):
            if name not in channels:
                raise refuse(
                    "validation_failed",
                    "no such channel",
                    f"{field_name}.{i}",
                    f"installed channels: {', '.join(sorted(channels)) or 'none'}",
                )

    async def describe(uow: UnitOfWork, recipient_id: uuid.UUID, kind: str) -> Preferences:
        row = await uow.session.get(Recipient, recipient_id)
        policy = await rt.notifier.policy(uow)
        prefs = rt.notifier.effective(row, policy)
        return Preferences(
            recipient_id=recipient_id,
            kind=row.kind if row else kind,
            channels=prefs.channels,
            own_channels=json.loads(row.channels) if row and row.channels is not None else None,
            addresses={k: mask(v) for k, v in prefs.addresses.items()},
            quiet_hours=prefs.quiet,
            digest=prefs.digest,
            missing_addresses=[c for c in prefs.channels if not prefs.addresses.get(c)],
        )

    async def set_preferences(uow: UnitOfWork, cmd: SetPreferences) -> Preferences:
        """Store a recipient's choices; every address is checked by its channel first."""
        addresses: dict[str, str] = {}
        for name, address in cmd.addresses.items():
            channel = channels.get(name)
            if channel is None:
                raise refuse(
                    "validation_failed",
                    "no such channel",
                    f"addresses.{name}",
                    f"installed channels: {', '.join(sorted(channels)) or 'none'}",
                )
            try:
                addresses[name] = channel.validate_address(address)
            except AddressInvalid as exc:
                raise refuse(
                    "validation_failed",
                    f"the {name} address is not valid",
                    f"addresses.{name}",
                    str(exc),
                ) from None
        if cmd.channels is not None:
            check_channels(cmd.channels, "channels")
        rid = cmd.recipient.recipient_id(uow.org)
        row = await uow.session.get(Recipient, rid, with_for_update=True)
        if row is None:
            row = Recipient(
                recipient_id=rid,
                org=uow.org,
                kind=cmd.recipient.kind,
                case_id=cmd.recipient.case_id,
                relative=cmd.recipient.relative,
                updated_at=uow.clock.now(),
                updated_by=cmd.actor.id,
            )
            uow.session.add(row)
        row.addresses = json.dumps(addresses, sort_keys=True)
        row.channels = json.dumps(cmd.channels) if cmd.channels is not None else None
        row.quiet_start = cmd.quiet_hours.start.strftime("%H:%M") if cmd.quiet_hours else None
        row.quiet_end = cmd.quiet_hours.end.strftime("%H:%M") if cmd.quiet_hours else None
        row.quiet_off = cmd.quiet_hours_off
        row.digest = cmd.digest
        row.updated_at, row.updated_by = uow.clock.now(), cmd.actor.id
        await uow.session.flush()
        return await describe(uow, rid, cmd.recipient.kind)

    async def get_preferences(uow: UnitOfWork, q: GetPreferences) -> Preferences:
        return await describe(uow, q.recipient.recipient_id(uow.org), q.recipient.kind)

    async def set_policy(uow: UnitOfWork, cmd: SetPolicy) -> Policy:
        """Replace the org's defaults; new lead times apply to every reminder on the clock."""
        check_channels(cmd.policy.default_channels, "policy.default_channels")
        row = await uow.session.get(OrgPolicy, uow.org, with_for_update=True)
        text = cmd.policy.model_dump_json()
        now = uow.clock.now()
        if row is None:
            uow.session.add(
                OrgPolicy(org=uow.org, policy=text, updated_at=now, updated_by=cmd.actor.id)
            )
        else:
            row.policy, row.updated_at, row.updated_by = text, now, cmd.actor.id
        await rem.refresh_leads(uow, cmd.policy)
        # The notifiers' cached policy is replaced once this commits (never before: a rollback
        # keeps the old one). Nothing in this transaction reads the policy after the change.
        org = uow.org
        uow.on_commit(lambda: rt.notifier.policy_committed(org, text))
        return cmd.policy

    async def get_policy(uow: UnitOfWork, q: GetPolicy) -> Policy:
        return await rt.notifier.policy(uow)

    async def list_channels(uow: UnitOfWork, q: ListChannels) -> Channels:
        found = discover_channels()
        return Channels(
            channels=[
                ChannelInfo(
                    name=name,
                    title=c.title or name,
                    description=found[name].plugin.description if name in found else "",
                    respects_quiet_hours=c.respects_quiet_hours,
                    attempts=len(c.backoff_s) + 1,
                )
                for name, c in sorted(channels.items())
            ]
        )

    return set_preferences, get_preferences, set_policy, get_policy, list_channels


def _delivery_view(d: Delivery) -> DeliveryView:
    return DeliveryView(
        delivery_id=d.id,
        notification_id=d.notification_id,
        recipient_id=d.recipient_id,
        channel=d.channel,
        kind=d.kind,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        last_error=d.last_error,
        sent_at=d.sent_at,
        created_at=d.created_at,
        count=d.count,
    )


async def list_deliveries(uow: UnitOfWork, q: ListDeliveries) -> Deliveries:
    statement = select(Delivery).where(Delivery.org == uow.org)
    if q.notification_id is not None:
        statement = statement.where(Delivery.notification_id == q.notification_id)
    if q.recipient_id is not None:
        statement = statement.where(Delivery.recipient_id == q.recipient_id)
    if q.status is not None:
        statement = statement.where(Delivery.status == q.status)
    rows = await uow.session.exec(
        statement.order_by(col(Delivery.created_at).desc(), col(Delivery.id)).limit(q.limit)
    )
    return Deliveries(deliveries=[_delivery_view(d) for d in rows])


def make_resend(rt: Runtime):  # type: ignore[no-untyped-def]
    async def resend_delivery(uow: UnitOfWork, cmd: ResendDelivery) -> DeliveryView:
        """Back in line from the first attempt (after the address was put right, say)."""
        d = await resend(uow, cmd.delivery_id)
        if d is None:
            raise refuse("not_found", "no such delivery", "delivery_id", "unknown delivery")
        uow.on_commit(rt.dispatcher.wake.set)
        await uow.session.flush()
        return _delivery_view(d)

    return resend_delivery


async def list_reminders(uow: UnitOfWork, q: ListReminders) -> Reminders:
    statement = select(Reminder).where(Reminder.org == uow.org)
    if q.case_id is not None:
        statement = statement.where(Reminder.case_id == q.case_id)
    rows = await uow.session.exec(statement.order_by(col(Reminder.due_at)).limit(q.limit))
    return Reminders(
        reminders=[
            ReminderView(
                reminder_id=r.id,
                case_id=r.case_id,
                kind=r.kind,
                item_id=r.item_id,
                due_at=r.due_at,
                active=r.active,
                fired=[s for s in r.fired.split(",") if s],
            )
            for r in rows
        ]
    )


def sweep_responder(router: NatsRouter, rt: Runtime) -> None:
    """The sweep runs several transactions and sends through channels, so it is answered here
    rather than in one unit of work; it is audited like any command."""
    ctx = rt.ctx
    subject = command_subject(ctx.org, ctx.name, SweepNotifications.COMMAND)
    ctx.catalog.append(("command", subject, SweepNotifications))

    @router.subscriber(
        subject, queue=ctx.name, title="notifications.sweep", description=SweepNotifications.__doc__
    )
    async def on_sweep(msg: NatsMessage) -> dict[str, Any]:
        try:
            cmd = SweepNotifications.model_validate_json(msg.body)
        except ValidationError:
            return Reply.failure("validation_failed", "sweep: invalid request").model_dump(
                mode="json"
            )
        try:
            result = await rt.sweep()
        except Exception as exc:
            log.warning("notifications sweep failed", error=type(exc).__name__)
            return Reply.failure(
                "unavailable", "the sweep failed; it is tried again by itself"
            ).model_dump(mode="json")
        async with ctx.uow() as uow:
            uow.audit(actor=cmd.actor, action="notifications.sweep", case_id=None)
            await uow.commit()
        return Reply.success(result).model_dump(mode="json")


def build_router(ctx: ServiceContext) -> NatsRouter:
    """Notifications' subscribers."""
    rt = Runtime(ctx, build_channels(ctx))
    _RUNTIMES[id(ctx)] = rt
    router = NatsRouter()
    for name, event, handler, before in make_event_handlers(rt):
        event_consumer(router, ctx, name=name, event=event, handler=handler, before=before)
    query_responder(router, ctx, query=ListInbox, handler=list_inbox)
    command_responder(router, ctx, command=MarkRead, handler=mark_read)
    query_responder(router, ctx, query=ListUnreadImportant, handler=make_unread_important(rt))
    set_prefs, get_prefs, set_policy, get_policy, list_channels = make_preferences(rt)
    command_responder(router, ctx, command=SetPreferences, handler=set_prefs)
    query_responder(router, ctx, query=GetPreferences, handler=get_prefs)
    command_responder(router, ctx, command=SetPolicy, handler=set_policy)
    query_responder(router, ctx, query=GetPolicy, handler=get_policy, audited=False)
    query_responder(router, ctx, query=ListChannels, handler=list_channels, audited=False)
    query_responder(router, ctx, query=ListDeliveries, handler=list_deliveries)
    command_responder(router, ctx, command=ResendDelivery, handler=make_resend(rt))
    query_responder(router, ctx, query=ListReminders, handler=list_reminders)
    sweep_responder(router, rt)
    return router


async def on_start(ctx: ServiceContext) -> None:
    runtime_of(ctx).start()


async def on_stop(ctx: ServiceContext) -> None:
    from shared.service import stop_tasks

    await stop_tasks(ctx)
    rt = _RUNTIMES.pop(id(ctx), None)
    if rt is not None:
        await rt.close()


__all__ = ["build_router", "on_start", "on_stop", "runtime_of"]
