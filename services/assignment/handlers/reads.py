"""Assignment's reads of a case: suggestions, coordination over time, the worklist, duties, and
the FHIR export. Each is audited: it is about a person's case."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from sqlmodel import col, select

from services.assignment.store import (
    Appointment,
    AssignmentCase,
    Coordinator,
    Duty,
    Episode,
    Handover,
)
from shared.clock import local_today
from shared.contracts.assignment import (
    AppointmentView,
    CaseNeed,
    CasesNeeding,
    ChildrenMapping,
    CompleteDuty,
    Coordination,
    CoordinatorKind,
    CoordinatorRole,
    DutyKind,
    DutyList,
    DutyView,
    EpisodeView,
    ExportCareTeam,
    FhirBundle,
    GetCoordination,
    HandoverView,
    ListCasesNeedingCoordinator,
    ListDuties,
    NeedCause,
    SuggestCoordinators,
    Suggestion,
    Suggestions,
)
from shared.contracts.commands import next_offset
from shared.db.uow import UnitOfWork
from shared.service import ServiceContext

from .common import get_case, lock_org, refuse
from .ranking import rank_for_case


def make_suggest(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Ranked candidates with reasons (R9, R10, R17)."""

    async def suggest(uow: UnitOfWork, q: SuggestCoordinators) -> Suggestions:
        case = await get_case(uow, q.case_id)
        facts, ranked = await rank_for_case(uow, ctx, case, q.limit)
        default = ctx.settings.caseload_limit
        return Suggestions(
            case_id=case.case_id,
            case_ref=case.case_ref,
            kind=facts.kind,
            candidates=[
                Suggestion(
                    coordinator_id=s.facts.coordinator_id,
                    staff_id=s.facts.staff_id,
                    display_name=s.facts.display_name,
                    unit=s.facts.unit,
                    score=s.score,
                    appointable=s.appointable,
                    needs_override=s.eligible and s.full,
                    caseload=s.facts.caseload,
                    caseload_limit=s.facts.limit(default),
                    reasons=s.reasons,
                )
                for s in ranked
            ],
        )

    return suggest


def _appointment(a: Appointment) -> AppointmentView:
    return AppointmentView(
        appointment_id=a.id,
        coordinator_id=a.coordinator_id,
        role=CoordinatorRole(a.role),
        start=a.started_at,
        end=a.ended_at,
    )


def _duty(d: Duty, case_ref: str, today: date, responsible: uuid.UUID | None) -> DutyView:
    return DutyView(
        duty_id=d.id,
        case_id=d.case_id,
        case_ref=case_ref,
        kind=DutyKind(d.kind),
        due_on=d.due_on,
        done_at=d.done_at,
        overdue=d.done_at is None and d.due_on < today,
        responsible_coordinator_id=responsible,
        children=(
            ChildrenMapping.model_validate_json(d.result)
            if d.result and d.kind == DutyKind.MAP_CHILDREN
            else None
        ),
    )


async def coordination(uow: UnitOfWork, q: GetCoordination) -> Coordination:
    """The case's coordinators over time: every episode, period and handover (R11)."""
    case = await get_case(uow, q.case_id)
    s = uow.session
    now = uow.clock.now()
    episodes = list(
        await s.exec(
            select(Episode).where(Episode.case_id == case.case_id).order_by(col(Episode.opened_at))
        )
    )
    appointments = list(
        await s.exec(
            select(Appointment)
            .where(Appointment.case_id == case.case_id)
            .order_by(col(Appointment.started_at), col(Appointment.role))
        )
    )
    handovers = list(
        await s.exec(
            select(Handover)
            .where(Handover.case_id == case.case_id)
            .order_by(col(Handover.planned_at))
        )
    )
    duties = await s.exec(
        select(Duty).where(Duty.case_id == case.case_id).order_by(col(Duty.due_on))
    )
    today = local_today(uow.clock)
    return Coordination(
        case_id=case.case_id,
        case_ref=case.case_ref,
        primary_coordinator_id=case.primary_coordinator_id,
        current=[
            _appointment(a)
            for a in appointments
            if a.started_at <= now and (a.ended_at is None or now < a.ended_at)
        ],
        needs_coordinator=NeedCause(case.awaiting_cause) if case.awaiting_cause else None,
        needs_since=case.awaiting_since,
        episodes=[
            EpisodeView(
                episode_id=e.id,
                kind=CoordinatorKind(e.kind),
                opened_at=e.opened_at,
                closed_at=e.closed_at,
                close_cause=e.close_cause,
                appointments=[_appointment(a) for a in appointments if a.episode_id == e.id],
                handovers=[
                    HandoverView(
                        handover_id=h.id,
                        from_coordinator_id=h.from_coordinator_id,
                        to_coordinator_id=h.to_coordinator_id,
                        overlap_start=h.overlap_start,
                        overlap_end=h.overlap_end,
                        status=h.status,
                    )
                    for h in handovers
                    if h.episode_id == e.id
                ],
            )
            for e in episodes
        ],
        duties=[_duty(d, case.case_ref, today, case.primary_coordinator_id) for d in duties],
    )


async def needing(uow: UnitOfWork, q: ListCasesNeedingCoordinator) -> CasesNeeding:
    """The KE's worklist of cases that need a (new) coordinator, oldest first (R11, R18)."""
    waiting = (AssignmentCase.org == uow.org, col(AssignmentCase.awaiting_since).is_not(None))
    total, rows = await uow.page(
        select(AssignmentCase),
        waiting,
        (col(AssignmentCase.awaiting_since), col(AssignmentCase.case_id)),
        offset=q.offset,
        limit=q.limit,
    )
    cases = [
        CaseNeed(
            case_id=c.case_id,
            case_ref=c.case_ref,
            cause=NeedCause(c.awaiting_cause or NeedCause.NO_CAPACITY),
            since=c.awaiting_since,
            responsible_coordinator_id=c.primary_coordinator_id,
        )
        for c in rows
    ]
    return CasesNeeding(
        cases=cases, total=total, next_offset=next_offset(q.offset, len(cases), total)
    )


async def list_duties(uow: UnitOfWork, q: ListDuties) -> DutyList:
    """Duties of a case, or of the cases a coordinator is responsible for now."""
    if q.case_id is None and q.coordinator_id is None:
        raise refuse(
            "validation_failed", "say whose duties", "case_id", "give case_id or coordinator_id"
        )
    query = (
        select(Duty, AssignmentCase)
        .join(AssignmentCase, col(AssignmentCase.case_id) == col(Duty.case_id))
        .where(Duty.org == uow.org)
    )
    if q.case_id is not None:
        query = query.where(Duty.case_id == q.case_id)
    if q.coordinator_id is not None:
        query = query.where(AssignmentCase.primary_coordinator_id == q.coordinator_id)
    if q.open_only:
        query = query.where(
            col(Duty.done_at).is_(None), col(Duty.episode_id) == col(AssignmentCase.episode_id)
        )
    today = local_today(uow.clock)
    rows = await uow.session.exec(query.order_by(col(Duty.due_on)))
    duties = [_duty(d, c.case_ref, today, c.primary_coordinator_id) for d, c in rows]
    if q.case_id is None:
        # Across cases: each case shown is read (its R12 mapping among it), in its own log.
        for case_id in dict.fromkeys(d.case_id for d in duties):
            uow.audit(actor=q.actor, action="assignment.duties", case_id=case_id)
    return DutyList(duties=duties)


async def complete_duty(uow: UnitOfWork, cmd: CompleteDuty) -> DutyList:
    """Mark a duty done, with who did it and an optional note kept here only."""
    await lock_org(uow)
    duty = await uow.session.get(Duty, cmd.duty_id)
    if duty is None or duty.org != uow.org:
        raise refuse("not_found", "no such duty", "duty_id", "is not a duty here")
    if duty.done_at is not None:
        raise refuse(
            "conflict", "the duty is already done", "duty_id", f"was done {duty.done_at:%Y-%m-%d}"
        )
    if duty.kind == DutyKind.MAP_CHILDREN and cmd.children is None:
        raise refuse(
            "validation_failed",
            "say what the mapping found",
            "children",
            "whether the person has children under 18 as next of kin, whether siblings need "
            "follow-up, and whether that is arranged (R12)",
        )
    if duty.kind != DutyKind.MAP_CHILDREN and cmd.children is not None:
        raise refuse(
            "validation_failed",
            "only the mapping of children has a result",
            "children",
            f"this duty is {duty.kind}, not map_children",
        )
    duty.done_at = uow.clock.now()
    duty.done_by = cmd.actor.id
    duty.note = cmd.note
    duty.result = cmd.children.model_dump_json() if cmd.children is not None else None
    case = await get_case(uow, duty.case_id)
    uow.audit(
        actor=cmd.actor, action="assignment.duty_done", case_id=duty.case_id, detail=duty.kind
    )
    return DutyList(
        duties=[_duty(duty, case.case_ref, local_today(uow.clock), case.primary_coordinator_id)]
    )


_FHIR_ROLE = {
    CoordinatorRole.PRIMARY: ("primary", "Koordinator"),
    CoordinatorRole.HANDING_OVER: ("handing-over", "Koordinator som overlater"),
}
_KIND_TEXT = {
    CoordinatorKind.MUNICIPAL: "Koordinator (kommune)",
    CoordinatorKind.HOSPITAL: "Koordinator (spesialisthelsetjenesten)",
    CoordinatorKind.CHILD: "Barnekoordinator",
}


async def export_fhir(uow: UnitOfWork, q: ExportCareTeam) -> FhirBundle:
    """Coordinators over time as FHIR R4 CareTeam (one per episode; participant periods show
    the overlap, R11) and EpisodeOfCare with careManager, validated by fhir.resources (R4B
    models, whose CareTeam and EpisodeOfCare are R4's). The person is referenced by case."""
    from fhir.resources.R4B.careteam import CareTeam
    from fhir.resources.R4B.episodeofcare import EpisodeOfCare

    view = await coordination(uow, GetCoordination(actor=q.actor, case_id=q.case_id))
    now = uow.clock.now()
    ids = {a.coordinator_id for e in view.episodes for a in e.appointments}
    staff = {
        c.id: c
        for c in await uow.session.exec(select(Coordinator).where(col(Coordinator.id).in_(ids)))
    }
    # The person by case reference only: no identity number leaves in an export.
    subject = {
        "identifier": {"system": "urn:kenett:case", "value": str(view.case_id)},
        "display": f"sak {view.case_ref}",
    }
    entries: list[dict[str, Any]] = []
    for e in view.episodes:
        period = {"start": e.opened_at.isoformat()}
        if e.closed_at:
            period["end"] = e.closed_at.isoformat()

        def practitioner(cid: uuid.UUID) -> dict[str, str]:
            c = staff.get(cid)
            return {
                "reference": f"Practitioner/{cid}",
                "display": c.display_name if c else str(cid),
            }

        participants = []
        for a in e.appointments:
            code, text = _FHIR_ROLE[a.role]
            p_period = {"start": a.start.isoformat()}
            if a.end:
                p_period["end"] = a.end.isoformat()
            participants.append(
                {
                    "role": [
                        {
                            "coding": [{"system": "urn:kenett:coordinator-role", "code": code}],
                            "text": text,
                        }
                    ],
                    "member": practitioner(a.coordinator_id),
                    "period": p_period,
                }
            )
        team = {
            "resourceType": "CareTeam",
            "id": str(e.episode_id),
            "status": "inactive" if e.closed_at else "active",
            "category": [
                {
                    "coding": [{"system": "urn:kenett:coordinator-kind", "code": e.kind.value}],
                    "text": _KIND_TEXT[e.kind],
                }
            ],
            "name": f"Koordinering, sak {view.case_ref}",
            "subject": subject,
            "period": period,
            "participant": participants,
        }
        # The care manager is whoever is primary now (not a successor still to start), or
        # the last primary of a closed episode.
        primaries = [a for a in e.appointments if a.role is CoordinatorRole.PRIMARY]
        at = e.closed_at or now
        managers = [a for a in primaries if a.start <= at and (a.end is None or at < a.end)]
        managers = managers or primaries[-1:]

        episode = {
            "resourceType": "EpisodeOfCare",
            "id": f"{e.episode_id}-episode",
            "status": "finished" if e.closed_at else "active",
            "type": [{"coding": [{"system": "urn:kenett:coordinator-kind", "code": e.kind.value}]}],
            "patient": subject,
            "period": period,
            "team": [{"reference": f"CareTeam/{e.episode_id}"}],
        }
        if managers:
            episode["careManager"] = practitioner(managers[0].coordinator_id)
        for resource, model in ((team, CareTeam), (episode, EpisodeOfCare)):
            entries.append(
                {
                    "resource": json.loads(
                        model.model_validate(resource).model_dump_json(exclude_none=True)
                    )
                }
            )
    return FhirBundle(bundle={"resourceType": "Bundle", "type": "collection", "entry": entries})
