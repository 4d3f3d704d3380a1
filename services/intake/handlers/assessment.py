"""Eligibility assessment (R1) pointing to the KE's offers (R18)."""

from __future__ import annotations

import json

from sqlmodel import col, select

from services.intake.catalogue import unknown_codes
from services.intake.eligibility import ExpectedDuration, assess
from services.intake.lifecycle import CaseStatus
from services.intake.store import EligibilityAssessment, Offer, Report
from shared.contracts.intake import (
    AssessEligibility,
    EligibilityAssessed,
    EligibilityResult,
    OfferRef,
)
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.uow import UnitOfWork
from shared.ids import new_id

from .common import load_case, loads, transition


async def assess_eligibility(uow: UnitOfWork, cmd: AssessEligibility) -> EligibilityResult:
    """Propose whether R1 is met. A proposal: the case officer decides (R3)."""
    case = await load_case(uow, cmd.case_id, lock=True)
    if cmd.services is not None:
        services = cmd.services
        if bad := unknown_codes(services):
            raise CommandRejected(
                "validation_failed",
                "the assessment was not made",
                [FieldError(field=f"services.{i}", reason=r) for i, r in bad],
            )
    else:
        reports = await uow.session.exec(select(Report.services).where(Report.case_id == case.id))
        services = list(dict.fromkeys(code for row in reports for code in loads(row)))
    if case.status == CaseStatus.CLOSED:
        raise CommandRejected(
            "rule_violation",
            f"case {case.ref} is closed",
            [FieldError(field="case_id", reason="the case is closed")],
        )
    result = assess(services, ExpectedDuration(cmd.expected_duration))
    offers = await _related_offers(uow, services)
    row = EligibilityAssessment(
        id=new_id(),
        org=uow.org,
        case_id=case.id,
        proposal=result.proposal,
        reasons=json.dumps(result.reasons, ensure_ascii=False),
        services=json.dumps(services, ensure_ascii=False),
        expected_duration=cmd.expected_duration,
        note=cmd.note,
        assessed_by=cmd.actor.id,
        assessed_at=uow.clock.now(),
    )
    uow.session.add(row)
    if case.status != CaseStatus.UNDER_ASSESSMENT:
        transition(uow, case, CaseStatus.UNDER_ASSESSMENT, cmd.actor)
    uow.emit(
        EligibilityAssessed(
            case_id=case.id, case_ref=case.ref, assessment_id=row.id, proposal=result.proposal
        ),
        actor=cmd.actor,
        case_id=case.id,
        correlation_id=cmd.correlation_id,
    )
    return EligibilityResult(
        assessment_id=row.id,
        case_id=case.id,
        proposal=result.proposal,
        reasons=list(result.reasons),
        services=services,
        offers=offers,
    )


async def _related_offers(uow: UnitOfWork, services: list[str]) -> list[OfferRef]:
    """Offers in the KE's overview that relate to the person's services (R18)."""
    wanted = set(services)
    rows = await uow.session.exec(
        select(Offer).where(Offer.org == uow.org).order_by(col(Offer.name))
    )
    return [
        OfferRef(offer_id=o.id, name=o.name, level=o.level, contact=o.contact)
        for o in rows
        if wanted & set(loads(o.service_types))
    ]
