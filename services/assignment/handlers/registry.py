"""The coordinator registry: register, update, deactivate, and the caseload overview (R9, R10,
R11, R17, R18)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func
from sqlmodel import col, select

from services.assignment.store import (
    Appointment,
    AssignmentCase,
    Coordinator,
    Handover,
    languages_column,
)
from services.assignment.store import languages_list as langs
from shared.clock import local_today
from shared.contracts.assignment import (
    Caseload,
    CaseloadOverview,
    CoordinatorDeactivated,
    CoordinatorKind,
    CoordinatorList,
    CoordinatorRegistered,
    CoordinatorResult,
    CoordinatorView,
    DeactivateCoordinator,
    DeactivateResult,
    ListCoordinators,
    NeedCause,
    ReactivateCoordinator,
    RegisterCoordinator,
    RegisterCoordinatorResult,
    UnitLoad,
    UpdateCoordinator,
)
from shared.contracts.commands import next_offset
from shared.contracts.replies import CommandRejected
from shared.db.uow import UnitOfWork
from shared.ids import new_id
from shared.service import ServiceContext

from .cases import cancel_planned, catch_up
from .common import (
    appoint_first,
    case_kind,
    check_kind,
    flag,
    get_case,
    get_coordinator,
    lock_org,
    refuse,
    unflag,
)


def view(c: Coordinator, default: int) -> CoordinatorView:
    limit = c.caseload_limit or default
    return CoordinatorView(
        coordinator_id=c.id,
        staff_id=c.staff_id,
        display_name=c.display_name,
        unit=c.unit,
        profession=c.profession,
        health_personnel=c.health_personnel,
        training_completed_on=c.training_completed_on,
        languages=langs(c.languages),
        active=c.active,
        caseload=c.caseload,
        caseload_limit=limit,
        free=max(0, limit - c.caseload) if c.active else 0,
        over_limit=c.caseload > limit,
    )


def make_register(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Register a coordinator; where kenett appoints by itself, they take waiting new cases,
    oldest first (R11)."""

    async def register(uow: UnitOfWork, cmd: RegisterCoordinator) -> RegisterCoordinatorResult:
        s = uow.session
        _check_training(uow, cmd.training_completed_on, "coordinator was not registered")
        await lock_org(uow)
        exists = (
            await s.exec(
                select(Coordinator.id).where(
                    Coordinator.org == uow.org, Coordinator.staff_id == cmd.staff_id
                )
            )
        ).first()
        if exists is not None:
            raise refuse(
                "conflict",
                "coordinator was not registered",
                "staff_id",
                "is already registered as a coordinator",
            )
        coordinator = Coordinator(
            id=new_id(),
            org=uow.org,
            staff_id=cmd.staff_id,
            display_name=cmd.display_name,
            unit=cmd.unit,
            unit_key=cmd.unit.casefold(),
            profession=cmd.profession,
            health_personnel=cmd.health_personnel,
            training_completed_on=cmd.training_completed_on,
            languages=languages_column(cmd.languages),
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
        appointed: list[uuid.UUID] = []
        if ctx.settings.auto_appoint:
            waiting = await s.exec(
                select(AssignmentCase)
                .where(
                    AssignmentCase.org == uow.org,
                    col(AssignmentCase.awaiting_since).is_not(None),
                    col(AssignmentCase.episode_id).is_(None),
                )
                .order_by(col(AssignmentCase.awaiting_since))
                .limit(limit)
            )
            for case in list(waiting):
                kind = case_kind(ctx, case)
                if kind is CoordinatorKind.HOSPITAL and not coordinator.health_personnel:
                    continue  # R17: this one cannot take hospital cases
                try:
                    check_kind(ctx, case, kind)
                except CommandRejected:
                    continue  # e.g. a barnekoordinator for someone who has turned 18 (R20)
                await appoint_first(uow, ctx, case, coordinator.id, kind, cmd.actor, None)
                appointed.append(case.case_id)
        return RegisterCoordinatorResult(
            coordinator_id=coordinator.id, appointed_case_ids=appointed
        )

    return register


def _check_training(uow: UnitOfWork, on: date | None, what: str) -> None:
    """Training is recorded when it is done: a date ahead would rank an untrained coordinator
    as trained in the suggestions (R9, R18)."""
    if on is not None and on > local_today(uow.clock):
        raise refuse(
            "validation_failed",
            what,
            "training_completed_on",
            "is in the future: record the training when it is completed (R9)",
        )


def make_update(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    async def update_with_rules(uow: UnitOfWork, cmd: UpdateCoordinator) -> CoordinatorResult:
        if cmd.health_personnel is False:
            await lock_org(uow)
            await _still_hospital_coordinator(uow, ctx, cmd.coordinator_id)
        return await update(uow, cmd)

    return update_with_rules


async def _still_hospital_coordinator(
    uow: UnitOfWork, ctx: ServiceContext, coordinator_id: uuid.UUID
) -> None:
    """A hospital coordinator must be health personnel (R17): while someone coordinates a
    case as hospital coordinator, the registry cannot say they are not."""
    cases = await uow.session.exec(
        select(AssignmentCase).where(
            AssignmentCase.org == uow.org,
            AssignmentCase.primary_coordinator_id == coordinator_id,
        )
    )
    serving = [case for case in cases if case_kind(ctx, case) is CoordinatorKind.HOSPITAL]
    if serving:
        raise refuse(
            "conflict",
            "coordinator was not changed",
            "health_personnel",
            f"they coordinate {len(serving)} case(s) as hospital coordinator, which must be "
            "health personnel (R17): hand those over first",
        )


async def update(uow: UnitOfWork, cmd: UpdateCoordinator) -> CoordinatorResult:
    """Change a registry entry; a limit below the current caseload is allowed and shows as
    over the limit in the overview (R10)."""
    _check_training(uow, cmd.training_completed_on, "coordinator was not changed")
    await lock_org(uow)
    c = await get_coordinator(uow, cmd.coordinator_id, "coordinator_id")
    fields = cmd.model_fields_set
    for name in ("display_name", "unit", "profession", "health_personnel"):
        if name in fields and getattr(cmd, name) is not None:
            setattr(c, name, getattr(cmd, name))
    c.unit_key = c.unit.casefold()
    if "training_completed_on" in fields:
        c.training_completed_on = cmd.training_completed_on
    if cmd.languages is not None:
        c.languages = languages_column(cmd.languages)
    if cmd.clear_caseload_limit:
        c.caseload_limit = None
    elif cmd.caseload_limit is not None:
        c.caseload_limit = cmd.caseload_limit
    return CoordinatorResult(coordinator_id=c.id)


async def deactivate(uow: UnitOfWork, cmd: DeactivateCoordinator) -> DeactivateResult:
    """A coordinator leaves. Each case they are responsible for is flagged at once and the KE
    is told; they stay responsible on paper until a handover, so no case is ever without a
    coordinator (R11). Handovers planned to them are cancelled, and those cases flagged too."""
    await lock_org(uow)
    s = uow.session
    c = await get_coordinator(uow, cmd.coordinator_id, "coordinator_id")
    if not c.active:
        raise refuse(
            "conflict", "the coordinator is already inactive", "coordinator_id", "is inactive"
        )
    c.active = False
    c.deactivated_at = uow.clock.now()
    c.deactivation_reason = cmd.reason
    cancelled: list[uuid.UUID] = []
    planned = await s.exec(
        select(Handover).where(
            Handover.org == uow.org,
            Handover.to_coordinator_id == c.id,
            col(Handover.status) == "planned",
        )
    )
    for h in list(planned):
        case = await get_case(uow, h.case_id)
        await catch_up(uow, case, cmd.actor)
        if h.status != "planned":
            continue  # it has started: they are the primary now, and flagged below
        await cancel_planned(uow, case, h, cmd.actor)
        flag(uow, case, NeedCause.HANDOVER_CANCELLED, cmd.actor)
        cancelled.append(h.id)
    responsible = await s.exec(
        select(AssignmentCase)
        .join(Appointment, col(Appointment.case_id) == col(AssignmentCase.case_id))
        .where(
            Appointment.coordinator_id == c.id,
            Appointment.role == "primary",
            col(Appointment.ended_at).is_(None),
        )
    )
    flagged = []
    for case in list(responsible):
        flag(uow, case, NeedCause.COORDINATOR_DEACTIVATED, cmd.actor)
        flagged.append(case.case_id)
    uow.emit(
        CoordinatorDeactivated(coordinator_id=c.id, flagged=len(flagged)),
        actor=cmd.actor,
        case_id=None,
    )
    return DeactivateResult(
        coordinator_id=c.id, flagged_case_ids=flagged, cancelled_handover_ids=cancelled
    )


async def reactivate(uow: UnitOfWork, cmd: ReactivateCoordinator) -> CoordinatorResult:
    await lock_org(uow)
    c = await get_coordinator(uow, cmd.coordinator_id, "coordinator_id")
    if c.active:
        raise refuse("conflict", "the coordinator is already active", "coordinator_id", "is active")
    c.active = True
    c.deactivated_at = None
    c.deactivation_reason = None
    # Cases flagged only because they left need nobody new now that they are back.
    back = await uow.session.exec(
        select(AssignmentCase).where(
            AssignmentCase.org == uow.org,
            AssignmentCase.primary_coordinator_id == c.id,
            col(AssignmentCase.awaiting_cause) == NeedCause.COORDINATOR_DEACTIVATED.value,
        )
    )
    for case in list(back):
        unflag(case)
    return CoordinatorResult(coordinator_id=c.id)


def make_list(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """The registry with caseloads against limits (R10)."""

    async def list_coordinators(uow: UnitOfWork, q: ListCoordinators) -> CoordinatorList:
        filters: list[Any] = [Coordinator.org == uow.org]
        if not q.include_inactive:
            filters.append(col(Coordinator.active).is_(True))
        if q.unit is not None:
            filters.append(Coordinator.unit == q.unit)
        if q.coordinator_ids is not None:
            filters.append(col(Coordinator.id).in_(q.coordinator_ids))
        if q.staff_ids is not None:
            filters.append(col(Coordinator.staff_id).in_(q.staff_ids))
        total, rows = await uow.page(
            select(Coordinator),
            filters,
            (col(Coordinator.registered_at), col(Coordinator.id)),
            offset=q.offset,
            limit=q.limit,
        )
        page = [view(c, ctx.settings.caseload_limit) for c in rows]
        return CoordinatorList(
            coordinators=page, total=total, next_offset=next_offset(q.offset, len(page), total)
        )

    return list_coordinators


def make_caseload(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Caseloads per coordinator and per unit, over-limit marked (R10, R18)."""

    async def caseload(uow: UnitOfWork, q: CaseloadOverview) -> Caseload:
        default = ctx.settings.caseload_limit
        s = uow.session
        filters: list[Any] = [Coordinator.org == uow.org]
        if q.unit is not None:
            filters.append(Coordinator.unit == q.unit)
        # Counted in SQL, so a registry of thousands is never loaded to be summed.
        limit = func.coalesce(col(Coordinator.caseload_limit), default)
        over = col(Coordinator.caseload) > limit
        active = col(Coordinator.active).is_(True)
        totals = await s.exec(
            select(  # type: ignore[call-overload]
                Coordinator.unit,
                func.count(),
                func.sum(when((active, 1), else_=0)),
                func.sum(Coordinator.caseload),
                func.sum(when((active, limit), else_=0)),
                func.sum(when((over, 1), else_=0)),
            )
            .where(*filters)
            .group_by(col(Coordinator.unit))
        )
        units = sorted(
            (
                UnitLoad(
                    unit=unit,
                    coordinators=int(n),
                    active=int(n_active or 0),
                    caseload=int(load or 0),
                    capacity=int(capacity or 0),
                    over_limit=int(n_over or 0),
                )
                for unit, n, n_active, load, capacity, n_over in totals
            ),
            key=lambda u: u.unit,
        )
        total = sum(u.coordinators for u in units)
        page = await s.exec(
            select(Coordinator)
            .where(*filters)
            .order_by(when((over, 0), else_=1), col(Coordinator.unit), col(Coordinator.staff_id))
            .offset(q.offset)
            .limit(q.limit)
        )
        coordinators = [view(c, default) for c in page]
        return Caseload(
            default_limit=default,
            coordinators=coordinators,
            units=units,
            total=total,
            next_offset=next_offset(q.offset, len(coordinators), total),
        )

    return caseload
