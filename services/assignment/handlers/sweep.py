"""What the clock makes due: handovers start and complete (R11), duties fall overdue (R12,
R19). The service sweeps every minute; ``SweepAssignment`` runs one sweep at once."""

from __future__ import annotations

import asyncio

from sqlmodel import col, select

from services.assignment.store import AssignmentCase, Coordinator, Duty, Handover
from shared.clock import local_today
from shared.contracts.assignment import (
    DutyKind,
    DutyOverdue,
    SweepAssignment,
    SweepResult,
)
from shared.contracts.envelope import Actor
from shared.db.uow import UnitOfWork
from shared.logging import get_logger
from shared.service import ServiceContext

from .cases import complete_handover, start_handover
from .common import get_case, lock_org

log = get_logger(__name__)
SWEEP_EVERY_S = 60.0


async def sweep(uow: UnitOfWork, actor: Actor) -> SweepResult:
    """One sweep, in one unit of work."""
    await lock_org(uow)
    s = uow.session
    now = uow.clock.now()
    result = SweepResult(handovers_started=[], handovers_completed=[], duties_overdue=[])
    starting = await s.exec(
        select(Handover)
        .where(
            Handover.org == uow.org,
            col(Handover.status) == "planned",
            col(Handover.overlap_start) <= now,
        )
        .order_by(col(Handover.overlap_start))
    )
    for h in list(starting):
        await start_handover(uow, await get_case(uow, h.case_id), h, actor)
        result.handovers_started.append(h.id)
    ending = await s.exec(
        select(Handover)
        .where(
            Handover.org == uow.org,
            col(Handover.status) == "started",
            col(Handover.overlap_end) <= now,
        )
        .order_by(col(Handover.overlap_end))
    )
    for h in list(ending):
        await complete_handover(uow, await get_case(uow, h.case_id), h, actor)
        result.handovers_completed.append(h.id)
    overdue = await s.exec(
        select(Duty, AssignmentCase)
        .join(AssignmentCase, col(AssignmentCase.case_id) == col(Duty.case_id))
        .where(
            Duty.org == uow.org,
            col(Duty.done_at).is_(None),
            col(Duty.overdue_announced_at).is_(None),
            col(Duty.due_on) < local_today(uow.clock),
            col(Duty.episode_id) == col(AssignmentCase.episode_id),
        )
        .order_by(col(Duty.due_on))
        .limit(1000)
    )
    for duty, case in list(overdue):
        duty.overdue_announced_at = now
        responsible = case.primary_coordinator_id
        if responsible is not None:
            holder = await s.get(Coordinator, responsible)
            if holder is None or not holder.active:
                responsible = None  # they have left: the KE is told instead
        uow.emit(
            DutyOverdue(
                duty_id=duty.id,
                case_id=duty.case_id,
                case_ref=case.case_ref,
                kind=DutyKind(duty.kind),
                due_on=duty.due_on,
                coordinator_id=responsible,
            ),
            actor=actor,
            case_id=duty.case_id,
        )
        result.duties_overdue.append(duty.id)
    return result


async def sweep_command(uow: UnitOfWork, cmd: SweepAssignment) -> SweepResult:
    """The sweep as a command (operators, tests)."""
    return await sweep(uow, cmd.actor)


async def start_sweeper(ctx: ServiceContext) -> None:
    """Sweep every minute."""

    async def loop() -> None:
        while True:
            try:
                async with ctx.uow() as uow:
                    result = await sweep(uow, ctx.actor)
                    await uow.commit()
                if result.handovers_started or result.handovers_completed or result.duties_overdue:
                    log.info(
                        "assignment sweep",
                        started=len(result.handovers_started),
                        completed=len(result.handovers_completed),
                        overdue=len(result.duties_overdue),
                    )
            except Exception as exc:  # the database is away: try again next time
                log.warning("assignment sweep failed", error=type(exc).__name__)
            await asyncio.sleep(SWEEP_EVERY_S)

    ctx.tasks.append(asyncio.create_task(loop(), name="assignment-sweeper"))
