"""Assignment's handlers."""

from __future__ import annotations

import uuid

from faststream.nats import NatsRouter
from sqlalchemy import func
from sqlmodel import col, select

from shared.bus.handlers import command_responder, event_consumer, query_responder
from shared.contracts.assignment import (
    CaseAwaitingCoordinator,
    CoordinationStopped,
    CoordinatorAppointed,
    CoordinatorList,
    CoordinatorRegistered,
    CoordinatorView,
    ListCoordinators,
    RegisterCoordinator,
    RegisterCoordinatorResult,
)
from shared.contracts.consent import (
    ConsentEnded,
    ConsentKind,
    ConsentRecorded,
    GateActor,
    GateDecision,
    MayQuery,
)
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.uow import UnitOfWork
from shared.gate import ask_gate
from shared.service import ServiceContext

from .domain import NO_CAPACITY, Candidate, pick_coordinator
from .store import Appointment, AssignmentCase, Coordinator


async def _candidates(uow: UnitOfWork) -> list[Candidate]:
    """Active coordinators and their current caseloads, locked against concurrent appointment."""
    load = (
        select(Appointment.coordinator_id, func.count().label("n"))
        .where(col(Appointment.ended_at).is_(None), Appointment.org == uow.org)
        .group_by(col(Appointment.coordinator_id))
        .subquery()
    )
    query = (
        select(Coordinator, func.coalesce(load.c.n, 0))
        .outerjoin(load, load.c.coordinator_id == col(Coordinator.id))
        .where(Coordinator.org == uow.org, col(Coordinator.active).is_(True))
    )
    rows = await uow.session.exec(query)
    return [Candidate(c.id, c.active, int(n), c.caseload_limit, c.registered_at) for c, n in rows]


async def _appoint(
    uow: UnitOfWork,
    case: AssignmentCase,
    coordinator_id: uuid.UUID,
    actor: Actor,
    causation: Envelope | None,
) -> None:
    appointment = Appointment(
        id=uuid.uuid4(),
        org=uow.org,
        case_id=case.case_id,
        coordinator_id=coordinator_id,
        started_at=uow.clock.now(),
    )
    uow.session.add(appointment)
    case.primary_coordinator_id = coordinator_id
    case.awaiting_since = None
    uow.emit(
        CoordinatorAppointed(
            appointment_id=appointment.id,
            case_id=case.case_id,
            case_ref=case.case_ref,
            coordinator_id=coordinator_id,
        ),
        actor=actor,
        case_id=case.case_id,
        causation=causation,
    )
    uow.audit(actor=actor, action="assignment.appoint", case_id=case.case_id)


def make_on_consent(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Appoint a coordinator once the case has coordinator consent (R5, R9, R10)."""

    async def may_coordinate(env: Envelope, event: ConsentRecorded) -> GateDecision | None:
        if event.kind is not ConsentKind.COORDINATOR:
            return None
        # Ask the gate, not the event: the consent may have ended since this event was sent.
        return await ask_gate(
            ctx.nc,
            ctx.org,
            MayQuery(
                actor=ctx.actor,
                case_id=event.case_id,
                who=GateActor(kind="coordinator", id="assignment"),
                action="coordinate",
            ),
            timeout=ctx.settings.command_timeout_s,
        )

    async def on_consent(
        uow: UnitOfWork, env: Envelope, event: ConsentRecorded, gate: GateDecision | None
    ) -> None:
        if event.kind is not ConsentKind.COORDINATOR or gate is None or not gate.allow:
            return
        # The caseload lock first, then rows: the same order as register(), so no deadlock.
        await uow.lock(f"assignment:caseload:{uow.org}")  # R10 holds across instances
        case = await uow.get_or_insert(
            AssignmentCase,
            event.case_id,
            {"case_id": event.case_id, "org": env.org, "case_ref": event.case_ref},
        )
        case.coordinator_consent_id = event.consent_id
        if case.primary_coordinator_id is not None:
            return  # already has a coordinator; a renewed consent changes nothing here
        chosen = pick_coordinator(await _candidates(uow), ctx.settings.caseload_limit)
        if chosen is not None:
            await _appoint(uow, case, chosen.coordinator_id, ctx.actor, env)
        elif case.awaiting_since is None:
            case.awaiting_since = uow.clock.now()
            uow.emit(
                CaseAwaitingCoordinator(
                    case_id=case.case_id, case_ref=case.case_ref, reason=NO_CAPACITY
                ),
                actor=ctx.actor,
                case_id=case.case_id,
                causation=env,
            )

    return on_consent, may_coordinate


def make_on_consent_ended(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Coordination based on a consent stops when it ends (R7). An ended IP consent changes
    nothing here: a person who declines an IP keeps their coordinator (R5)."""

    async def on_consent_ended(uow: UnitOfWork, env: Envelope, event: ConsentEnded) -> None:
        if event.kind is not ConsentKind.COORDINATOR:
            return
        await uow.lock(f"assignment:caseload:{uow.org}")
        case = await uow.session.get(AssignmentCase, event.case_id, with_for_update=True)
        if case is None or case.coordinator_consent_id != event.consent_id:
            return  # a newer consent stands, or the case was never assigned on this one
        case.coordinator_consent_id = None
        case.awaiting_since = None
        coordinator_id = case.primary_coordinator_id
        if coordinator_id is None:
            return
        now = uow.clock.now()
        current = await uow.session.exec(
            select(Appointment).where(
                Appointment.case_id == case.case_id, col(Appointment.ended_at).is_(None)
            )
        )
        for appointment in current:
            appointment.ended_at = now
        case.primary_coordinator_id = None
        uow.emit(
            CoordinationStopped(
                case_id=case.case_id,
                case_ref=case.case_ref,
                coordinator_id=coordinator_id,
                cause=event.cause,
            ),
            actor=ctx.actor,
            case_id=case.case_id,
            causation=env,
        )
        uow.audit(
            actor=ctx.actor,
            action="assignment.stop_coordination",
            case_id=case.case_id,
            detail=f"consent {event.cause}",
        )

    return on_consent_ended


def make_register(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Register a coordinator, then appoint them to waiting cases, oldest first (R11)."""

    async def register(uow: UnitOfWork, cmd: RegisterCoordinator) -> RegisterCoordinatorResult:
        s = uow.session
        await uow.lock(f"assignment:caseload:{uow.org}")
        exists = (
            await s.exec(
                select(Coordinator.id).where(
                    Coordinator.org == uow.org, Coordinator.staff_id == cmd.staff_id
                )
            )
        ).first()
        if exists is not None:
            raise CommandRejected(
                "conflict",
                "coordinator was not registered",
                [FieldError(field="staff_id", reason="is already registered as a coordinator")],
            )
        coordinator = Coordinator(
            id=uuid.uuid4(),
            org=uow.org,
            staff_id=cmd.staff_id,
            display_name=cmd.display_name,
            unit=cmd.unit,
            caseload_limit=cmd.caseload_limit,
            registered_at=uow.clock.now(),
        )
        s.add(coordinator)
        limit = cmd.caseload_limit or ctx.settings.caseload_limit
        uow.emit(
            CoordinatorRegistered(
                coordinator_id=coordinator.id, unit=cmd.unit, caseload_limit=limit
            ),
            actor=cmd.actor,
            case_id=None,
            correlation_id=cmd.correlation_id,
        )
        waiting = await s.exec(
            select(AssignmentCase)
            .where(AssignmentCase.org == uow.org, col(AssignmentCase.awaiting_since).is_not(None))
            .order_by(col(AssignmentCase.awaiting_since))
            .limit(limit)
        )
        appointed = []
        for case in list(waiting):
            await _appoint(uow, case, coordinator.id, cmd.actor, None)
            appointed.append(case.case_id)
        return RegisterCoordinatorResult(
            coordinator_id=coordinator.id, appointed_case_ids=appointed
        )

    return register


def make_list(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """The registry with caseloads against limits (R10)."""

    async def list_coordinators(uow: UnitOfWork, q: ListCoordinators) -> CoordinatorList:
        default = ctx.settings.caseload_limit
        loads = {c.coordinator_id: c for c in await _candidates(uow)}
        rows = await uow.session.exec(
            select(Coordinator)
            .where(Coordinator.org == uow.org)
            .order_by(col(Coordinator.registered_at))
        )
        out = []
        for c in rows:
            cand = loads.get(c.id)
            load = cand.caseload if cand else 0
            limit = c.caseload_limit or default
            out.append(
                CoordinatorView(
                    coordinator_id=c.id,
                    staff_id=c.staff_id,
                    unit=c.unit,
                    active=c.active,
                    caseload=load,
                    caseload_limit=limit,
                    free=max(0, limit - load) if c.active else 0,
                )
            )
        return CoordinatorList(coordinators=out)

    return list_coordinators


def build_router(ctx: ServiceContext) -> NatsRouter:
    """Assignment's subscribers."""
    router = NatsRouter()
    on_consent, may_coordinate = make_on_consent(ctx)
    event_consumer(
        router,
        ctx,
        name="consent-recorded",
        event=ConsentRecorded,
        handler=on_consent,
        before=may_coordinate,
    )
    event_consumer(
        router, ctx, name="consent-ended", event=ConsentEnded, handler=make_on_consent_ended(ctx)
    )
    command_responder(router, ctx, command=RegisterCoordinator, handler=make_register(ctx))
    query_responder(router, ctx, query=ListCoordinators, handler=make_list(ctx), audited=False)
    return router
