"""What assignment's handlers share: loading a case's periods, applying a change, recounting
caseloads, flagging a case that needs a coordinator, and appointing."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, delete, distinct, func, insert, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
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
from shared.db.fast import FastStatement
from shared.db.uow import UnitOfWork
from shared.ids import new_id
from shared.service import ServiceContext

COORDINATORS = Coordinator.__table__  # type: ignore[attr-defined]
APPOINTMENTS = Appointment.__table__  # type: ignore[attr-defined]

# The hot path writes rows nobody reads back in the same transaction with plain statements,
# built once: an ORM flush of a mapped object costs a multiple of the statement itself.
# On SQLite they run straight on the driver (shared.db.fast).
_INSERT_EPISODE = FastStatement(insert(Episode.__table__))  # type: ignore[attr-defined]
_INSERT_APPOINTMENT = FastStatement(insert(APPOINTMENTS))
_INSERT_DUTY = FastStatement(insert(Duty.__table__))  # type: ignore[attr-defined]
# R10: one statement counts and stores the caseload of each coordinator, and returns it.
_RECOUNT = (
    update(COORDINATORS)
    .where(COORDINATORS.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        caseload=core_select(func.count(distinct(APPOINTMENTS.c.case_id)))
        .where(
            APPOINTMENTS.c.coordinator_id == COORDINATORS.c.id,
            or_(APPOINTMENTS.c.ended_at.is_(None), APPOINTMENTS.c.ended_at > bindparam("now")),
        )
        .scalar_subquery()
    )
    .returning(COORDINATORS.c.id, COORDINATORS.c.caseload)
)

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


async def flush_pending(uow: UnitOfWork, *models: type) -> None:
    """Flush when the session holds unflushed changes to rows of these models: a plain
    statement then sees them, as autoflush gives an ORM read, without flushing unrelated rows
    (such as the case being handled) early and again at commit."""
    s = uow.session
    if any(isinstance(o, models) for o in (*s.new, *s.dirty, *s.deleted)):
        await s.flush()


async def case_row(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    case_ref: str,
    *,
    insert_first: bool = False,
    **initial: Any,
) -> AssignmentCase:
    """The case, locked for this transaction (``FOR UPDATE``), inserted with ``initial`` first
    if it is absent: ``uow.get_or_insert`` in one statement where it can be.

    ``insert_first`` tries the insert before the read, for the event that usually creates the
    row; otherwise the locked read comes first, for one that usually finds it. A row this call
    inserts is taken into the session as written, without reading it back. A concurrent insert
    of the same row is safe: the insert does nothing on conflict, and the row is then read."""
    values = {"case_id": case_id, "org": uow.org, "case_ref": case_ref, **initial}
    return await uow.get_or_insert(
        AssignmentCase, case_id, values, insert_first=insert_first, as_written=True
    )


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
    """Write a change: withdrawn periods first, then new ends, then new periods, each written
    before the next, so the unique open-primary index never sees two at once. New periods are
    inserted at once with a plain statement (nothing reads them back as objects in the same
    transaction). Returns the coordinators whose caseload changed."""
    s = uow.session
    by_id = {r.id: r for r in rows}
    touched: set[uuid.UUID] = set()
    if change.removed:
        touched |= {by_id[i].coordinator_id for i in change.removed}
        await s.exec(delete(Appointment).where(col(Appointment.id).in_(change.removed)))
        await s.flush()
    if change.ends:
        for pid, end in change.ends.items():
            by_id[pid].ended_at = end
            touched.add(by_id[pid].coordinator_id)
        await s.flush()
    if change.new:
        # A coordinator registered in this transaction must be in the table first (foreign key).
        await flush_pending(uow, Coordinator, Appointment)
        conn = await uow.connection()
        await _INSERT_APPOINTMENT.run(
            conn,
            [
                {
                    "id": p.id,
                    "org": uow.org,
                    "case_id": case.case_id,
                    "episode_id": case.episode_id,
                    "coordinator_id": p.coordinator_id,
                    "role": p.role.value,
                    "started_at": p.start,
                    "ended_at": p.end,
                }
                for p in change.new
            ],
        )
        touched |= {p.coordinator_id for p in change.new}
    return touched


async def recount(uow: UnitOfWork, coordinator_ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Recount the caseload of these coordinators from their appointments (R10): cases with a
    period running now or still to come. One statement counts and stores; a coordinator the
    session holds gets the new count too, as if read back."""
    if not coordinator_ids:
        return {}
    # Unflushed appointments must count, and a new coordinator's insert must not overwrite it.
    await flush_pending(uow, Coordinator, Appointment)
    conn = await uow.connection()
    rows = await conn.execute(_RECOUNT, {"ids": list(coordinator_ids), "now": uow.clock.now()})
    counts = dict.fromkeys(coordinator_ids, 0) | {cid: int(n) for cid, n in rows}
    held = uow.session.identity_map
    for cid, n in counts.items():
        c = held.get(identity_key(Coordinator, cid))
        if c is not None:
            set_committed_value(c, "caseload", n)
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
            coordinator_decided_at=case.coordinator_decided_at,
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
    coordinator_id: uuid.UUID,
    kind: CoordinatorKind,
    actor: Actor,
    causation: Envelope | None,
    *,
    audit: bool = True,
) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    """Open an episode with its first coordinator, and the duties that follow (R9, R12, R19).
    The episode, the period and the duties are inserted at once with plain statements; a
    ``Coordinator`` the session holds gets its new caseload (``recount``). Returns the
    appointment, the episode and the duty ids. ``audit``: record the appointment in the case's
    audit trail (not for the appoint command, which the command handler records already)."""
    now = uow.clock.now()
    episode_id = new_id()
    conn = await uow.connection()
    await _INSERT_EPISODE.run(
        conn,
        {
            "id": episode_id,
            "org": uow.org,
            "case_id": case.case_id,
            "kind": kind.value,
            "opened_at": now,
        },
    )
    case.episode_id = episode_id
    case.kind = kind.value
    change = first_appointment(coordinator_id, now)
    await apply_change(uow, case, [], change)
    case.primary_coordinator_id = coordinator_id
    unflag(case)
    await recount(uow, {coordinator_id})
    duties: list[dict[str, Any]] = [
        {
            "id": new_id(),
            "org": uow.org,
            "case_id": case.case_id,
            "episode_id": episode_id,
            "kind": duty_kind.value,
            "due_on": due_on,
            "created_at": now,
        }
        for duty_kind, due_on in duty_due_dates(
            local_today(uow.clock), ctx.settings.duty_due_days
        ).items()
    ]
    await _INSERT_DUTY.run(conn, duties)
    appointment_id = change.new[0].id
    uow.emit(
        CoordinatorAppointed(
            appointment_id=appointment_id,
            case_id=case.case_id,
            case_ref=case.case_ref,
            coordinator_id=coordinator_id,
            kind=kind,
        ),
        actor=actor,
        case_id=case.case_id,
        causation=causation,
    )
    if audit:
        uow.audit(actor=actor, action="assignment.appoint", case_id=case.case_id)
    return appointment_id, episode_id, [d["id"] for d in duties]
