"""A case's coordination: what other services tell assignment about the case, and the KE's
commands that appoint, hand over and release (R5, R9-R11, R17, R20)."""

from __future__ import annotations

import uuid

from sqlmodel import col, select

from services.assignment import coordination
from services.assignment.coordination import CoordinationError
from services.assignment.domain import kind_problem
from services.assignment.store import (
    AssignmentCase,
    Coordinator,
    EndedConsent,
    Episode,
    Handover,
)
from shared import gate
from shared.client import KenettClient, RequestFailed
from shared.clock import local_today
from shared.contracts.assignment import (
    AppointCoordinator,
    AppointResult,
    CancelHandover,
    CaseFlagResult,
    CaseNeedsResult,
    CoordinationStopped,
    CoordinatorAppointed,
    HandoverCancelled,
    HandoverCompleted,
    HandoverPlanned,
    HandoverResult,
    NeedCause,
    PlanHandover,
    ReleaseCoordinator,
    SetCoordinatorNeeds,
)
from shared.contracts.consent import (
    ConsentEnded,
    ConsentInForce,
    ConsentKind,
    ConsentRecorded,
    EndCause,
    GateActor,
    GateDecision,
    MayQuery,
)
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.intake import CaseOpened, CaseStatusChanged, DecisionMade, GetCase
from shared.contracts.replies import CommandRejected
from shared.db.uow import UnitOfWork
from shared.gate import require
from shared.ids import new_id
from shared.service import ServiceContext

from .common import (
    announce_over_limit,
    apply_change,
    appoint_first,
    case_kind,
    case_row,
    check_appointable,
    check_kind,
    episode_rows,
    flag,
    get_case,
    get_coordinator,
    lock_org,
    recount,
    refuse,
    to_period,
    unflag,
)
from .ranking import rank_for_case


async def on_case_opened(uow: UnitOfWork, env: Envelope, event: CaseOpened) -> None:
    """The person behind the case (a pseudonymous id) and birth date: continuity across cases
    (R11) and whether a barnekoordinator fits (R20)."""
    # Usually the first news of the case: inserted as it should be, or found and updated.
    case = await case_row(
        uow,
        event.case_id,
        event.case_ref,
        insert_first=True,
        person_id=event.person_id,
        birth_date=event.birth_date,
    )
    case.person_id = event.person_id
    case.birth_date = event.birth_date


def make_on_consent(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Coordinator consent (R5): the case needs a coordinator. The KE confirms one from the
    suggestions (R9), or, where the organisation allows it, kenett appoints the top one."""

    async def may_coordinate(
        env: Envelope, event: ConsentRecorded | ConsentInForce
    ) -> GateDecision | None:
        if event.kind is not ConsentKind.COORDINATOR:
            return None
        # Ask the gate, not the event: the consent may have ended since this event was sent,
        # or start later (then it counts from consent_in_force, not now).
        return await coordinator_consent(ctx, event.case_id)

    async def on_consent(
        uow: UnitOfWork,
        env: Envelope,
        event: ConsentRecorded | ConsentInForce,
        gate: GateDecision | None,
    ) -> None:
        if event.kind is not ConsentKind.COORDINATOR or gate is None or not gate.allow:
            return
        await lock_org(uow)
        # The consent the gate found in force: a later-starting one recorded now is not it.
        consent_id = gate.consent_id or event.consent_id
        if await uow.session.get(EndedConsent, consent_id) is not None:
            return  # it ended after the gate answered (R7); a consent in force has its own event
        case = await case_row(uow, event.case_id, event.case_ref)
        if case.closed_at is not None:
            return  # closed in intake, which is final: a consent reopens nothing
        case.coordinator_consent_id = consent_id
        if case.episode_id is not None:
            return  # coordination runs; a renewed consent changes nothing here
        if case.coordinator_refused_at is not None:
            return  # the KE decided against a coordinator (R4): consent alone does not appoint
        await start_coordination(uow, ctx, case, env)

    return on_consent, may_coordinate


async def start_coordination(
    uow: UnitOfWork, ctx: ServiceContext, case: AssignmentCase, env: Envelope
) -> None:
    """The case needs its first coordinator: where the organisation allows it, kenett appoints
    the top suggestion (R9, R10); otherwise, or if nobody can take it, it goes on the KE's
    worklist."""
    kind = case_kind(ctx, case)
    problem = kind_problem(kind, ctx.settings.org_kind, case.birth_date, local_today(uow.clock))
    if problem is not None:
        # e.g. a barnekoordinator for someone who has turned 18 (R20): the KE decides.
        flag(uow, case, NeedCause.NEW, ctx.actor, env, note=problem)
    elif ctx.settings.auto_appoint:
        _, ranked = await rank_for_case(uow, ctx, case, 1)
        if ranked and ranked[0].appointable:
            # Ranked from this organisation's registry under the caseload lock (R10).
            chosen = ranked[0].facts.coordinator_id
            await appoint_first(uow, ctx, case, chosen, kind, ctx.actor, env)
            return
        flag(uow, case, NeedCause.NO_CAPACITY, ctx.actor, env)
    else:
        flag(uow, case, NeedCause.NEW, ctx.actor, env)


def is_coordinator_decision(event: DecisionMade) -> bool:
    return event.kind == "coordinator"


def make_on_decision(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    async def may_coordinate(env: Envelope, event: DecisionMade) -> GateDecision | None:
        """A granted coordinator: ask the gate whether a coordinator consent counts now (R5,
        R6: a parents' consent stops at the 16th birthday, before the sweep marks it)."""
        if not is_coordinator_decision(event) or not event.granted:
            return None
        return await coordinator_consent(ctx, event.case_id)

    async def on_decision(
        uow: UnitOfWork, env: Envelope, event: DecisionMade, gate: GateDecision | None = None
    ) -> None:
        """A decision on coordinator (a beslutning, R4); the latest one counts. Refused: no
        coordinator is appointed, the case leaves the worklist, and coordination that runs
        ends (the KE has decided the person is not to have one). Granted: with the person's
        consent the case gets its coordinator as usual (R5, R9)."""
        if not is_coordinator_decision(event):
            return
        await lock_org(uow)
        case = await case_row(uow, event.case_id, event.case_ref)
        decided = case.coordinator_decided_at
        if decided is not None and env.occurred_at < decided:
            return  # an older decision, told late: the latest one counts
        case.coordinator_decided_at = env.occurred_at
        if not event.granted:
            case.coordinator_refused_at = uow.clock.now()
            await close_coordination(uow, case, "coordinator refused (R4)", env.actor, env)
            return
        case.coordinator_refused_at = None
        if gate is None or not gate.allow:
            return  # no coordinator consent counts now (R5); one in force has its own event
        if await uow.session.get(EndedConsent, gate.consent_id) is not None:
            return  # it ended after the gate answered (R7)
        if (
            case.coordinator_consent_id is not None
            and case.episode_id is None
            and case.closed_at is None
            and case.awaiting_since is None
        ):
            await start_coordination(uow, ctx, case, env)

    return on_decision, may_coordinate


async def close_coordination(
    uow: UnitOfWork, case: AssignmentCase, cause: str, actor: Actor, causation: Envelope | None
) -> None:
    """Coordination ends now: running periods end, planned ones go, the episode closes."""
    unflag(case)
    if case.episode_id is None:
        return
    await catch_up(uow, case, actor)
    now = uow.clock.now()
    rows = await episode_rows(uow, case.episode_id)
    touched = await apply_change(
        uow, case, rows, coordination.close([to_period(r) for r in rows], now)
    )
    episode = await uow.session.get(Episode, case.episode_id)
    assert episode is not None
    episode.closed_at = now
    episode.close_cause = cause
    for h in await uow.session.exec(
        select(Handover).where(
            Handover.episode_id == episode.id, col(Handover.status).in_(["planned", "started"])
        )
    ):
        # A planned one never happens; a running overlap ends with the coordination.
        if h.status == "planned":
            h.status = "cancelled"
            h.cancelled_at = now
        else:
            h.status = "completed"
    coordinator_id = case.primary_coordinator_id
    case.primary_coordinator_id = None
    case.episode_id = None
    await recount(uow, touched)
    if coordinator_id is not None:
        uow.emit(
            CoordinationStopped(
                case_id=case.case_id,
                case_ref=case.case_ref,
                coordinator_id=coordinator_id,
                cause=cause,
            ),
            actor=actor,
            case_id=case.case_id,
            causation=causation,
        )
    uow.audit(
        actor=actor, action="assignment.stop_coordination", case_id=case.case_id, detail=cause
    )


async def coordinator_consent(ctx: ServiceContext, case_id: uuid.UUID) -> GateDecision:
    """The gate's answer: is a coordinator consent in force for the case now, and which."""
    return await gate.ask(
        ctx, case_id, GateActor(kind="coordinator", id="assignment"), "coordinate"
    )


def make_on_consent_ended(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Coordination based on a consent stops when it ends (R7), unless another coordinator
    consent in force stands in (a young person's own from their 16th birthday, R6); one that
    starts later does not. An ended IP consent changes nothing here: a person who declines an
    IP keeps their coordinator (R5)."""

    async def in_force(env: Envelope, event: ConsentEnded) -> GateDecision:
        return await coordinator_consent(ctx, event.case_id)

    async def on_consent_ended(
        uow: UnitOfWork, env: Envelope, event: ConsentEnded, gate: GateDecision
    ) -> None:
        await lock_org(uow)
        if await uow.session.get(EndedConsent, event.consent_id) is None:  # not a redelivery
            uow.session.add(
                EndedConsent(
                    consent_id=event.consent_id, case_id=event.case_id, ended_at=env.occurred_at
                )
            )
        case = await uow.session.get(AssignmentCase, event.case_id)
        if case is None or case.coordinator_consent_id != event.consent_id:
            return  # a newer consent stands, or the case was never assigned on this one (yet)
        if await _stands_in(uow, event, gate):
            case.coordinator_consent_id = gate.consent_id
            return
        case.coordinator_consent_id = None
        await close_coordination(uow, case, f"consent {event.cause}", env.actor, env)

    return on_consent_ended, in_force


async def _stands_in(uow: UnitOfWork, event: ConsentEnded, gate: GateDecision) -> bool:
    """Does the consent the gate named carry coordination on in place of the one that ended?

    One in force does (R6: a young person's own, from their 16th birthday). A parents' consent
    that lapsed because the young person's own took over (``renewed``) hands over also to one
    that starts later that same day in Norway (a ``valid_from`` of 00:00 UTC is 01:00 in Oslo):
    the coordinator stays, and the gate says no until it starts. Its end, if it comes first or
    later, stops coordination (R7). A withdrawn or expired consent has no such successor."""
    if gate.consent_id in (None, event.consent_id):
        return False
    if not gate.allow and event.cause is not EndCause.RENEWED:
        return False
    return await uow.session.get(EndedConsent, gate.consent_id) is None


def is_coordinator_consent(event: ConsentRecorded | ConsentInForce | ConsentEnded) -> bool:
    return event.kind is ConsentKind.COORDINATOR


async def on_case_status(uow: UnitOfWork, env: Envelope, event: CaseStatusChanged) -> None:
    """The case closed in intake (moved, died, no longer needed): coordination closes too."""
    if event.status != "closed":
        return
    await lock_org(uow)
    # Kept even if this is the first news of the case: a consent heard of later must not
    # start coordination of a closed case.
    case = await case_row(uow, event.case_id, event.case_ref)
    case.closed_at = uow.clock.now()
    await close_coordination(uow, case, f"case closed: {event.reason or 'unknown'}", env.actor, env)


def make_set_needs(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Record the person's wish and needs (R9, R20)."""

    async def set_needs(uow: UnitOfWork, cmd: SetCoordinatorNeeds) -> CaseNeedsResult:
        await lock_org(uow)
        case = await get_case(uow, cmd.case_id)
        if cmd.wished_coordinator_id is not None:
            await get_coordinator(uow, cmd.wished_coordinator_id, "wished_coordinator_id")
        if cmd.kind is not None:
            check_kind(ctx, case, cmd.kind)
            if case.episode_id is not None and cmd.kind.value != case.kind:
                raise refuse(
                    "conflict",
                    "the kind of coordinator cannot change during coordination",
                    "kind",
                    f"coordination runs as {case.kind}; it changes only in a new episode",
                )
            case.kind = cmd.kind.value
        fields = cmd.model_fields_set
        if "wished_coordinator_id" in fields:
            case.wished_coordinator_id = cmd.wished_coordinator_id
        if "language" in fields:
            case.language = cmd.language
        if "unit" in fields:
            case.unit = cmd.unit
        return CaseNeedsResult(
            case_id=case.case_id,
            kind=case_kind(ctx, case),
            wished_coordinator_id=case.wished_coordinator_id,
            language=case.language,
            unit=case.unit,
        )

    return set_needs


async def _gate(
    ctx: ServiceContext, case_id: uuid.UUID, coordinator_id: uuid.UUID, actor: Actor
) -> GateDecision:
    """The consent gate must allow coordination (R5). A refusal for a case assignment has
    never heard of says so (a mistyped case id), not that consent is missing."""
    try:
        return await require(
            ctx.nc,
            ctx.org,
            MayQuery(
                actor=actor,
                case_id=case_id,
                who=GateActor(kind="coordinator", id=str(coordinator_id)),
                action="coordinate",
            ),
            timeout=ctx.settings.command_timeout_s,
        )
    except CommandRejected:
        # Intake owns the cases (and has them at once; this service hears of them later).
        client = KenettClient(ctx.nc, ctx.org, timeout=ctx.settings.command_timeout_s)
        try:
            await client.query("intake", GetCase(actor=ctx.actor, case_id=case_id))
        except RequestFailed as exc:
            if exc.error.code == "not_found":
                raise refuse("not_found", "no such case", "case_id", "unknown case") from None
        raise


def make_appoint(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """The KE appoints the first coordinator; the gate must find coordinator consent (R5, R9)."""

    async def gate(cmd: AppointCoordinator) -> GateDecision:
        return await _gate(ctx, cmd.case_id, cmd.coordinator_id, cmd.actor)

    async def appoint(
        uow: UnitOfWork, cmd: AppointCoordinator, decision: GateDecision | None = None
    ) -> AppointResult:
        await lock_org(uow)
        case = await get_case(uow, cmd.case_id)
        if case.closed_at is not None:
            raise refuse("conflict", "the case is closed", "case_id", "is closed in intake")
        if decision is not None and decision.consent_id is not None:
            # The gate answered before this transaction: the consent may have ended since,
            # and its end been handled meanwhile (R5, R7). Looked up under the lock.
            if await uow.session.get(EndedConsent, decision.consent_id) is not None:
                raise refuse(
                    "forbidden",
                    "the coordinator consent has ended",
                    "case_id",
                    "no coordinator consent is in force (R5, R7)",
                )
            # Coordination rests on this consent: its end stops it (R7).
            case.coordinator_consent_id = decision.consent_id
        if case.coordinator_refused_at is not None:
            raise refuse(
                "rule_violation",
                "the KE has decided against a coordinator for this case",
                "case_id",
                "a decision that grants a coordinator comes first (R4)",
            )
        if case.episode_id is not None:
            raise refuse(
                "conflict",
                "the case already has a coordinator",
                "case_id",
                "has a coordinator; a change is a planned handover with overlap (R11)",
            )
        kind = cmd.kind or case_kind(ctx, case)
        check_kind(ctx, case, kind)
        coordinator = await get_coordinator(uow, cmd.coordinator_id, "coordinator_id")
        over = check_appointable(ctx, coordinator, kind, "coordinator_id", cmd.override_limit)
        appointment_id, episode_id, duties = await appoint_first(
            uow, ctx, case, coordinator.id, kind, cmd.actor, None, audit=False
        )
        if over:
            await announce_over_limit(
                uow, ctx, coordinator, cmd.actor, case.case_id, cmd.override_reason or ""
            )
        return AppointResult(
            case_id=case.case_id,
            appointment_id=appointment_id,
            episode_id=episode_id,
            coordinator_id=coordinator.id,
            duty_ids=duties,
        )

    return appoint, gate


def make_plan_handover(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """A planned change with overlap (R11); the incoming coordinator needs the gate too."""

    async def gate(cmd: PlanHandover) -> None:
        await _gate(ctx, cmd.case_id, cmd.to_coordinator_id, cmd.actor)

    async def plan(uow: UnitOfWork, cmd: PlanHandover) -> HandoverResult:
        await lock_org(uow)
        case = await get_case(uow, cmd.case_id)
        if case.episode_id is None:
            raise refuse(
                "conflict",
                "the case has no coordinator to hand over from",
                "case_id",
                "appoint a first coordinator instead",
            )
        await catch_up(uow, case, cmd.actor)
        now = uow.clock.now()
        start = cmd.overlap_start or now
        incoming = await get_coordinator(uow, cmd.to_coordinator_id, "to_coordinator_id")
        if incoming.id == case.primary_coordinator_id:
            raise refuse(
                "rule_violation",
                "the handover was not planned",
                "to_coordinator_id",
                "is already the case's coordinator",
            )
        kind = case_kind(ctx, case)
        over = check_appointable(ctx, incoming, kind, "to_coordinator_id", cmd.override_limit)
        rows = await episode_rows(uow, case.episode_id)
        periods = [to_period(r) for r in rows]
        current = coordination.responsible(periods)
        outgoing = (
            await get_coordinator(uow, current.coordinator_id, "case_id") if current else None
        )
        try:
            change, old = coordination.plan_handover(
                periods,
                incoming.id,
                start,
                cmd.overlap_end,
                now,
                allow_no_overlap=outgoing is not None and not outgoing.active,
            )
        except CoordinationError as exc:
            raise refuse(
                "rule_violation", "the handover was not planned", exc.field, exc.reason
            ) from None
        touched = await apply_change(uow, case, rows, change)
        handover = Handover(
            id=new_id(),
            org=uow.org,
            case_id=case.case_id,
            episode_id=case.episode_id,
            from_coordinator_id=old.coordinator_id,
            to_coordinator_id=incoming.id,
            incoming_appointment_id=change.new[0].id,
            overlap_start=start,
            overlap_end=cmd.overlap_end,
            reason=cmd.reason,
            planned_by=cmd.actor.id,
            planned_at=now,
        )
        uow.session.add(handover)
        unflag(case)
        await recount(uow, touched)  # gives ``incoming`` its new caseload too
        uow.emit(
            HandoverPlanned(
                handover_id=handover.id,
                case_id=case.case_id,
                case_ref=case.case_ref,
                from_coordinator_id=old.coordinator_id,
                to_coordinator_id=incoming.id,
                overlap_start=start,
                overlap_end=cmd.overlap_end,
            ),
            actor=cmd.actor,
            case_id=case.case_id,
        )
        if start <= now:
            await start_handover(uow, case, handover, cmd.actor)
        if over:
            await announce_over_limit(
                uow, ctx, incoming, cmd.actor, case.case_id, cmd.override_reason or ""
            )
        return _result(handover)

    return plan, gate


def _result(h: Handover) -> HandoverResult:
    return HandoverResult(
        handover_id=h.id,
        case_id=h.case_id,
        from_coordinator_id=h.from_coordinator_id,
        to_coordinator_id=h.to_coordinator_id,
        overlap_start=h.overlap_start,
        overlap_end=h.overlap_end,
        status=h.status,
    )


async def start_handover(uow: UnitOfWork, case: AssignmentCase, h: Handover, actor: Actor) -> None:
    """The overlap begins: the incoming coordinator is now primary (R9, R11)."""
    h.status = "started"
    case.primary_coordinator_id = h.to_coordinator_id
    uow.emit(
        CoordinatorAppointed(
            appointment_id=h.incoming_appointment_id,
            case_id=case.case_id,
            case_ref=case.case_ref,
            coordinator_id=h.to_coordinator_id,
            kind=case.kind or "municipal",
            handover_id=h.id,
        ),
        actor=actor,
        case_id=case.case_id,
    )
    uow.audit(actor=actor, action="assignment.handover_started", case_id=case.case_id)


async def complete_handover(
    uow: UnitOfWork, case: AssignmentCase, h: Handover, actor: Actor
) -> None:
    """The overlap ended: only the new coordinator is listed (R11)."""
    h.status = "completed"
    await recount(uow, {h.from_coordinator_id, h.to_coordinator_id})
    uow.emit(
        HandoverCompleted(
            handover_id=h.id,
            case_id=h.case_id,
            case_ref=case.case_ref,
            from_coordinator_id=h.from_coordinator_id,
            to_coordinator_id=h.to_coordinator_id,
        ),
        actor=actor,
        case_id=h.case_id,
    )


async def catch_up(uow: UnitOfWork, case: AssignmentCase, actor: Actor) -> None:
    """Carry out what the clock has made due for this case before anything else changes it,
    so a command never acts on a handover the minute-sweep has not reached yet."""
    now = uow.clock.now()
    due = await uow.session.exec(
        select(Handover)
        .where(
            Handover.case_id == case.case_id,
            col(Handover.status).in_(["planned", "started"]),
            col(Handover.overlap_start) <= now,
        )
        .order_by(col(Handover.overlap_start))
    )
    for h in list(due):
        if h.status == "planned":
            await start_handover(uow, case, h, actor)
        if h.overlap_end <= now:
            await complete_handover(uow, case, h, actor)


def make_cancel_handover(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Withdraw a handover before it starts."""

    async def cancel(uow: UnitOfWork, cmd: CancelHandover) -> HandoverResult:
        await lock_org(uow)
        h = await uow.session.get(Handover, cmd.handover_id)
        if h is None or h.org != uow.org:
            raise refuse("not_found", "no such handover", "handover_id", "is not a handover here")
        case = await get_case(uow, h.case_id)
        await catch_up(uow, case, cmd.actor)
        if h.status != "planned":
            raise refuse(
                "conflict", "the handover cannot be cancelled", "handover_id", f"is {h.status}"
            )
        await cancel_planned(uow, case, h, cmd.actor)
        return _result(h)

    return cancel


async def cancel_planned(uow: UnitOfWork, case: AssignmentCase, h: Handover, actor: Actor) -> None:
    """Withdraw a planned handover. If the coordinator who stays has left, the case goes back
    on the KE's worklist at once (R11: never silently without a coordinator)."""
    assert case.episode_id is not None
    rows = await episode_rows(uow, case.episode_id)
    try:
        change = coordination.cancel_handover([to_period(r) for r in rows], uow.clock.now())
    except CoordinationError as exc:
        raise refuse(
            "conflict", "the handover cannot be cancelled", exc.field, exc.reason
        ) from None
    touched = await apply_change(uow, case, rows, change)
    h.status = "cancelled"
    h.cancelled_at = uow.clock.now()
    await recount(uow, touched)
    uow.emit(
        HandoverCancelled(handover_id=h.id, case_id=case.case_id, case_ref=case.case_ref),
        actor=actor,
        case_id=case.case_id,
    )
    staying = await uow.session.get(Coordinator, h.from_coordinator_id)
    if staying is None or not staying.active:
        flag(uow, case, NeedCause.HANDOVER_CANCELLED, actor)


def make_release(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Release the coordinator from a case: flagged at once, responsible until handed over."""

    async def release(uow: UnitOfWork, cmd: ReleaseCoordinator) -> CaseFlagResult:
        await lock_org(uow)
        case = await get_case(uow, cmd.case_id)
        if case.episode_id is None:
            raise refuse(
                "conflict",
                "the case has no coordinator",
                "case_id",
                "has no coordinator to release",
            )
        planned = (
            await uow.session.exec(
                select(Handover).where(
                    Handover.case_id == case.case_id, col(Handover.status) == "planned"
                )
            )
        ).first()
        if planned is not None:
            raise refuse(
                "conflict",
                "a handover is already planned",
                "case_id",
                "a successor is already planned; the case does not need a new one",
            )
        flag(uow, case, NeedCause.RELEASED, cmd.actor, note=cmd.note)
        uow.audit(
            actor=cmd.actor, action="assignment.release", case_id=case.case_id, detail=cmd.reason
        )
        return CaseFlagResult(
            case_id=case.case_id,
            cause=NeedCause.RELEASED,
            responsible_coordinator_id=case.primary_coordinator_id,
        )

    return release
