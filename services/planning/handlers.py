"""Planning's handlers."""

from __future__ import annotations

import uuid

from faststream.nats import NatsRouter
from sqlmodel import select

from shared.bus.handlers import event_consumer, query_responder
from shared.contracts.assignment import CoordinatorAppointed
from shared.contracts.consent import (
    ConsentEnded,
    ConsentKind,
    ConsentRecorded,
    GateDecision,
    MayQuery,
)
from shared.contracts.envelope import Envelope
from shared.contracts.planning import (
    GetPlan,
    PlanAccess,
    PlanCreated,
    PlanFrozen,
    PlanUnfrozen,
    PlanView,
    ViewPlan,
)
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.uow import UnitOfWork
from shared.gate import require
from shared.service import ServiceContext

from .domain import PlanStatus, ready_for_plan
from .store import Plan, PlanningCase


async def _case(uow: UnitOfWork, case_id: uuid.UUID, case_ref: str) -> PlanningCase:
    return await uow.get_or_insert(
        PlanningCase, case_id, {"case_id": case_id, "org": uow.org, "case_ref": case_ref}
    )


async def _plan_if_ready(uow: UnitOfWork, case: PlanningCase, env: Envelope) -> None:
    if not ready_for_plan(case.ip_consent_id, case.coordinator_id):
        return
    existing = (await uow.session.exec(select(Plan.id).where(Plan.case_id == case.case_id))).first()
    if existing is not None:
        return
    assert case.coordinator_id is not None
    plan = Plan(
        id=uuid.uuid4(),
        org=uow.org,
        case_id=case.case_id,
        case_ref=case.case_ref,
        coordinator_id=case.coordinator_id,
        status=PlanStatus.DRAFT,
        created_at=uow.clock.now(),
    )
    uow.session.add(plan)
    actor = env.actor
    uow.emit(
        PlanCreated(
            plan_id=plan.id,
            case_id=case.case_id,
            case_ref=case.case_ref,
            coordinator_id=case.coordinator_id,
        ),
        actor=actor,
        case_id=case.case_id,
        causation=env,
    )


async def _plan_of(uow: UnitOfWork, case_id: uuid.UUID) -> Plan | None:
    return (
        await uow.session.exec(select(Plan).where(Plan.case_id == case_id).with_for_update())
    ).first()


async def on_consent(uow: UnitOfWork, env: Envelope, event: ConsentRecorded) -> None:
    """IP consent (R5): with a coordinator in place, a draft plan follows; a frozen plan thaws."""
    if event.kind is not ConsentKind.IP:
        return
    case = await _case(uow, event.case_id, event.case_ref)
    case.ip_consent_id = event.consent_id
    plan = await _plan_of(uow, case.case_id)
    if plan is not None and plan.status == PlanStatus.FROZEN:
        plan.status = plan.frozen_from or PlanStatus.DRAFT
        plan.frozen_from = None
        uow.emit(
            PlanUnfrozen(plan_id=plan.id, case_id=plan.case_id, case_ref=plan.case_ref),
            actor=env.actor,
            case_id=plan.case_id,
            causation=env,
        )
    await _plan_if_ready(uow, case, env)


async def on_consent_ended(uow: UnitOfWork, env: Envelope, event: ConsentEnded) -> None:
    """The IP consent ended (R6, R7): the plan freezes; the person still sees it."""
    if event.kind is not ConsentKind.IP:
        return
    case = await _case(uow, event.case_id, event.case_ref)
    if case.ip_consent_id == event.consent_id:
        case.ip_consent_id = None
    plan = await _plan_of(uow, case.case_id)
    if plan is None or plan.status == PlanStatus.FROZEN or case.ip_consent_id is not None:
        return
    plan.frozen_from = plan.status
    plan.status = PlanStatus.FROZEN
    uow.emit(
        PlanFrozen(
            plan_id=plan.id, case_id=plan.case_id, case_ref=plan.case_ref, cause=event.cause
        ),
        actor=env.actor,
        case_id=plan.case_id,
        causation=env,
    )


async def on_appointed(uow: UnitOfWork, env: Envelope, event: CoordinatorAppointed) -> None:
    """A coordinator (R9): with IP consent in place, a draft plan follows."""
    case = await _case(uow, event.case_id, event.case_ref)
    case.coordinator_id = event.coordinator_id
    await _plan_if_ready(uow, case, env)


async def get_plan(uow: UnitOfWork, q: GetPlan) -> PlanView:
    """A case's plan head."""
    plan = (
        await uow.session.exec(select(Plan).where(Plan.case_id == q.case_id, Plan.org == uow.org))
    ).first()
    if plan is None:
        raise CommandRejected(
            "not_found", "no plan for this case", [FieldError(field="case_id", reason="no plan")]
        )
    return PlanView(
        plan_id=plan.id,
        case_id=plan.case_id,
        case_ref=plan.case_ref,
        coordinator_id=plan.coordinator_id,
        status=plan.status,
        version=plan.version,
        created_at=plan.created_at,
    )


def _view(plan: Plan) -> PlanView:
    return PlanView(
        plan_id=plan.id,
        case_id=plan.case_id,
        case_ref=plan.case_ref,
        coordinator_id=plan.coordinator_id,
        status=plan.status,
        version=plan.version,
        created_at=plan.created_at,
    )


def make_view_plan(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Read a plan as someone: the consent gate decides, in the data layer, not in a UI."""

    async def ask(q: ViewPlan) -> GateDecision:
        return await require(
            ctx.nc,
            ctx.org,
            MayQuery(
                actor=ctx.actor,
                case_id=q.case_id,
                who=q.who,
                action="read_plan",
                life_area=q.life_area,
                content_kind=q.content_kind,
            ),
            timeout=ctx.settings.command_timeout_s,
        )

    async def view(uow: UnitOfWork, q: ViewPlan, decision: GateDecision) -> PlanAccess:
        plan = (
            await uow.session.exec(
                select(Plan).where(Plan.case_id == q.case_id, Plan.org == uow.org)
            )
        ).first()
        if plan is None:
            raise CommandRejected(
                "not_found",
                "no plan for this case",
                [FieldError(field="case_id", reason="no plan")],
            )
        return PlanAccess(plan=_view(plan), reason=decision.reason, consent_id=decision.consent_id)

    return ask, view


def build_router(ctx: ServiceContext) -> NatsRouter:
    """Planning's subscribers."""
    router = NatsRouter()
    event_consumer(router, ctx, name="consent-recorded", event=ConsentRecorded, handler=on_consent)
    event_consumer(
        router, ctx, name="coordinator-appointed", event=CoordinatorAppointed, handler=on_appointed
    )
    query_responder(router, ctx, query=GetPlan, handler=get_plan)
    event_consumer(router, ctx, name="consent-ended", event=ConsentEnded, handler=on_consent_ended)
    ask, view = make_view_plan(ctx)
    query_responder(router, ctx, query=ViewPlan, handler=view, before=ask)
    return router
