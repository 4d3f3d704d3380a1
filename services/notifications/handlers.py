"""Notifications' handlers."""

from __future__ import annotations

import uuid

from faststream.nats import NatsRouter
from sqlmodel import col, select

from shared.bus.handlers import Refused, event_consumer, query_responder
from shared.contracts.assignment import (
    CaseAwaitingCoordinator,
    CoordinationStopped,
    CoordinatorAppointed,
    DutyOverdue,
)
from shared.contracts.consent import (
    ConsentEnded,
    EndCause,
    GateActor,
    GateDecision,
    MayQuery,
)
from shared.contracts.envelope import Envelope
from shared.contracts.notifications import (
    Inbox,
    ListInbox,
    NotificationCreated,
    NotificationView,
    ke_inbox,
)
from shared.contracts.planning import EvaluationOverdue, MeetingScheduled, PlanCreated
from shared.db.uow import UnitOfWork
from shared.gate import ask_gate
from shared.service import ServiceContext

from .domain import NoticeKind, UnsafeNotice, render
from .store import CaseCoordinator, Notification


async def _notify(
    uow: UnitOfWork,
    env: Envelope,
    kind: NoticeKind,
    recipient: uuid.UUID,
    case_id: uuid.UUID,
    case_ref: str,
    recipient_kind: str = "coordinator",
) -> None:
    try:
        text = render(kind, case_ref)
    except UnsafeNotice as exc:
        raise Refused(str(exc)) from None
    notification = Notification(
        id=uuid.uuid4(),
        org=uow.org,
        recipient_kind=recipient_kind,
        recipient_id=recipient,
        case_id=case_id,
        kind=kind,
        text=text,
        trigger_event_id=env.id,
        created_at=uow.clock.now(),
    )
    uow.session.add(notification)
    uow.emit(
        NotificationCreated(
            notification_id=notification.id,
            case_id=case_id,
            recipient_id=recipient,
            kind=kind,
            trigger_event_id=env.id,
        ),
        actor=env.actor,
        case_id=case_id,
        causation=env,
    )


async def _set_coordinator(
    uow: UnitOfWork, case_id: uuid.UUID, coordinator_id: uuid.UUID | None
) -> None:
    row = await uow.get_or_insert(
        CaseCoordinator, case_id, {"case_id": case_id, "org": uow.org, "coordinator_id": None}
    )
    row.coordinator_id = coordinator_id


async def on_appointed(uow: UnitOfWork, env: Envelope, event: CoordinatorAppointed) -> None:
    """Tell the coordinator they were appointed (R9)."""
    await _set_coordinator(uow, event.case_id, event.coordinator_id)
    await _notify(
        uow,
        env,
        NoticeKind.COORDINATOR_APPOINTED,
        event.coordinator_id,
        event.case_id,
        event.case_ref,
    )


def make_on_plan_created(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Tell the coordinator a draft plan waits for them (R9), if coordination still stands."""

    async def may_coordinate(env: Envelope, event: PlanCreated) -> GateDecision:
        return await ask_gate(
            ctx.nc,
            ctx.org,
            MayQuery(
                actor=ctx.actor,
                case_id=event.case_id,
                who=GateActor(kind="coordinator", id=str(event.coordinator_id)),
                action="coordinate",
            ),
            timeout=ctx.settings.command_timeout_s,
        )

    async def on_plan_created(
        uow: UnitOfWork, env: Envelope, event: PlanCreated, gate: GateDecision
    ) -> None:
        if not gate.allow:
            return  # the coordinator consent has ended since: no coordination to invite to
        await _notify(
            uow, env, NoticeKind.PLAN_CREATED, event.coordinator_id, event.case_id, event.case_ref
        )

    return on_plan_created, may_coordinate


async def on_coordination_stopped(
    uow: UnitOfWork, env: Envelope, event: CoordinationStopped
) -> None:
    """The case has no coordinator now; notices go to whoever is appointed next."""
    await _set_coordinator(uow, event.case_id, None)


async def on_consent_ended(uow: UnitOfWork, env: Envelope, event: ConsentEnded) -> None:
    """Parents' consent lapsed at 16 (R6): tell the coordinator and the young person."""
    if event.cause is not EndCause.RENEWAL_NEEDED:
        return
    row = await uow.session.get(CaseCoordinator, event.case_id)
    if row is not None and row.coordinator_id is not None:
        await _notify(
            uow,
            env,
            NoticeKind.CONSENT_RENEWAL_COORDINATOR,
            row.coordinator_id,
            event.case_id,
            event.case_ref,
        )
    await _notify(
        uow,
        env,
        NoticeKind.CONSENT_RENEWAL_PERSON,
        event.case_id,
        event.case_id,
        event.case_ref,
        recipient_kind="person",
    )


async def on_case_awaiting(uow: UnitOfWork, env: Envelope, event: CaseAwaitingCoordinator) -> None:
    """The KE is told at once when a case needs a (new) coordinator (R11, R18)."""
    await _notify(
        uow,
        env,
        NoticeKind.CASE_NEEDS_COORDINATOR,
        ke_inbox(uow.org),
        event.case_id,
        event.case_ref,
        recipient_kind="ke",
    )


async def on_duty_overdue(uow: UnitOfWork, env: Envelope, event: DutyOverdue) -> None:
    """The responsible coordinator hears of an overdue duty (R12, R19); the KE if nobody is."""
    if event.coordinator_id is not None:
        await _notify(
            uow, env, NoticeKind.DUTY_OVERDUE, event.coordinator_id, event.case_id, event.case_ref
        )
    else:
        await _notify(
            uow,
            env,
            NoticeKind.DUTY_OVERDUE,
            ke_inbox(uow.org),
            event.case_id,
            event.case_ref,
            recipient_kind="ke",
        )


async def on_evaluation_overdue(uow: UnitOfWork, env: Envelope, event: EvaluationOverdue) -> None:
    """The coordinator sees that goals and measures are evaluated (R9, R16)."""
    await _notify(
        uow, env, NoticeKind.EVALUATION_OVERDUE, event.coordinator_id, event.case_id, event.case_ref
    )


async def on_meeting_scheduled(uow: UnitOfWork, env: Envelope, event: MeetingScheduled) -> None:
    """Every member of the responsibility group is called to the meeting (R13); the notice says
    where to look, not when or where (that stays in kenett)."""
    for recipient in event.recipients:
        await _notify(
            uow,
            env,
            NoticeKind.MEETING_SCHEDULED,
            recipient,
            event.case_id,
            event.case_ref,
            recipient_kind="member",
        )


async def list_inbox(uow: UnitOfWork, q: ListInbox) -> Inbox:
    """A recipient's inbox, newest first."""
    rows = await uow.session.exec(
        select(Notification)
        .where(Notification.org == uow.org, Notification.recipient_id == q.recipient_id)
        .order_by(col(Notification.created_at).desc())
        .limit(200)
    )
    return Inbox(
        notifications=[
            NotificationView(
                notification_id=n.id,
                case_id=n.case_id,
                kind=n.kind,
                text=n.text,
                created_at=n.created_at,
                read_at=n.read_at,
            )
            for n in rows
        ]
    )


def build_router(ctx: ServiceContext) -> NatsRouter:
    """Notifications' subscribers."""
    router = NatsRouter()
    event_consumer(
        router, ctx, name="coordinator-appointed", event=CoordinatorAppointed, handler=on_appointed
    )
    on_plan_created, may_coordinate = make_on_plan_created(ctx)
    event_consumer(
        router,
        ctx,
        name="plan-created",
        event=PlanCreated,
        handler=on_plan_created,
        before=may_coordinate,
    )
    event_consumer(
        router,
        ctx,
        name="coordination-stopped",
        event=CoordinationStopped,
        handler=on_coordination_stopped,
    )
    event_consumer(router, ctx, name="consent-ended", event=ConsentEnded, handler=on_consent_ended)
    event_consumer(
        router,
        ctx,
        name="case-awaiting-coordinator",
        event=CaseAwaitingCoordinator,
        handler=on_case_awaiting,
    )
    event_consumer(router, ctx, name="duty-overdue", event=DutyOverdue, handler=on_duty_overdue)
    event_consumer(
        router,
        ctx,
        name="evaluation-overdue",
        event=EvaluationOverdue,
        handler=on_evaluation_overdue,
    )
    event_consumer(
        router, ctx, name="meeting-scheduled", event=MeetingScheduled, handler=on_meeting_scheduled
    )
    query_responder(router, ctx, query=ListInbox, handler=list_inbox)
    return router
