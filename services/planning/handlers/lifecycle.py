"""How a plan comes to be and freezes: consent and the coordinator (R5-R7, R9)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy import select as core_select
from sqlmodel import col, select

from services.planning.domain import PlanStatus, ready_for_plan
from services.planning.store import (
    ConsentNote,
    Meeting,
    Plan,
    PlanningCase,
    PlanVersion,
    ToolChange,
    counts,
)
from shared import gate
from shared.contracts.assignment import (
    CoordinationStopped,
    CoordinatorAppointed,
    HandoverCompleted,
)
from shared.contracts.consent import (
    ConsentEnded,
    ConsentInForce,
    ConsentKind,
    ConsentRecorded,
    EndCause,
    GateActor,
    GateDecision,
)
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.intake import CaseStatusChanged, DecisionMade
from shared.contracts.planning import (
    CloseReason,
    PlanContent,
    PlanCreated,
    PlanFrozen,
    PlanStatusChanged,
    PlanUnfrozen,
)
from shared.db.fast import FastStatement
from shared.db.uow import UnitOfWork
from shared.ids import new_id
from shared.service import ServiceContext

from .common import content_of, project_due, version_row, write_version
from .group import cancel

PLANS = Plan.__table__  # type: ignore[attr-defined]

# Built once. Rows nobody reads back as objects in the same transaction are written with plain
# statements: an ORM flush of a mapped object costs a multiple of the statement itself.
# On SQLite they run straight on the driver (shared.db.fast).
_INSERT_TOOL_CHANGE = FastStatement(insert(ToolChange.__table__))  # type: ignore[attr-defined]
_INSERT_PLAN = FastStatement(insert(PLANS))
_INSERT_VERSION = FastStatement(insert(PlanVersion.__table__))  # type: ignore[attr-defined]
_PLAN_ID_LOCKED = FastStatement(
    core_select(PLANS.c.id).where(PLANS.c.case_id == bindparam("case_id")).with_for_update()
)
_EMPTY_CONTENT = PlanContent().model_dump_json(exclude_defaults=True)


async def planning_case(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    case_ref: str,
    *,
    insert_first: bool = False,
    **initial: Any,
) -> PlanningCase:
    """The case, locked for this transaction (``FOR UPDATE``), inserted with ``initial`` first
    if it is absent: ``uow.get_or_insert`` in one statement where it can be.

    ``insert_first`` tries the insert before the read, for an event that usually creates the
    row; otherwise the locked read comes first. A row this call inserts is taken into the
    session as written, without reading it back. A concurrent insert of the same row is safe:
    the insert does nothing on conflict, and the row is then read."""
    values = {"case_id": case_id, "org": uow.org, "case_ref": case_ref, **initial}
    return await uow.get_or_insert(
        PlanningCase, case_id, values, insert_first=insert_first, as_written=True
    )


async def create_plan(
    uow: UnitOfWork,
    case: PlanningCase,
    actor: Actor,
    env: Envelope | None,
    *,
    absent: bool = False,
    consent_in_force: bool = False,
) -> uuid.UUID | None:
    """A draft plan, version 1 and empty, once IP consent is in force and a coordinator
    exists (R5); its id.

    ``absent``: the caller has just found, with the case's row locked, that the case has no
    plan (``_plan_of``), so it is not looked for again. ``consent_in_force``: the caller has
    just found the case's IP consent in force; otherwise it is looked up, for the case's
    consent may be one that has not started yet: a young person's own, standing in from
    later on the 16th birthday for the parents' that lapsed (R6, ``_stand_in``). No plan is
    made on it before it starts; its start drafts the plan (``on_consent_in_force``). The
    plan and its first version are inserted at once with plain statements."""
    if case.closed_at is not None or case.ip_refused_at is not None:
        return None  # a closed case, or one whose IP was refused (R3), gets no plan
    if not ready_for_plan(case.ip_consent_id, case.coordinator_id):
        return None
    if not consent_in_force and not await _ip_consent_in_force(uow, case):
        return None
    if not absent:
        existing = await uow.session.exec(select(Plan).where(Plan.case_id == case.case_id))
        if existing.first() is not None:
            return None
    assert case.coordinator_id is not None
    now = uow.clock.now()
    plan_id = new_id()
    conn = await uow.connection()
    await _INSERT_PLAN.run(
        conn,
        {
            "id": plan_id,
            "org": uow.org,
            "case_id": case.case_id,
            "case_ref": case.case_ref,
            "coordinator_id": case.coordinator_id,
            "status": PlanStatus.DRAFT,
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "items_numbered": 0,
        },
    )
    await _INSERT_VERSION.run(
        conn,
        {
            "plan_id": plan_id,
            "version": 1,
            "saved_at": now,
            "saved_by": actor.id,
            "by_kind": "service",
            "by_id": "planning",
            "change": "created",
            "status": PlanStatus.DRAFT,
            "note": None,
            "content": _EMPTY_CONTENT,
        },
    )
    uow.emit(
        PlanCreated(
            plan_id=plan_id,
            case_id=case.case_id,
            case_ref=case.case_ref,
            coordinator_id=case.coordinator_id,
        ),
        actor=actor,
        case_id=case.case_id,
        causation=env,
    )
    return plan_id


async def _ip_consent_in_force(uow: UnitOfWork, case: PlanningCase) -> bool:
    """Has the case's IP consent started, and does it count now (R5)? It may be one that
    stands in from later today (R6, ``_stand_in``)."""
    if case.ip_consent_id is None:
        return False
    note = await uow.session.get(ConsentNote, case.ip_consent_id)
    return note is not None and note.in_force(uow.clock.now())


async def _plan_of(uow: UnitOfWork, case_id: uuid.UUID) -> Plan | None:
    """The case's plan, locked for this transaction (``FOR UPDATE``), or None. Plans are
    written with plain statements (``create_plan``), so a plain locked read of the id finds
    every plan; only an existing one is loaded as an object."""
    conn = await uow.connection()
    found = await _PLAN_ID_LOCKED.fetch(conn, {"case_id": case_id})
    if not found:
        return None
    return await uow.session.get(Plan, found[0][0])


async def on_consent(uow: UnitOfWork, env: Envelope, event: ConsentRecorded) -> None:
    """Every consent is noted for the plan (R14 point 8). IP consent in force (R5): with a
    coordinator in place a draft plan follows, a frozen plan thaws, and the tool is the IP
    unless the person chose otherwise (R13). One that starts later counts from then
    (``on_consent_in_force``): no plan is made on it before."""
    noted = await uow.insert_if_absent(
        ConsentNote,
        {
            "consent_id": event.consent_id,
            "case_id": event.case_id,
            "kind": event.kind,
            "given_at": event.given_at,
            "valid_until": event.valid_until,
            "valid_from": event.valid_from,
            "status": "active",
        },
    )
    status, valid_from = "active", event.valid_from
    if not noted:  # its end, or its start, arrived first (the consumers are separate)
        note = await uow.session.get(ConsentNote, event.consent_id)
        assert note is not None
        note.given_at, note.valid_until = event.given_at, event.valid_until
        if note.valid_from is None or event.valid_from is None:
            note.valid_from = None  # told in force already, or in force when given
        status, valid_from = note.status, note.valid_from
    if event.kind is ConsentKind.IP and counts(
        status, valid_from, event.valid_until, uow.clock.now()
    ):
        await _ip_consent(
            uow,
            env,
            event.case_id,
            event.case_ref,
            event.consent_id,
            event.given_at,
            event.given_by_role,
        )


async def on_consent_in_force(uow: UnitOfWork, env: Envelope, event: ConsentInForce) -> None:
    """A consent recorded to start later has started (R5, R6): from now it counts, as if it
    had been recorded now."""
    note = await _started(uow, event.consent_id, event.case_id, event.kind, env.occurred_at)
    if event.kind is ConsentKind.IP and note.in_force(uow.clock.now()):
        await _ip_consent(
            uow,
            env,
            event.case_id,
            event.case_ref,
            note.consent_id,
            note.given_at,
            event.given_by_role,
        )


async def _ip_consent(
    uow: UnitOfWork,
    env: Envelope,
    case_id: uuid.UUID,
    case_ref: str,
    consent_id: uuid.UUID,
    given_at: datetime,
    given_by_role: str,
) -> None:
    """An IP consent in force (R5): the case's basis for a plan."""
    case = await planning_case(uow, case_id, case_ref)
    if case.ip_consent_id is not None and case.ip_consent_id != consent_id:
        current = await uow.session.get(ConsentNote, case.ip_consent_id)
        if (
            current is not None
            and current.in_force(uow.clock.now())
            and current.given_at > given_at
        ):
            return  # a late, older consent does not replace a newer one
    case.ip_consent_id = consent_id
    if case.tool is None:
        case.tool = "ip"
        conn = await uow.connection()
        await _INSERT_TOOL_CHANGE.run(
            conn,
            {
                "id": new_id(),
                "case_id": case.case_id,
                "tool": "ip",
                "chosen_by": given_by_role,
                "at": given_at,
                "recorded_by": env.actor.id,
                "note": "samtykke til individuell plan",
            },
        )
    plan = await _plan_of(uow, case.case_id)
    if plan is not None and plan.status == PlanStatus.FROZEN and case.ip_refused_at is None:
        await _thaw(uow, plan, env)
    if plan is None:
        await create_plan(uow, case, env.actor, env, absent=True, consent_in_force=True)


async def ip_consent_now(ctx: ServiceContext, case_id: uuid.UUID) -> GateDecision:
    """The gate's answer, by consent's data and clock: may a plan be made for the case now?"""
    return await gate.ask(ctx, case_id, GateActor(kind="coordinator", id="planning"), "create_plan")


def make_ip_consent_gate(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Before an IP consent's end is applied: which IP consent the gate finds in force now
    (consent's data and clock, not planning's), to stand in for the one that ended."""

    async def in_force(env: Envelope, event: ConsentEnded) -> GateDecision | None:
        if event.kind is not ConsentKind.IP:
            return None
        return await ip_consent_now(ctx, event.case_id)

    return in_force


async def _stand_in(
    uow: UnitOfWork, event: ConsentEnded, gate: GateDecision | None
) -> uuid.UUID | None:
    """The IP consent the gate found in force instead of the one that ended (a young person's
    own from their 16th birthday, R6), noted as started; None if there is none (R7).

    A parents' consent that lapsed because the young person's own took over (``renewed``)
    hands over also to one that starts later that same day in Norway (00:00 UTC is 01:00 in
    Oslo): the plan does not freeze for that hour, and that consent is not noted as started
    before its own event says so."""
    if gate is None or gate.consent_id in (None, event.consent_id):
        return None
    assert gate.consent_id is not None
    if gate.allow:
        note = await _started(uow, gate.consent_id, event.case_id, ConsentKind.IP, uow.clock.now())
    elif event.cause is EndCause.RENEWED:
        pending = await uow.session.get(ConsentNote, gate.consent_id)
        # Its recording has not come yet: noted, not as started.
        note = pending or _note(
            uow, gate.consent_id, event.case_id, ConsentKind.IP, "active", pending=True
        )
    else:
        return None
    return note.consent_id if note.status == "active" else None  # else its end came first


def _note(
    uow: UnitOfWork,
    consent_id: uuid.UUID,
    case_id: uuid.UUID,
    kind: ConsentKind,
    status: str,
    *,
    pending: bool = False,
) -> ConsentNote:
    """A consent noted before its recording came, as of now; ``pending``: not yet started."""
    now = uow.clock.now()
    note = ConsentNote(
        consent_id=consent_id,
        case_id=case_id,
        kind=kind,
        given_at=now,
        valid_from=now if pending else None,
        status=status,
    )
    uow.session.add(note)
    return note


async def _started(
    uow: UnitOfWork,
    consent_id: uuid.UUID,
    case_id: uuid.UUID,
    kind: ConsentKind,
    heard_at: datetime,
) -> ConsentNote:
    """Consent says this consent has started (its event, or the gate): noted as started,
    whatever planning's own clock says; noted first if its recording has not come yet."""
    await uow.insert_if_absent(
        ConsentNote,
        {
            "consent_id": consent_id,
            "case_id": case_id,
            "kind": kind,
            "given_at": heard_at,
            "status": "active",
        },
    )
    note = await uow.session.get(ConsentNote, consent_id)
    assert note is not None
    note.valid_from = None
    return note


async def _freeze(uow: UnitOfWork, plan: Plan, cause: str, env: Envelope) -> None:
    """The plan freezes (R3, R7): readable, not edited, nothing falls due; ``cause`` says why."""
    plan.frozen_from = plan.status
    plan.status = PlanStatus.FROZEN
    await _reproject(uow, plan)
    uow.emit(
        PlanFrozen(plan_id=plan.id, case_id=plan.case_id, case_ref=plan.case_ref, cause=cause),
        actor=env.actor,
        case_id=plan.case_id,
        causation=env,
    )


async def _thaw(uow: UnitOfWork, plan: Plan, env: Envelope) -> None:
    """A frozen plan goes back to the status it froze in."""
    plan.status = plan.frozen_from or PlanStatus.DRAFT
    plan.frozen_from = None
    await _reproject(uow, plan)
    uow.emit(
        PlanUnfrozen(plan_id=plan.id, case_id=plan.case_id, case_ref=plan.case_ref),
        actor=env.actor,
        case_id=plan.case_id,
        causation=env,
    )


async def _reproject(uow: UnitOfWork, plan: Plan) -> None:
    row = await uow.session.get(PlanVersion, (plan.id, plan.version))
    if row is not None:
        await project_due(uow, plan, PlanContent.model_validate_json(row.content))


async def on_consent_ended(
    uow: UnitOfWork, env: Envelope, event: ConsentEnded, gate: GateDecision | None = None
) -> None:
    """A consent ended: noted. The IP consent ended (R6, R7): the plan freezes; the person
    still sees it, nobody edits it, no evaluations fall due."""
    note = await uow.session.get(ConsentNote, event.consent_id)
    if note is not None:
        note.status = event.cause
    else:  # the end came before the consent itself: remember it, so the consent never counts
        _note(uow, event.consent_id, event.case_id, event.kind, event.cause)
    if event.kind is not ConsentKind.IP:
        return
    case = await planning_case(uow, event.case_id, event.case_ref)
    if case.ip_consent_id == event.consent_id:
        # Another consent in force stands in (a young person's own from their 16th birthday,
        # R6); one that starts later does not (R7: nothing is done on an ended consent).
        case.ip_consent_id = await _stand_in(uow, event, gate)
    plan = await _plan_of(uow, case.case_id)
    if plan is None or plan.status in (PlanStatus.FROZEN, PlanStatus.CLOSED):
        return
    if case.ip_consent_id is not None:
        return
    await _freeze(uow, plan, event.cause, env)


async def on_appointed(uow: UnitOfWork, env: Envelope, event: CoordinatorAppointed) -> None:
    """A coordinator (R9): with IP consent in place a draft plan follows; an existing plan
    names the new coordinator (R14 point 3)."""
    # Usually planning's first news of the case (before the IP consent): inserted with it.
    case = await planning_case(
        uow,
        event.case_id,
        event.case_ref,
        insert_first=True,
        coordinator_id=event.coordinator_id,
        coordinator_at=env.occurred_at,
    )
    at = case.coordinator_at
    if at is not None and (
        at > env.occurred_at or (at == env.occurred_at and not case.coordinator_id)
    ):
        # Told after what followed it (a stop, R4, R7, or a later appointment); a stop at the
        # same moment wins.
        return
    previous = case.coordinator_id
    case.coordinator_id = event.coordinator_id  # unchanged if just inserted with it
    case.coordinator_at = env.occurred_at
    if event.handover_id is None:
        case.outgoing_coordinator_id = None  # a first appointment: nobody hands over
    elif event.handover_id == case.handover_done_id:
        pass  # told after the handover completed: its overlap is over
    elif previous not in (None, event.coordinator_id):
        case.outgoing_coordinator_id = previous  # R11: they work together in the overlap
    elif case.outgoing_coordinator_id == event.coordinator_id:
        case.outgoing_coordinator_id = None
    plan = await _plan_of(uow, case.case_id)
    if plan is not None:
        plan.coordinator_id = event.coordinator_id
        return
    await create_plan(uow, case, env.actor, env, absent=True)


# Why the case closed (intake) → why its plan closes.
_CLOSED_BECAUSE = {
    "moved": CloseReason.MOVED,
    "died": CloseReason.DECEASED,
    "no_longer_needed": CloseReason.NO_LONGER_NEEDED,
    "consent_withdrawn": CloseReason.PERSON_DECLINED,
    "declined": CloseReason.PERSON_DECLINED,
}


async def _cancel_meetings(uow: UnitOfWork, case: PlanningCase, env: Envelope) -> None:
    """The case closed: its responsibility group's meetings still ahead are cancelled, so the
    members are told and no reminder of them goes out (R13)."""
    ahead = await uow.session.exec(
        select(Meeting).where(
            Meeting.case_id == case.case_id,
            Meeting.status == "scheduled",
            col(Meeting.at) > uow.clock.now(),
        )
    )
    for meeting in list(ahead):
        cancel(uow, meeting, case, "Saken er avsluttet", env.actor, env)


def is_case_closing(event: CaseStatusChanged) -> bool:
    return event.status == "closed"


async def on_case_status_changed(uow: UnitOfWork, env: Envelope, event: CaseStatusChanged) -> None:
    """The case closed (moved, died, no longer needed, declined): its plan closes with it,
    with the case's reason, as a version of its own. It is kept as it was and stays readable
    (R16), nothing falls due on it any more, and the retention clock starts. A case that closed
    before it had a plan gets none, even if its consent or coordinator is told of late."""
    if not is_case_closing(event):
        return
    case = await planning_case(uow, event.case_id, event.case_ref)
    if case.closed_at is None:
        case.closed_at = uow.clock.now()
    await _cancel_meetings(uow, case, env)
    plan = await _plan_of(uow, event.case_id)
    if plan is None or plan.status == PlanStatus.CLOSED:
        return
    reason = _CLOSED_BECAUSE.get(event.reason or "", CloseReason.OTHER)
    before = plan.status
    plan.status = PlanStatus.CLOSED
    plan.status_reason = reason.value
    plan.closed_at = uow.clock.now()
    content = content_of(await version_row(uow, plan, None))
    await write_version(
        uow,
        plan,
        content,
        actor=env.actor,
        by=Actor(kind="service", id="planning"),
        change="closed",
        note="Saken er avsluttet",
        causation=env,
    )
    uow.emit(
        PlanStatusChanged(
            plan_id=plan.id,
            case_id=plan.case_id,
            case_ref=plan.case_ref,
            from_status=before,
            to_status=plan.status,
            close_reason=reason.value,
        ),
        actor=env.actor,
        case_id=plan.case_id,
        causation=env,
    )


async def on_handover_completed(uow: UnitOfWork, env: Envelope, event: HandoverCompleted) -> None:
    """The overlap ended (R11): the coordinator who handed over no longer reads or edits."""
    case = await planning_case(uow, event.case_id, event.case_ref)
    case.handover_done_id = event.handover_id
    if case.outgoing_coordinator_id == event.from_coordinator_id:
        case.outgoing_coordinator_id = None


async def on_coordination_stopped(
    uow: UnitOfWork, env: Envelope, event: CoordinationStopped
) -> None:
    """Coordination ended (a coordinator refused by decision, R4; the consent ended, R7; the
    case closed), also in the middle of an overlap: the coordinator is no longer the case's
    (R9), so they no longer read or edit the plan as coordinator, and nobody hands over.

    An appointment made after the stop (told before it) is kept."""
    case = await planning_case(uow, event.case_id, event.case_ref)
    if case.coordinator_at is not None and case.coordinator_at > env.occurred_at:
        return  # an appointment after the stop: a new coordination, left as it is
    # Whoever planning has as coordinator (the stopped one, or the one handing over when the
    # stop overtook the appointment of the one taking over): coordination has stopped.
    case.coordinator_id = None
    case.outgoing_coordinator_id = None
    case.coordinator_at = env.occurred_at


def is_ip_decision(event: DecisionMade) -> bool:
    return event.kind == "ip"


def make_ip_decision_gate(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Before a granted IP is applied: does an IP consent count now, by consent's data and
    clock (R5; R6: a parents' consent stops at the 16th birthday before the sweep marks it)?"""

    async def in_force(env: Envelope, event: DecisionMade) -> GateDecision | None:
        if not is_ip_decision(event) or not event.granted:
            return None
        return await ip_consent_now(ctx, event.case_id)

    return in_force


async def on_decision(
    uow: UnitOfWork, env: Envelope, event: DecisionMade, gate: GateDecision | None = None
) -> None:
    """A decision on IP (an enkeltvedtak, R3); the latest one counts. Refused: no plan is
    drafted, and a plan there is freezes (readable by the person, not edited, nothing falls
    due), since the decision may still be appealed. Granted (at once, after an appeal or a new
    assessment): the plan follows as usual (R5), and a plan frozen by the refusal thaws if the
    person's IP consent stands."""
    if not is_ip_decision(event):
        return
    case = await planning_case(uow, event.case_id, event.case_ref)
    if case.ip_decided_at is not None and env.occurred_at < case.ip_decided_at:
        return  # an older decision, told late: the latest one counts
    case.ip_decided_at = env.occurred_at
    plan = await _plan_of(uow, case.case_id)
    if not event.granted:
        case.ip_refused_at = uow.clock.now()
        if plan is None or plan.status in (PlanStatus.FROZEN, PlanStatus.CLOSED):
            return
        await _freeze(uow, plan, "ip_refused", env)
        return
    case.ip_refused_at = None
    if gate is not None and not gate.allow:
        return  # no IP consent counts now (R5); one that starts has its own event
    if plan is None:
        await create_plan(uow, case, env.actor, env, absent=True)
    elif plan.status == PlanStatus.FROZEN and await _ip_consent_in_force(uow, case):
        # A consent that starts later today (R6) thaws it when it starts (``_ip_consent``).
        await _thaw(uow, plan, env)
