"""Decisions (R3, R4), their letters, and appeals."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

from sqlmodel import col, select

from services.intake.decisions import DecisionKind, appeal_deadline, appealable
from services.intake.letters import LetterInput, render_html, render_pdf
from services.intake.lifecycle import CaseStatus
from services.intake.store import Appeal, Case, Decision, EligibilityAssessment
from shared.clock import OSLO, local_today
from shared.config import Settings
from shared.contracts.commands import next_offset
from shared.contracts.intake import (
    AppealDeadlines,
    AppealRegistered,
    AppealResult,
    AppealWindow,
    DecisionMade,
    DecisionResult,
    Letter,
    ListAppealDeadlines,
    MakeDecision,
    RegisterAppeal,
    RenderLetter,
)
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.uow import UnitOfWork
from shared.ids import new_id

from .common import load_case, transition


async def decide(uow: UnitOfWork, cmd: MakeDecision) -> DecisionResult:
    """Record a decision. An IP decision needs an eligibility assessment first (R1, R3)."""
    case = await load_case(uow, cmd.case_id, lock=True)
    kind = DecisionKind(cmd.kind)
    today = local_today(uow.clock)
    notified_on = cmd.notified_on or today
    errors = []
    if notified_on > today + timedelta(days=30):
        errors.append(FieldError(field="notified_on", reason="is more than 30 days ahead"))
    if notified_on < today:
        errors.append(
            FieldError(field="notified_on", reason="cannot be before the decision is made")
        )
    if case.status not in (CaseStatus.UNDER_ASSESSMENT, CaseStatus.DECIDED):
        transition_check = (
            "the case is closed"
            if case.status == CaseStatus.CLOSED
            else "assess eligibility before deciding"
            if case.status == CaseStatus.RECEIVED
            else f"the case is {case.status}; reassess it before a new decision"
        )
        errors.append(FieldError(field="case_id", reason=transition_check))
    if kind is DecisionKind.IP:
        assessed = (
            await uow.session.exec(
                select(EligibilityAssessment.id).where(EligibilityAssessment.case_id == case.id)
            )
        ).first()
        if assessed is None and not errors:
            errors.append(
                FieldError(
                    field="case_id",
                    reason="an IP decision needs an eligibility assessment first (R1)",
                )
            )
    if errors:
        raise CommandRejected("rule_violation", "the decision was not recorded", errors)
    deadline = appeal_deadline(notified_on) if appealable(kind) else None
    decision = Decision(
        id=new_id(),
        org=uow.org,
        case_id=case.id,
        kind=kind,
        granted=cmd.granted,
        grounds=cmd.grounds,
        decided_by=cmd.actor.id,
        decided_at=uow.clock.now(),
        notified_on=notified_on,
        appeal_deadline=deadline,
    )
    uow.session.add(decision)
    if case.status == CaseStatus.UNDER_ASSESSMENT:
        transition(uow, case, CaseStatus.DECIDED, cmd.actor)
    uow.emit(
        DecisionMade(
            case_id=case.id,
            case_ref=case.ref,
            decision_id=decision.id,
            kind=cmd.kind,
            granted=cmd.granted,
            appeal_deadline=deadline,
        ),
        actor=cmd.actor,
        case_id=case.id,
        correlation_id=cmd.correlation_id,
    )
    return DecisionResult(
        decision_id=decision.id,
        case_id=case.id,
        kind=cmd.kind,
        granted=cmd.granted,
        decided_at=decision.decided_at,
        appeal_deadline=deadline,
    )


async def _decision(uow: UnitOfWork, decision_id: uuid.UUID) -> tuple[Decision, Case]:
    decision = await uow.session.get(Decision, decision_id)
    if decision is None or decision.org != uow.org:
        raise CommandRejected(
            "not_found",
            "no such decision",
            [FieldError(field="decision_id", reason="unknown decision")],
        )
    case = await load_case(uow, decision.case_id)
    return decision, case


def make_letter(settings: Settings):  # type: ignore[no-untyped-def]
    """The letter query, signed in the organisation's name."""

    async def letter(uow: UnitOfWork, q: RenderLetter) -> Letter:
        decision, case = await _decision(uow, q.decision_id)
        data = LetterInput(
            kind=DecisionKind(decision.kind),
            granted=decision.granted,
            grounds=decision.grounds,
            case_ref=case.ref,
            sender=settings.display_name(),
            decided_on=decision.decided_at.astimezone(OSLO).date(),
            notified_on=decision.notified_on,
            appeal_deadline=decision.appeal_deadline,
            signed_by=decision.decided_by,
        )
        letter_date = decision.decided_at.astimezone(OSLO).date()
        title, html = render_html(data, letter_date=letter_date)
        pdf = (
            base64.b64encode(render_pdf(data, letter_date=letter_date)).decode() if q.pdf else None
        )
        return Letter(
            decision_id=decision.id, case_id=case.id, title=title, html=html, pdf_base64=pdf
        )

    return letter


async def register_appeal(uow: UnitOfWork, cmd: RegisterAppeal) -> AppealResult:
    """Register an appeal of an IP decision (R3); a coordinator decision cannot be appealed (R4).

    A late appeal is registered and marked late: whether to consider it is for the
    Statsforvalter (forvaltningsloven § 31), not a reason to lose it.
    """
    decision, case = await _decision(uow, cmd.decision_id)
    if not appealable(DecisionKind(decision.kind)):
        raise CommandRejected(
            "rule_violation",
            "the appeal was not registered",
            [
                FieldError(
                    field="decision_id", reason="a decision on coordinator cannot be appealed (R4)"
                )
            ],
        )
    today = local_today(uow.clock)
    for field, value in (("received_on", cmd.received_on), ("sent_on", cmd.sent_on)):
        if value is not None and value > today:
            raise CommandRejected(
                "validation_failed",
                "the appeal was not registered",
                [FieldError(field=field, reason="is in the future")],
            )
    if cmd.sent_on is not None and cmd.sent_on > cmd.received_on:
        raise CommandRejected(
            "validation_failed",
            "the appeal was not registered",
            [FieldError(field="sent_on", reason="is after the appeal was received")],
        )
    decided_on = decision.decided_at.astimezone(OSLO).date()
    for field, value in (("received_on", cmd.received_on), ("sent_on", cmd.sent_on)):
        if value is not None and value < decided_on:
            raise CommandRejected(
                "validation_failed",
                "the appeal was not registered",
                [FieldError(field=field, reason=f"is before the decision ({decided_on})")],
            )
    await uow.lock(f"appeal:{decision.id}")  # two registrations at once: the second sees the first
    earlier = (
        await uow.session.exec(select(Appeal).where(Appeal.decision_id == decision.id))
    ).first()
    if earlier is not None:
        # One appeal per decision: a second letter belongs to the same appeal, and sends the
        # KE no second notice.
        raise CommandRejected(
            "conflict",
            "the appeal was not registered",
            [
                FieldError(
                    field="decision_id",
                    reason=f"this decision's appeal is registered already (received "
                    f"{earlier.received_on}, appeal {earlier.id})",
                )
            ],
        )
    assert decision.appeal_deadline is not None
    appeal = Appeal(
        id=new_id(),
        org=uow.org,
        decision_id=decision.id,
        case_id=case.id,
        received_on=cmd.received_on,
        deadline=decision.appeal_deadline,
        # Posted before the deadline is in time, whenever it arrives (forvaltningsloven § 30).
        in_time=(cmd.sent_on or cmd.received_on) <= decision.appeal_deadline,
        summary=cmd.summary,
        registered_by=cmd.actor.id,
        registered_at=uow.clock.now(),
    )
    uow.session.add(appeal)
    uow.emit(
        AppealRegistered(
            case_id=case.id,
            case_ref=case.ref,
            appeal_id=appeal.id,
            decision_id=decision.id,
            in_time=appeal.in_time,
        ),
        actor=cmd.actor,
        case_id=case.id,
        correlation_id=cmd.correlation_id,
    )
    return AppealResult(
        appeal_id=appeal.id,
        decision_id=decision.id,
        case_id=case.id,
        received_on=appeal.received_on,
        deadline=appeal.deadline,
        in_time=appeal.in_time,
    )


async def appeal_deadlines(uow: UnitOfWork, q: ListAppealDeadlines) -> AppealDeadlines:
    """IP decisions still within their appeal window and not appealed, soonest first (R3), a
    page at a time."""
    today = local_today(uow.clock)
    appealed = select(Appeal.decision_id)
    open_windows = (
        Decision.org == uow.org,
        col(Decision.appeal_deadline) >= today,
        col(Decision.id).not_in(appealed),
    )
    total, rows = await uow.page(
        select(Decision, Case).join(Case, col(Case.id) == col(Decision.case_id)),
        open_windows,
        (col(Decision.appeal_deadline), col(Decision.id)),
        offset=q.offset,
        limit=q.limit,
    )
    windows = [
        AppealWindow(
            decision_id=d.id,
            case_id=c.id,
            case_ref=c.ref,
            deadline=d.appeal_deadline,
            days_left=(d.appeal_deadline - today).days,  # type: ignore[operator]
        )
        for d, c in rows
    ]
    return AppealDeadlines(
        windows=windows, total=total, next_offset=next_offset(q.offset, len(windows), total)
    )
