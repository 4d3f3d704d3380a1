"""What planning's handlers share: finding a plan, reading a version, writing a version."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date

from sqlmodel import col, delete, func, select

from services.planning.domain import due_evaluations, schedule
from services.planning.store import ConsentNote, EvaluationDue, Plan, PlanningCase, PlanVersion
from shared.clock import OSLO
from shared.contracts.consent import GateActor
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.planning import (
    ConsentRef,
    PlanContent,
    PlanDocument,
    PlanScheduleChanged,
    PlanVersionSaved,
    PlanView,
)
from shared.contracts.replies import CommandRejected, refuse
from shared.db.uow import UnitOfWork


def no_plan() -> CommandRejected:
    return refuse("not_found", "no plan for this case", "case_id", "no plan")


async def head(uow: UnitOfWork, case_id: uuid.UUID, *, lock: bool = False) -> Plan:
    """The plan of a case in this organisation, or not_found."""
    statement = select(Plan).where(Plan.case_id == case_id, Plan.org == uow.org)
    if lock:
        statement = statement.with_for_update()
    plan = (await uow.session.exec(statement)).first()
    if plan is None:
        raise no_plan()
    return plan


async def case_of(uow: UnitOfWork, case_id: uuid.UUID) -> PlanningCase | None:
    case = await uow.session.get(PlanningCase, case_id)
    return case if case is not None and case.org == uow.org else None


async def version_row(uow: UnitOfWork, plan: Plan, version: int | None) -> PlanVersion:
    """A stored version of the plan (the latest when None), or not_found."""
    number = plan.version if version is None else version
    row = await uow.session.get(PlanVersion, (plan.id, number))
    if row is None:
        raise refuse(
            "not_found",
            "no such version of the plan",
            "version",
            f"the plan has versions 1 to {plan.version}",
        )
    return row


def content_of(row: PlanVersion) -> PlanContent:
    return PlanContent.model_validate_json(row.content)


async def consents(uow: UnitOfWork, case_id: uuid.UUID) -> list[ConsentRef]:
    """The consents that cover the plan and participants' access (R14 point 8)."""
    rows = await uow.session.exec(
        select(ConsentNote)
        .where(ConsentNote.case_id == case_id)
        .order_by(col(ConsentNote.given_at))
    )
    return [
        ConsentRef(
            consent_id=c.consent_id,
            kind=c.kind,
            given_at=c.given_at,
            valid_until=c.valid_until,
            status=c.status,
        )
        for c in rows
    ]


def view(plan: Plan, tool: str | None = None) -> PlanView:
    return PlanView(
        plan_id=plan.id,
        case_id=plan.case_id,
        case_ref=plan.case_ref,
        coordinator_id=plan.coordinator_id,
        status=plan.status,
        version=plan.version,
        created_at=plan.created_at,
        tool=tool or "ip",
        updated_at=plan.updated_at,
        period_start=plan.period_start,
        period_end=plan.period_end,
        next_evaluation_on=plan.next_evaluation_on,
        status_reason=plan.status_reason,
    )


async def document(
    uow: UnitOfWork,
    plan: Plan,
    case: PlanningCase | None,
    row: PlanVersion,
    content: PlanContent,
    withheld: list[str],
) -> PlanDocument:
    return PlanDocument(
        plan_id=plan.id,
        case_id=plan.case_id,
        case_ref=plan.case_ref,
        version=row.version,
        # The latest version shows the plan's status now (frozen, say); an earlier one, its own.
        status=plan.status if row.version == plan.version else row.status,
        tool=(case.tool if case is not None else None) or "ip",
        coordinator_id=plan.coordinator_id,
        saved_at=row.saved_at,
        saved_by=row.saved_by,
        content=content,
        consents=await consents(uow, plan.case_id),
        withheld=withheld,
    )


def check_version(plan: Plan, expected: int) -> None:
    """Optimistic concurrency: an edit made against an older version is refused, so nobody's
    change is silently overwritten."""
    if expected != plan.version:
        raise refuse(
            "conflict",
            "the plan has changed since you opened it; reload it and make your change again",
            "expected_version",
            f"you edited version {expected}; the plan is now at version {plan.version}",
        )


_NOT_WHILE_REFUSED = frozenset({"provider", "next_of_kin"})


def _coordinators(case: PlanningCase | None, current: uuid.UUID | None) -> set[str]:
    """The case's coordinator, and during a handover's overlap the one handing over (R11)."""
    ids = set() if current is None else {str(current)}
    if case is not None and case.outgoing_coordinator_id is not None:
        ids.add(str(case.outgoing_coordinator_id))
    return ids


def check_author(case: PlanningCase | None, plan: Plan, by: GateActor) -> None:
    """The plan is written by the case's coordinator (R9); providers and next of kin take part
    through them (R8)."""
    if by.kind != "coordinator":
        raise refuse(
            "forbidden",
            "only the case's coordinator edits the plan",
            "by",
            "providers, next of kin and the person take part through the coordinator (R8, R9)",
        )
    current = case.coordinator_id if case is not None else plan.coordinator_id
    if by.id not in _coordinators(case, current):
        raise refuse(
            "forbidden",
            "only the case's coordinator edits the plan",
            "by",
            "this coordinator is not the case's coordinator (R9)",
        )


def check_reader(case: PlanningCase | None, plan: Plan | None, who: GateActor) -> None:
    """Reading as the coordinator gives the whole plan: only the case's coordinator may. While
    a decision has refused IP (R3), providers and next of kin read nothing of it."""
    if case is not None and case.ip_refused_at is not None and who.kind in _NOT_WHILE_REFUSED:
        raise refuse(
            "forbidden",
            "the decision on individual plan refused it",
            "who",
            "until a decision grants an individual plan (R3), only the person and the "
            "coordinator read the plan",
        )
    if who.kind != "coordinator":
        return
    # The case's own record when there is one (None: coordination stopped, R4, R7).
    current = case.coordinator_id if case is not None else None
    if case is None and plan is not None:
        current = plan.coordinator_id
    if who.id not in _coordinators(case, current):
        raise refuse(
            "forbidden",
            "only the case's coordinator reads the plan as coordinator",
            "who",
            "this coordinator is not the case's coordinator (R9)",
        )


async def write_version(
    uow: UnitOfWork,
    plan: Plan,
    content: PlanContent,
    *,
    actor: Actor,
    by: GateActor | Actor,
    change: str,
    note: str | None,
    causation: Envelope | None = None,
) -> PlanVersion:
    """Store ``content`` as the plan's next version and bring the head up to date."""
    now = uow.clock.now()
    plan.version += 1
    plan.updated_at = now
    plan.period_start = content.period.start if content.period else None
    plan.period_end = content.period.end if content.period else None
    row = PlanVersion(
        plan_id=plan.id,
        version=plan.version,
        saved_at=now,
        saved_by=actor.id,
        by_kind=by.kind,
        by_id=by.id,
        change=change,
        status=plan.status,
        note=note,
        content=content.model_dump_json(exclude_defaults=True),
    )
    uow.session.add(row)
    await project_due(uow, plan, content)
    uow.emit(
        PlanVersionSaved(
            plan_id=plan.id,
            case_id=plan.case_id,
            case_ref=plan.case_ref,
            version=plan.version,
            status=plan.status,
            change=change,
        ),
        actor=actor,
        case_id=plan.case_id,
        causation=causation,
    )
    return row


async def project_due(uow: UnitOfWork, plan: Plan, content: PlanContent) -> None:
    """Pending evaluations follow the latest version; a closed or frozen plan has none. An
    overdue one already announced stays announced while its date is unchanged."""
    s = uow.session
    existing = {
        d.item_id: d
        for d in await s.exec(select(EvaluationDue).where(EvaluationDue.plan_id == plan.id))
    }
    last_revision = await last_revision_on(uow, plan)
    # Under responsibility-group meetings the plan is kept but not worked on (R13): nothing
    # of it falls due until the person switches back to the IP.
    case = await s.get(PlanningCase, plan.case_id)
    paused = plan.status in ("closed", "frozen") or (case is not None and case.tool == "meetings")
    wanted = {d.item_id: d for d in due_evaluations(content, last_revision)} if not paused else {}
    gone = [i for i, d in existing.items() if i not in wanted or wanted[i].due_on != d.due_on]
    if gone:
        await s.exec(  # type: ignore[call-overload]
            delete(EvaluationDue).where(
                col(EvaluationDue.plan_id) == plan.id, col(EvaluationDue.item_id).in_(gone)
            )
        )
        await s.flush()
    for item_id, d in wanted.items():
        if item_id in existing and item_id not in gone:
            continue
        s.add(
            EvaluationDue(
                plan_id=plan.id,
                item_id=item_id,
                org=plan.org,
                case_id=plan.case_id,
                item_kind=d.item_kind,
                due_on=d.due_on,
            )
        )
    plan.next_evaluation_on = min((d.due_on for d in wanted.values()), default=None)
    announce_schedule(uow, plan, content, last_revision, paused=paused)


async def last_revision_on(uow: UnitOfWork, plan: Plan) -> date | None:
    """The Norwegian day the plan's latest revision started (a version 'revision_started'),
    or None: what meets its revision dates (R14 point 7)."""
    started = (
        await uow.session.exec(
            select(func.max(col(PlanVersion.saved_at))).where(
                PlanVersion.plan_id == plan.id, PlanVersion.change == "revision_started"
            )
        )
    ).one()
    return None if started is None else started.astimezone(OSLO).date()


def announce_schedule(
    uow: UnitOfWork,
    plan: Plan,
    content: PlanContent,
    last_revision: date | None = None,
    *,
    paused: bool = False,
) -> None:
    """Tell reminders the plan's dates when they changed (R16): evaluation dates, deadlines,
    revision dates not yet met, and who is responsible, never a text. A closed or frozen plan
    has none."""
    items = (
        [] if paused or plan.status in ("closed", "frozen") else schedule(content, last_revision)
    )
    digest = hashlib.sha256(
        json.dumps([i.model_dump(mode="json") for i in items], sort_keys=True).encode()
        + str(plan.coordinator_id).encode()
    ).hexdigest()
    if digest == plan.schedule_digest:
        return
    plan.schedule_digest = digest
    uow.emit(
        PlanScheduleChanged(
            plan_id=plan.id,
            case_id=plan.case_id,
            case_ref=plan.case_ref,
            coordinator_id=plan.coordinator_id,
            items=items,
        ),
        actor=Actor(kind="service", id="planning"),
        case_id=plan.case_id,
    )
