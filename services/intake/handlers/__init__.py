"""Intake's subscribers: every command and query is a documented request/reply."""

from __future__ import annotations

from faststream.nats import NatsRouter

from shared.bus.handlers import command_responder, query_responder
from shared.contracts.intake import (
    ActivateCase,
    AssessEligibility,
    CloseCase,
    CountCases,
    ExportForTransfer,
    FindCase,
    GetCase,
    GetCaseDetail,
    ListAppealDeadlines,
    ListCases,
    ListOffers,
    ListServiceTypes,
    MakeDecision,
    RegisterAppeal,
    RegisterOffer,
    RenderLetter,
    ReportNeed,
    WaitingTimes,
)
from shared.service import ServiceContext

from .assessment import assess_eligibility
from .decisions import appeal_deadlines, decide, make_letter, register_appeal
from .lifecycle import activate, close
from .offers import list_offers, register_offer, service_types
from .overview import count_cases, list_cases
from .reports import (
    export_for_transfer,
    find_case,
    get_case,
    get_case_detail,
    make_report_need,
)
from .stats import waiting_times


def build_router(ctx: ServiceContext) -> NatsRouter:
    """Intake's commands and queries."""
    router = NatsRouter()
    command_responder(router, ctx, command=ReportNeed, handler=make_report_need(ctx))
    command_responder(router, ctx, command=AssessEligibility, handler=assess_eligibility)
    command_responder(router, ctx, command=MakeDecision, handler=decide)
    command_responder(router, ctx, command=RegisterAppeal, handler=register_appeal)
    command_responder(router, ctx, command=ActivateCase, handler=activate)
    command_responder(router, ctx, command=CloseCase, handler=close)
    command_responder(router, ctx, command=RegisterOffer, handler=register_offer)
    query_responder(router, ctx, query=GetCase, handler=get_case)
    query_responder(router, ctx, query=FindCase, handler=find_case)
    query_responder(router, ctx, query=GetCaseDetail, handler=get_case_detail)
    query_responder(router, ctx, query=ExportForTransfer, handler=export_for_transfer)
    query_responder(router, ctx, query=RenderLetter, handler=make_letter(ctx.settings))
    query_responder(router, ctx, query=ListAppealDeadlines, handler=appeal_deadlines)
    query_responder(router, ctx, query=ListOffers, handler=list_offers, audited=False)
    query_responder(router, ctx, query=ListServiceTypes, handler=service_types, audited=False)
    query_responder(router, ctx, query=WaitingTimes, handler=waiting_times, audited=False)
    query_responder(router, ctx, query=CountCases, handler=count_cases, audited=False)
    query_responder(router, ctx, query=ListCases, handler=list_cases)
    return router


__all__ = ["build_router"]
