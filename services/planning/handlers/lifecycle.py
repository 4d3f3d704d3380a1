"""How a plan comes to be and freezes: consent and the coordinator (R5-R7, R9)."""

from __future__ import annotations

import uuid

from sqlmodel import select

from services.planning.domain import PlanStatus, ready_for_plan
from services.planning.store import ConsentNote, Plan, PlanningCase, PlanVersion, ToolChange
from shared.contracts.assignment import CoordinatorAppointed
from shared.contracts.consent import ConsentEnded, ConsentKind, ConsentRecorded
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.planning import PlanContent, PlanCreated, PlanFrozen, PlanUnfrozen
from shared.db.uow import UnitOfWork

from .common import project_due


async def planning_case(uow: UnitOfWork, case_id: uuid.UUID, case_ref: str) -> PlanningCase:
    return await uow.get_or_insert(
        PlanningCase, case_id, {"case_id": case_id, "org": uow.org, "case_ref": case_ref}
    )


async def create_plan(
    uow: UnitOfWork, case: PlanningCase, actor: Actor, env: Envelope | None
) -> Plan | None:
    """A draft plan, version 1 and empty, once IP consent and a coordinator exist (R5)."""
    if not ready_for_plan(case.ip_consent_id, case.coordinator_id):
        return None
    existing = (await uow.session.exec(select(Plan).where(Plan.case_id == case.case_id))).first()
    if existing is not None:
        return None
    assert case.coordinator_id is not None
    now = uow.clock.now()
    plan = Plan(
        id=uuid.uuid4(),
        org=uow.org,
        case_id=case.case_id,
        case_ref=case.case_ref,
        coordinator_id=case.coordinator_id,
        status=PlanStatus.DRAFT,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(plan)
    uow.session.add(
        PlanVersion(
            plan_id=plan.id,
            version=1,
            saved_at=now,
            saved_by=actor.id,
            by_kind="service",
            by_id="planning",
            change="created",
            status=plan.status,
            note=None,
            content=PlanContent().model_dump_json(exclude_defaults=True),
        )
    )
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
    return plan


async def _plan_of(uow: UnitOfWork, case_id: uuid.UUID) -> Plan | None:
    return (
        await uow.session.exec(select(Plan).where(Plan.case_id == case_id).with_for_update())
    ).first()


async def on_consent(uow: UnitOfWork, env: Envelope, event: ConsentRecorded) -> None:
    """Every consent is noted for the plan (R14 point 8). IP consent (R5): with a coordinator in
    place a draft plan follows, a frozen plan thaws, and the tool is the IP unless the person
    chose otherwise (R13)."""
    note = await uow.session.get(ConsentNote, event.consent_id)
    if note is None:
        note = ConsentNote(
            consent_id=event.consent_id,
            case_id=event.case_id,
            kind=event.kind,
            given_at=event.given_at,
            valid_until=event.valid_until,
        )
        uow.session.add(note)
    else:  # its end arrived first (the consumers are separate): the note keeps the end
        note.given_at, note.valid_until = event.given_at, event.valid_until
    if event.kind is not ConsentKind.IP or note.status != "active":
        return
    case = await planning_case(uow, event.case_id, event.case_ref)
    if case.ip_consent_id is not None and case.ip_consent_id != event.consent_id:
        current = await uow.session.get(ConsentNote, case.ip_consent_id)
        if current is not None and current.given_at > event.given_at:
            return  # a late, older consent does not replace a newer one
    case.ip_consent_id = event.consent_id
    if case.tool is None:
        case.tool = "ip"
        uow.session.add(
            ToolChange(
                id=uuid.uuid4(),
                case_id=case.case_id,
                tool="ip",
                chosen_by=event.given_by_role,
                at=event.given_at,
                recorded_by=env.actor.id,
                note="samtykke til individuell plan",
            )
        )
    plan = await _plan_of(uow, case.case_id)
    if plan is not None and plan.status == PlanStatus.FROZEN:
        plan.status = plan.frozen_from or PlanStatus.DRAFT
        plan.frozen_from = None
        await _reproject(uow, plan)
        uow.emit(
            PlanUnfrozen(plan_id=plan.id, case_id=plan.case_id, case_ref=plan.case_ref),
            actor=env.actor,
            case_id=plan.case_id,
            causation=env,
        )
    await create_plan(uow, case, env.actor, env)


async def _reproject(uow: UnitOfWork, plan: Plan) -> None:
    row = await uow.session.get(PlanVersion, (plan.id, plan.version))
    if row is not None:
        await project_due(uow, plan, PlanContent.model_validate_json(row.content))


async def on_consent_ended(uow: UnitOfWork, env: Envelope, event: ConsentEnded) -> None:
    """A consent ended: noted. The IP consent ended (R6, R7): the plan freezes; the person
    still sees it, nobody edits it, no evaluations fall due."""
    note = await uow.session.get(ConsentNote, event.consent_id)
    if note is not None:
        note.status = event.cause
    else:  # the end came before the consent itself: remember it, so the consent never counts
        uow.session.add(
            ConsentNote(
                consent_id=event.consent_id,
                case_id=event.case_id,
                kind=event.kind,
                given_at=uow.clock.now(),
                status=event.cause,
            )
        )
    if event.kind is not ConsentKind.IP:
        return
    case = await planning_case(uow, event.case_id, event.case_ref)
    if case.ip_consent_id == event.consent_id:
        case.ip_consent_id = None
    plan = await _plan_of(uow, case.case_id)
    if plan is None or plan.status in (PlanStatus.FROZEN, PlanStatus.CLOSED):
        return
    if case.ip_consent_id is not None:
        return
    plan.frozen_from = plan.status
    plan.status = PlanStatus.FROZEN
    await _reproject(uow, plan)
    uow.emit(
        PlanFrozen(
            plan_id=plan.id, case_id=plan.case_id, case_ref=plan.case_ref, cause=event.cause
        ),
        actor=env.actor,
        case_id=plan.case_id,
        causation=env,
    )


async def on_appointed(uow: UnitOfWork, env: Envelope, event: CoordinatorAppointed) -> None:
    """A coordinator (R9): with IP consent in place a draft plan follows; an existing plan
    names the new coordinator (R14 point 3)."""
    case = await planning_case(uow, event.case_id, event.case_ref)
    case.coordinator_id = event.coordinator_id
    plan = await _plan_of(uow, case.case_id)
    if plan is not None:
        plan.coordinator_id = event.coordinator_id
        return
    await create_plan(uow, case, env.actor, env)
