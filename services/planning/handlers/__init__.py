"""Planning's subscribers, and the sweep it runs by itself."""

from __future__ import annotations

from faststream.nats import NatsRouter

from shared.bus.handlers import command_responder, event_consumer, query_responder
from shared.contracts.assignment import (
    CoordinationStopped,
    CoordinatorAppointed,
    HandoverCompleted,
)
from shared.contracts.consent import ConsentEnded, ConsentInForce, ConsentRecorded
from shared.contracts.intake import CaseStatusChanged, DecisionMade
from shared.contracts.planning import (
    AddMember,
    CancelMeeting,
    ChangePlanStatus,
    ComparePlanVersions,
    CompleteTask,
    EndMember,
    EvaluateItem,
    ExportPlanFhir,
    GetGroup,
    GetPlan,
    GetTool,
    ListPlans,
    ListPlanVersions,
    PurgePlans,
    RecordMeasureStatus,
    RecordMinutes,
    RenderPlanPdf,
    SavePlan,
    ScheduleMeeting,
    SweepPlanning,
    SwitchTool,
    ViewPlan,
)
from shared.service import ServiceContext

from .group import (
    add_member,
    cancel_meeting,
    complete_task,
    end_member,
    get_group,
    get_tool,
    make_group_gates,
    make_switch_tool,
    record_minutes,
    schedule_meeting,
)
from .lifecycle import (
    is_case_closing,
    is_ip_decision,
    make_ip_consent_gate,
    make_ip_decision_gate,
    on_appointed,
    on_case_status_changed,
    on_consent,
    on_consent_ended,
    on_consent_in_force,
    on_coordination_stopped,
    on_decision,
    on_handover_completed,
)
from .plans import (
    change_status,
    compare_versions,
    evaluate_item,
    export_fhir,
    get_plan,
    list_plans,
    list_versions,
    make_gates,
    record_measure_status,
    render_pdf,
    save_plan,
    view_plan,
)
from .sweep import make_purge, start_sweeper, sweep_command

__all__ = ["build_router", "start_sweeper"]


def build_router(ctx: ServiceContext) -> NatsRouter:
    """Planning's commands, queries and consumers."""
    router = NatsRouter()
    event_consumer(router, ctx, name="consent-recorded", event=ConsentRecorded, handler=on_consent)
    event_consumer(
        router, ctx, name="coordinator-appointed", event=CoordinatorAppointed, handler=on_appointed
    )
    event_consumer(
        router,
        ctx,
        name="consent-ended",
        event=ConsentEnded,
        handler=on_consent_ended,
        before=make_ip_consent_gate(ctx),
    )
    event_consumer(
        router, ctx, name="consent-in-force", event=ConsentInForce, handler=on_consent_in_force
    )
    event_consumer(
        router,
        ctx,
        name="decision-made",
        event=DecisionMade,
        handler=on_decision,
        before=make_ip_decision_gate(ctx),
        wants=is_ip_decision,
    )
    event_consumer(
        router,
        ctx,
        name="coordination-stopped",
        event=CoordinationStopped,
        handler=on_coordination_stopped,
    )
    event_consumer(
        router,
        ctx,
        name="handover-completed",
        event=HandoverCompleted,
        handler=on_handover_completed,
    )
    event_consumer(
        router,
        ctx,
        name="case-status-changed",
        event=CaseStatusChanged,
        handler=on_case_status_changed,
        wants=is_case_closing,
    )

    may_read, may_write, may_report_measure, may_read_text = make_gates(ctx)
    command_responder(
        router,
        ctx,
        command=RecordMeasureStatus,
        handler=record_measure_status,
        before=may_report_measure,
    )
    command_responder(router, ctx, command=SavePlan, handler=save_plan, before=may_write)
    command_responder(router, ctx, command=EvaluateItem, handler=evaluate_item, before=may_write)
    command_responder(
        router, ctx, command=ChangePlanStatus, handler=change_status, before=may_write
    )
    query_responder(router, ctx, query=GetPlan, handler=get_plan, before=may_read_text)
    query_responder(router, ctx, query=ViewPlan, handler=view_plan, before=may_read)
    query_responder(
        router, ctx, query=ListPlanVersions, handler=list_versions, before=may_read_text
    )
    query_responder(
        router, ctx, query=ComparePlanVersions, handler=compare_versions, before=may_read
    )
    query_responder(router, ctx, query=ListPlans, handler=list_plans, audited=False)
    query_responder(router, ctx, query=ExportPlanFhir, handler=export_fhir, before=may_read)
    query_responder(router, ctx, query=RenderPlanPdf, handler=render_pdf, before=may_read)

    may_coordinate, may_choose, may_read_group = make_group_gates(ctx)
    command_responder(
        router, ctx, command=SwitchTool, handler=make_switch_tool(ctx), before=may_choose
    )
    query_responder(router, ctx, query=GetTool, handler=get_tool)
    for command, handler in (
        (AddMember, add_member),
        (EndMember, end_member),
        (ScheduleMeeting, schedule_meeting),
        (RecordMinutes, record_minutes),
        (CancelMeeting, cancel_meeting),
        (CompleteTask, complete_task),
    ):
        command_responder(router, ctx, command=command, handler=handler, before=may_coordinate)
    query_responder(router, ctx, query=GetGroup, handler=get_group, before=may_read_group)

    command_responder(router, ctx, command=SweepPlanning, handler=sweep_command)
    command_responder(router, ctx, command=PurgePlans, handler=make_purge(ctx))
    return router
