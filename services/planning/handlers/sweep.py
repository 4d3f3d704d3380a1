"""What the clock makes due: evaluations fall overdue (R16); closed plans pass retention."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import col, select

from services.planning.domain import anonymise
from services.planning.store import (
    ConsentNote,
    EvaluationDue,
    GroupMember,
    GroupTask,
    Meeting,
    Plan,
    PlanningCase,
    PlanVersion,
    ToolChange,
)
from shared.clock import local_today
from shared.contracts.envelope import Actor
from shared.contracts.planning import (
    EvaluationOverdue,
    PlanContent,
    PlanningSweepResult,
    PurgePlans,
    PurgeReport,
    SweepPlanning,
)
from shared.db.uow import UnitOfWork
from shared.logging import get_logger
from shared.service import ServiceContext

log = get_logger(__name__)
SWEEP_EVERY_S = 60.0
ANON = "(anonymisert)"
BATCH = 1000


async def sweep(uow: UnitOfWork, actor: Actor) -> PlanningSweepResult:
    """Announce each evaluation that has passed its date, once (R16): the coordinator is told
    through notifications."""
    rows = await uow.session.exec(
        select(EvaluationDue, Plan)
        .join(Plan, col(Plan.id) == col(EvaluationDue.plan_id))
        .where(
            EvaluationDue.org == uow.org,
            col(EvaluationDue.announced_at).is_(None),
            col(EvaluationDue.due_on) < local_today(uow.clock),
        )
        .order_by(col(EvaluationDue.due_on))
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    now = uow.clock.now()
    count = 0
    for due, plan in list(rows):
        due.announced_at = now
        uow.emit(
            EvaluationOverdue(
                plan_id=plan.id,
                case_id=plan.case_id,
                case_ref=plan.case_ref,
                item_id=due.item_id,
                item_kind=due.item_kind,  # type: ignore[arg-type]
                due_on=due.due_on,
                coordinator_id=plan.coordinator_id,
            ),
            actor=actor,
            case_id=plan.case_id,
        )
        count += 1
    return PlanningSweepResult(evaluations_overdue=count)


async def sweep_command(uow: UnitOfWork, cmd: SweepPlanning) -> PlanningSweepResult:
    """The sweep as a command (operators, tests)."""
    return await sweep(uow, cmd.actor)


def make_purge(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    async def purge(uow: UnitOfWork, cmd: PurgePlans) -> PurgeReport:
        """Closed plans past the retention period (``KENETT_PLAN_RETENTION_DAYS``) are deleted,
        or anonymised: every text and name removed from every version; what is left (life
        areas, dates, statuses, outcomes) no longer points at the case. The responsibility
        group goes with the plan only when it has been quiet as long: a group that still meets
        (the person may have chosen meetings instead of the plan, R13) is kept whole."""
        mode = cmd.mode or ctx.settings.plan_retention_mode
        cutoff = uow.clock.now() - timedelta(days=ctx.settings.plan_retention_days)
        s = uow.session
        plans = list(
            await s.exec(
                select(Plan)
                .where(
                    Plan.org == uow.org,
                    Plan.status == "closed",
                    col(Plan.closed_at) < cutoff,
                    col(Plan.anonymised_at).is_(None),
                )
                .order_by(col(Plan.closed_at))
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        case_ids = [p.case_id for p in plans]
        live = await _groups_in_use(uow, case_ids, cutoff) if case_ids else set()
        quiet = [c for c in case_ids if c not in live]
        report = PurgeReport(
            mode=mode,
            dry_run=cmd.dry_run,
            closed_before=cutoff,
            plans=len(plans),
            versions=sum(p.version for p in plans),
            meetings=len(
                list(await s.exec(select(Meeting.id).where(col(Meeting.case_id).in_(quiet))))
            )
            if quiet
            else 0,
            case_refs=[p.case_ref for p in plans],
        )
        if cmd.dry_run or not plans:
            return report
        plan_ids = [p.id for p in plans]
        await s.exec(delete(EvaluationDue).where(col(EvaluationDue.plan_id).in_(plan_ids)))  # type: ignore[call-overload]
        group_tables = (GroupTask, Meeting, GroupMember, ToolChange)
        if mode == "delete":
            await s.exec(delete(PlanVersion).where(col(PlanVersion.plan_id).in_(plan_ids)))  # type: ignore[call-overload]
            await s.exec(delete(Plan).where(col(Plan.id).in_(plan_ids)))  # type: ignore[call-overload]
            if quiet:
                for table in (*group_tables, ConsentNote, PlanningCase):
                    await s.exec(delete(table).where(col(table.case_id).in_(quiet)))  # type: ignore[call-overload, attr-defined]
            return report
        now = uow.clock.now()
        for plan in plans:
            versions = await s.exec(select(PlanVersion).where(PlanVersion.plan_id == plan.id))
            for v in versions:
                v.content = anonymise(PlanContent.model_validate_json(v.content)).model_dump_json(
                    exclude_defaults=True
                )
                v.saved_by = v.by_id = "anonymisert"
                v.note = None
            plan.anonymised_at = now
            plan.status_reason = None
        if quiet:
            await _anonymise_groups(uow, quiet)
        # What is left of the plan no longer points at the case: a new key, no case reference.
        for plan in plans:
            key = uuid.uuid4()
            if plan.case_id in quiet:
                for table in group_tables:
                    await s.exec(  # type: ignore[call-overload]
                        update(table).where(col(table.case_id) == plan.case_id).values(case_id=key)  # type: ignore[attr-defined]
                    )
            plan.case_id = key
            plan.case_ref = "anonymisert"
        return report

    return purge


async def _groups_in_use(
    uow: UnitOfWork, case_ids: list[uuid.UUID], cutoff: datetime
) -> set[uuid.UUID]:
    """Cases whose group met, or had members, within the retention period, or whose person
    chose meetings as the tool."""
    s = uow.session
    meeting = await s.exec(
        select(Meeting.case_id).where(col(Meeting.case_id).in_(case_ids), col(Meeting.at) >= cutoff)
    )
    member = await s.exec(
        select(GroupMember.case_id).where(
            col(GroupMember.case_id).in_(case_ids),
            or_(col(GroupMember.to_date).is_(None), col(GroupMember.to_date) >= cutoff.date()),
        )
    )
    tool = await s.exec(
        select(PlanningCase.case_id).where(
            col(PlanningCase.case_id).in_(case_ids), PlanningCase.tool == "meetings"
        )
    )
    return {*meeting, *member, *tool}


async def _anonymise_groups(uow: UnitOfWork, case_ids: list[uuid.UUID]) -> None:
    s = uow.session
    await s.exec(  # type: ignore[call-overload]
        update(Meeting)
        .where(col(Meeting.case_id).in_(case_ids))
        .values(
            place=ANON,
            agenda="[]",
            summary=None,
            decisions="[]",
            attended="[]",
            cancel_reason=None,
            minutes_by=None,
        )
    )
    await s.exec(  # type: ignore[call-overload]
        update(GroupTask).where(col(GroupTask.case_id).in_(case_ids)).values(text=ANON)
    )
    await s.exec(  # type: ignore[call-overload]
        update(GroupMember).where(col(GroupMember.case_id).in_(case_ids)).values(role=ANON)
    )
    await s.exec(  # type: ignore[call-overload]
        update(GroupMember)
        .where(col(GroupMember.case_id).in_(case_ids), col(GroupMember.party_kind) != "person")
        .values(party_ref=ANON)
    )
    await s.exec(  # type: ignore[call-overload]
        update(ToolChange)
        .where(col(ToolChange.case_id).in_(case_ids))
        .values(note=None, recorded_by="anonymisert")
    )
    for table in (ConsentNote, PlanningCase):
        await s.exec(delete(table).where(col(table.case_id).in_(case_ids)))  # type: ignore[call-overload, attr-defined]


async def start_sweeper(ctx: ServiceContext) -> None:
    """Sweep every minute."""

    async def loop() -> None:
        while True:
            try:
                async with ctx.uow() as uow:
                    result = await sweep(uow, ctx.actor)
                    await uow.commit()
                if result.evaluations_overdue:
                    log.info("planning sweep", overdue=result.evaluations_overdue)
            except Exception as exc:  # the database is away: try again next time
                log.warning("planning sweep failed", error=type(exc).__name__)
            await asyncio.sleep(SWEEP_EVERY_S)

    ctx.tasks.append(asyncio.create_task(loop(), name="planning-sweeper"))
