"""What assignment's handlers share: loading a case's periods, applying a change, recounting
caseloads, flagging a case that needs a coordinator, and appointing."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, distinct, func, or_, update
from sqlmodel import col, select

from services.assignment.coordination import Change, Period, first_appointment
from services.assignment.domain import duty_due_dates, kind_problem, usual_kind
from services.assignment.store import Appointment, AssignmentCase, Coordinator, Duty, Episode
from shared.clock import local_today
from shared.contracts.assignment import (
    CaseAwaitingCoordinator,
    CoordinatorAppointed,
    CoordinatorKind,
    CoordinatorOverLimit,
    CoordinatorRole,
    NeedCause,
)
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.replies import refuse
from shared.db.uow import UnitOfWork
from shared.service import ServiceContext

NEED_TEXT = {
    NeedCause.NEW: "coordinator consent is given; the KE appoints a coordinator (R9)",
    NeedCause.NO_CAPACITY: "no active coordinator has free capacity (R10)",
    NeedCause.COORDINATOR_DEACTIVATED: "the coordinator has left; plan a handover (R11)",
    NeedCause.RELEASED: "the coordinator is released from the case; plan a handover (R11)",
    NeedCause.HANDOVER_CANCELLED: "the planned successor fell away; plan a new handover (R11)",
}


async def lock_org(uow: UnitOfWork) -> None:
    """Caseloads (R10) and each case's periods (R11) change under one lock per organisation,
    across processes; always taken before any row, so no two writers deadlock."""
    await uow.lock(f"assignment:caseload:{uow.org}")


async def get_case(uow: UnitOfWork, case_id: uuid.UUID) -> AssignmentCase:
    case = await uow.session.get(AssignmentCase, case_id)
    if case is None or case.org != uow.org:
        raise refuse(
            "not_found",
            "assignment does not know this case",
            "case_id",
            "no coordinator consent has reached assignment for this case (R5); if it was just "
            "recorded, try again in a moment",
        )
    return case


async def get_coordinator(uow: UnitOfWork, coordinator_id: uuid.UUID, field: str) -> Coordinator:
    c = await uow.session.get(Coordinator, coordinator_id)
    if c is None or c.org != uow.org:
        raise refuse(
            "not_found", "no such coordinator", field, "is not in the coordinator registry"
        )
    return c


def to_period(a: Appointment) -> Period:
    return Period(a.id, a.coordinator_id, CoordinatorRole(a.role), a.started_at, a.ended_at)


async def episode_rows(uow: UnitOfWork, episode_id: uuid.UUID) -> list[Appointment]:
    rows = await uow.session.exec(
        select(Appointment)
        .where(Appointment.episode_id == episode_id)
        .order_by(col(Appointment.started_at), col(Appointment.role))
    )
    return list(rows)


async def apply_change(
    uow: UnitOfWork, case: AssignmentCase, rows: list[Appointment], change: Change
) -> set[uuid.UUID]:
    """Write a change: withdrawn periods first, then new ends, then new periods, each flushed,
    so the unique open-primary index never sees two at once. Returns the coordinators whose
    caseload changed."""
    s = uow.session
    by_id = {r.id: r for r in rows}
    touched: set[uuid.UUID] = set()
    if change.removed:
        touched |= {by_id[i].coordinator_id for i in change.removed}
        await s.exec(delete(Appointment).where(col(Appointment.id).in_(change.removed)))
        await s.flush()
    for pid, end in change.ends.items():
        by_id[pid].ended_at = end
        touched.add(by_id[pid].coordinator_id)
    await s.flush()
    for p in change.new:
        s.add(
            Appointment(
                id=p.id,
                org=uow.org,
                case_id=case.case_id,
                episode_id=case.episode_id,
                coordinator_id=p.coordinator_id,
                role=p.role.value,
                started_at=p.start,
                ended_at=p.end,
            )
        )
        touched.add(p.coordinator_id)
    await s.flush()
    return touched


async def recount(uow: UnitOfWork, coordinator_ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Recount the caseload of these coordinators from their appointments (R10): cases with a
    period running now or still to come."""
    if not coordinator_ids:
        return {}
    now = uow.clock.now()
    rows = await uow.session.exec(
        select(Appointment.coordinator_id, func.count(distinct(col(Appointment.case_id))))
        .where(
            col(Appointment.coordinator_id).in_(coordinator_ids),
            or_(col(Appointment.ended_at).is_(None), col(Appointment.ended_at) > now),
        )
        .group_by(col(Appointment.coordinator_id))
    )
    counts = dict.fromkeys(coordinator_ids, 0) | {cid: int(n) for cid, n in rows}
    for cid, n in counts.items():
        await uow.session.exec(
            update(Coordinator).where(col(Coordinator.id) == cid).values(caseload=n)
        )
    return counts


def flag(
    uow: UnitOfWork,
    case: AssignmentCase,
    cause: NeedCause,
    actor: Actor,
    causation: Envelope | None = None,
    note: str | None = None,
) -> None:
    """The case needs a (new) coordinator: it goes on the KE's worklist and the KE is told."""
    already = case.awaiting_since is not None and case.awaiting_cause == cause.value
    if case.awaiting_since is None:
        case.awaiting_since = uow.clock.now()
    case.awaiting_cause = cause.value
    if note is not None:
        case.awaiting_note = note
    if already:
        return
    uow.emit(
        CaseAwaitingCoordinator(
            case_id=case.case_id,
            case_ref=case.case_ref,
            reason=NEED_TEXT[cause],
            cause=cause,
            responsible_coordinator_id=case.primary_coordinator_id,
        ),
        actor=actor,
        case_id=case.case_id,
        causation=causation,
    )


def unflag(case: AssignmentCase) -> None:
    case.awaiting_since = None
    case.awaiting_cause = None
    case.awaiting_note = None


def case_kind(ctx: ServiceContext, case: AssignmentCase) -> CoordinatorKind:
    return CoordinatorKind(case.kind) if case.kind else usual_kind(ctx.settings.org_kind)


def check_kind(ctx: ServiceContext, case: AssignmentCase, kind: CoordinatorKind) -> None:
    problem = kind_problem(kind, ctx.settings.org_kind, case.birth_date, local_today(ctx.clock))
    if problem is not None:
        raise refuse(
            "rule_violation", "this kind of coordinator is not possible here", "kind", problem
        )


def check_appointable(
    ctx: ServiceContext,
    c: Coordinator,
    kind: CoordinatorKind,
    field: str,
    override: bool,
) -> bool:
    """Refuse an inactive coordinator, a hospital coordinator who is not health personnel
    (R17), and one at their limit without an override (R10). True when over the limit."""
    if not c.active:
        raise refuse(
            "rule_violation",
            "the coordinator cannot be appointed",
            field,
            "is not active in the coordinator registry",
        )
    if kind is CoordinatorKind.HOSPITAL and not c.health_personnel:
        raise refuse(
            "rule_violation",
            "the coordinator cannot be appointed",
            field,
            "is not health personnel; a hospital coordinator must be (R17)",
        )
    limit = c.caseload_limit or ctx.settings.caseload_limit
    if c.caseload >= limit:
        if not override:
            raise refuse(
                "rule_violation",
                "the coordinator is at their caseload limit",
                field,
                f"has {c.caseload} cases and a limit of {limit} (R10); appoint anyway only with "
                "override_limit and an override_reason",
            )
        return True
    return False


async def announce_over_limit(
    uow: UnitOfWork,
    ctx: ServiceContext,
    c: Coordinator,
    actor: Actor,
    case_id: uuid.UUID,
    reason: str,
) -> None:
    """An override of the limit (R10): an event for notifications (no reason in it), and the
    reason in the audit trail of the case, where the KE answers for it."""
    limit = c.caseload_limit or ctx.settings.caseload_limit
    uow.emit(
        CoordinatorOverLimit(coordinator_id=c.id, caseload=c.caseload, caseload_limit=limit),
        actor=actor,
        case_id=None,
    )
    uow.audit(actor=actor, action="assignment.override_limit", case_id=case_id, detail=reason)


async def appoint_first(
    uow: UnitOfWork,
    ctx: ServiceContext,
    case: AssignmentCase,
    coordinator: Coordinator,
    kind: CoordinatorKind,
    actor: Actor,
    causation: Envelope | None,
) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    """Open an episode with its first coordinator, and the duties that follow (R9, R12, R19).
    Returns the appointment, the episode and the duty ids."""
    now = uow.clock.now()
    episode = Episode(
        id=uuid.uuid4(), org=uow.org, case_id=case.case_id, kind=kind.value, opened_at=now
    )
    uow.session.add(episode)
    case.episode_id = episode.id
    case.kind = kind.value
    change = first_appointment(coordinator.id, now)
    await apply_change(uow, case, [], change)
    case.primary_coordinator_id = coordinator.id
    unflag(case)
    await recount(uow, {coordinator.id})
    await uow.session.refresh(coordinator)
    duty_ids = []
    for duty_kind, due_on in duty_due_dates(
        local_today(uow.clock), ctx.settings.duty_due_days
    ).items():
        duty = Duty(
            id=uuid.uuid4(),
            org=uow.org,
            case_id=case.case_id,
            episode_id=episode.id,
            kind=duty_kind.value,
            due_on=due_on,
            created_at=now,
        )
        uow.session.add(duty)
        duty_ids.append(duty.id)
    appointment_id = change.new[0].id
    uow.emit(
        CoordinatorAppointed(
            appointment_id=appointment_id,
            case_id=case.case_id,
            case_ref=case.case_ref,
            coordinator_id=coordinator.id,
            kind=kind,
        ),
        actor=actor,
        case_id=case.case_id,
        causation=causation,
    )
    uow.audit(actor=actor, action="assignment.appoint", case_id=case.case_id)
    return appointment_id, episode.id, duty_ids
