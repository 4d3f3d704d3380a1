"""Assignment's subscribers, and the sweep it runs by itself."""

from __future__ import annotations

from faststream.nats import NatsRouter

from shared.bus.handlers import command_responder, event_consumer, query_responder
from shared.contracts.assignment import (
    AppointCoordinator,
    CancelHandover,
    CaseloadOverview,
    CompleteDuty,
    DeactivateCoordinator,
    ExportCareTeam,
    GetCoordination,
    ListCasesNeedingCoordinator,
    ListCoordinators,
    ListDuties,
    PlanHandover,
    ReactivateCoordinator,
    RegisterCoordinator,
    ReleaseCoordinator,
    SetCoordinatorNeeds,
    SuggestCoordinators,
    SweepAssignment,
    UpdateCoordinator,
)
from shared.contracts.consent import ConsentEnded, ConsentInForce, ConsentRecorded
from shared.contracts.intake import CaseOpened, CaseStatusChanged, DecisionMade
from shared.service import ServiceContext

from .cases import (
    is_coordinator_consent,
    is_coordinator_decision,
    make_appoint,
    make_cancel_handover,
    make_on_consent,
    make_on_consent_ended,
    make_on_decision,
    make_plan_handover,
    make_release,
    make_set_needs,
    on_case_opened,
    on_case_status,
)
from .reads import complete_duty, coordination, export_fhir, list_duties, make_suggest, needing
from .registry import (
    deactivate,
    make_caseload,
    make_list,
    make_register,
    make_update,
    reactivate,
)
from .sweep import start_sweeper, sweep_command

__all__ = ["build_router", "start_sweeper"]


def build_router(ctx: ServiceContext) -> NatsRouter:
    """Assignment's commands, queries and consumers."""
    router = NatsRouter()
    on_consent, may_coordinate = make_on_consent(ctx)
    event_consumer(
        router,
        ctx,
        name="consent-recorded",
        event=ConsentRecorded,
        handler=on_consent,
        before=may_coordinate,
        # Only a coordinator consent concerns assignment (R5); the IP consent is acked as is.
        wants=is_coordinator_consent,
    )
    event_consumer(
        router,
        ctx,
        name="consent-in-force",
        event=ConsentInForce,
        handler=on_consent,
        before=may_coordinate,
        wants=is_coordinator_consent,
    )
    on_consent_ended, still_in_force = make_on_consent_ended(ctx)
    event_consumer(
        router,
        ctx,
        name="consent-ended",
        event=ConsentEnded,
        handler=on_consent_ended,
        before=still_in_force,
        wants=is_coordinator_consent,
    )
    event_consumer(router, ctx, name="case-opened", event=CaseOpened, handler=on_case_opened)
    event_consumer(router, ctx, name="case-status", event=CaseStatusChanged, handler=on_case_status)
    on_decision, may_coordinate_on_decision = make_on_decision(ctx)
    event_consumer(
        router,
        ctx,
        name="decision-made",
        event=DecisionMade,
        handler=on_decision,
        before=may_coordinate_on_decision,
        wants=is_coordinator_decision,
    )
    command_responder(router, ctx, command=RegisterCoordinator, handler=make_register(ctx))
    command_responder(router, ctx, command=UpdateCoordinator, handler=make_update(ctx))
    command_responder(router, ctx, command=DeactivateCoordinator, handler=deactivate)
    command_responder(router, ctx, command=ReactivateCoordinator, handler=reactivate)
    command_responder(router, ctx, command=SetCoordinatorNeeds, handler=make_set_needs(ctx))
    appoint, appoint_gate = make_appoint(ctx)
    command_responder(router, ctx, command=AppointCoordinator, handler=appoint, before=appoint_gate)
    plan, plan_gate = make_plan_handover(ctx)
    command_responder(router, ctx, command=PlanHandover, handler=plan, before=plan_gate)
    command_responder(router, ctx, command=CancelHandover, handler=make_cancel_handover(ctx))
    command_responder(router, ctx, command=ReleaseCoordinator, handler=make_release(ctx))
    command_responder(router, ctx, command=CompleteDuty, handler=complete_duty)
    command_responder(router, ctx, command=SweepAssignment, handler=sweep_command)
    query_responder(router, ctx, query=ListCoordinators, handler=make_list(ctx), audited=False)
    query_responder(router, ctx, query=CaseloadOverview, handler=make_caseload(ctx), audited=False)
    query_responder(router, ctx, query=SuggestCoordinators, handler=make_suggest(ctx))
    query_responder(router, ctx, query=GetCoordination, handler=coordination)
    query_responder(router, ctx, query=ListCasesNeedingCoordinator, handler=needing)
    query_responder(router, ctx, query=ListDuties, handler=list_duties)
    query_responder(router, ctx, query=ExportCareTeam, handler=export_fhir)
    return router
