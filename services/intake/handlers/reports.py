"""Reports of need (R2) and reading cases."""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlmodel import col, select

from services.intake.catalogue import unknown_codes
from services.intake.domain import (
    InvalidNationalId,
    case_reference,
    parse_national_id,
    reporter_problems,
)
from services.intake.lifecycle import OPEN_STATUSES, CaseStatus
from services.intake.store import Case, CaseCounter, Decision, EligibilityAssessment, Person, Report
from shared.clock import OSLO, age_on, local_today
from shared.contracts.intake import (
    CaseDetail,
    CaseOpened,
    CaseView,
    ExportForTransfer,
    GetCase,
    GetCaseDetail,
    Need,
    ReportAttached,
    ReportNeed,
    ReportNeedResult,
    TransferExport,
)
from shared.contracts.replies import CommandRejected, FieldError, refuse
from shared.db.uow import UnitOfWork
from shared.service import ServiceContext

from .common import load_case, loads


async def _next_case_ref(uow: UnitOfWork, year: int) -> str:
    s = uow.session
    row = await s.get(CaseCounter, (uow.org, year), with_for_update=True)
    if row is None:
        row = CaseCounter(org=uow.org, year=year, last=0)
        s.add(row)
    row.last += 1
    await s.flush()
    return case_reference(year, row.last)


def make_report_need(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """The report-need handler, for the organisations this instance serves."""
    served = ctx.settings.serves()

    async def report_need(uow: UnitOfWork, cmd: ReportNeed) -> ReportNeedResult:
        return await _report_need(uow, cmd, served)

    return report_need


async def _report_need(uow: UnitOfWork, cmd: ReportNeed, served: list[str]) -> ReportNeedResult:
    """Register a report of need (R2). Invalid input is refused whole; nothing is stored."""
    now = uow.clock.now()
    errors: list[FieldError] = []
    national_id = None
    try:
        national_id = parse_national_id(cmd.national_id, local_today(uow.clock))
    except InvalidNationalId as exc:
        errors.append(FieldError(field="national_id", reason=exc.reason))
    errors += [FieldError(field=f, reason=r) for f, r in reporter_problems(cmd.reporter)]
    if cmd.received_at is not None and cmd.received_at.tzinfo is None:
        errors.append(FieldError(field="received_at", reason="must include a timezone offset"))
    elif cmd.received_at is not None and cmd.received_at > now:
        errors.append(FieldError(field="received_at", reason="is in the future"))
    if len(set(cmd.needs)) != len(cmd.needs):
        errors.append(FieldError(field="needs", reason="lists the same need twice"))
    errors += [FieldError(field=f"services.{i}", reason=r) for i, r in unknown_codes(cmd.services)]
    served_org = cmd.org or served[0]
    if served_org not in served:
        errors.append(
            FieldError(field="org", reason=f"this instance serves {', '.join(served)} only")
        )
    if errors or national_id is None:
        raise CommandRejected("validation_failed", "the report of need was not registered", errors)

    s = uow.session
    # Concurrent reports about one person (several intake instances) must not open two cases.
    await uow.lock("intake:person:" + hashlib.sha256(national_id.number.encode()).hexdigest())
    person = (
        await s.exec(
            select(Person).where(Person.org == uow.org, Person.national_id == national_id.number)
        )
    ).first()
    if person is None:
        person = Person(
            id=uuid.uuid4(),
            org=uow.org,
            national_id=national_id.number,
            birth_date=national_id.birth_date,
            created_at=now,
        )
        s.add(person)
    open_case = (
        await s.exec(
            select(Case)
            .where(Case.person_id == person.id, col(Case.status).in_(OPEN_STATUSES))
            .order_by(col(Case.opened_at))
            # Locks the open case: a concurrent close is seen (PostgreSQL re-checks the
            # status after the lock), so a report never attaches to a closed case.
            .with_for_update()
        )
    ).first()
    needs = [Need(n) for n in dict.fromkeys(cmd.needs)]
    attached = open_case is not None
    if open_case is None:
        case = Case(
            id=uuid.uuid4(),
            org=uow.org,
            ref=await _next_case_ref(uow, now.astimezone(OSLO).year),
            person_id=person.id,
            served_org=served_org,
            status=CaseStatus.RECEIVED,
            needs=",".join(needs),
            received_at=cmd.received_at or now,
            opened_at=now,
        )
        s.add(case)
    else:
        case = open_case
        merged = list(dict.fromkeys([*case.needs.split(","), *needs]))
        case.needs = ",".join(merged)
        case.received_at = min(case.received_at, cmd.received_at or now)
    report = Report(
        id=uuid.uuid4(),
        org=uow.org,
        case_id=case.id,
        reporter_kind=cmd.reporter.kind,
        reporter_relation=cmd.reporter.relation,
        reporter_unit=cmd.reporter.unit,
        reporter_department=cmd.reporter.department,
        expected_discharge=cmd.reporter.expected_discharge,
        form=cmd.form,
        services=json.dumps(cmd.services, ensure_ascii=False),
        note=cmd.note,
        received_at=cmd.received_at or now,
        recorded_by=cmd.actor.id,
        recorded_at=now,
    )
    s.add(report)
    await s.flush()
    if attached:
        uow.emit(
            ReportAttached(
                case_id=case.id,
                case_ref=case.ref,
                report_id=report.id,
                reporter_kind=cmd.reporter.kind,
            ),
            actor=cmd.actor,
            case_id=case.id,
            correlation_id=cmd.correlation_id,
        )
    else:
        uow.emit(
            CaseOpened(
                case_id=case.id,
                case_ref=case.ref,
                person_id=person.id,
                birth_date=person.birth_date,
                needs=needs,
                reporter_kind=cmd.reporter.kind,
            ),
            actor=cmd.actor,
            case_id=case.id,
            correlation_id=cmd.correlation_id,
        )
    return ReportNeedResult(
        case_id=case.id, case_ref=case.ref, report_id=report.id, attached_to_open_case=attached
    )


async def get_case(uow: UnitOfWork, q: GetCase) -> CaseView:
    """A case's status and the birth date (for R6), never the identity number."""
    row = (
        await uow.session.exec(
            select(Case, Person)
            .join(Person, col(Person.id) == col(Case.person_id))
            .where(Case.id == q.case_id, Case.org == uow.org)
        )
    ).first()
    if row is None:
        raise CommandRejected(
            "not_found", "no such case", [FieldError(field="case_id", reason="unknown case")]
        )
    case, person = row
    return CaseView(
        case_id=case.id,
        case_ref=case.ref,
        status=case.status,
        birth_date=person.birth_date,
        needs=[Need(n) for n in case.needs.split(",")],
    )


async def get_case_detail(uow: UnitOfWork, q: GetCaseDetail) -> CaseDetail:
    """Everything the KE sees of a case: no identity number, no free-text notes."""
    case = await load_case(uow, q.case_id)
    person = await uow.session.get(Person, case.person_id)
    assert person is not None
    s = uow.session
    reports = await s.exec(
        select(Report).where(Report.case_id == case.id).order_by(col(Report.received_at))
    )
    assessments = await s.exec(
        select(EligibilityAssessment)
        .where(EligibilityAssessment.case_id == case.id)
        .order_by(col(EligibilityAssessment.assessed_at))
    )
    decisions = await s.exec(
        select(Decision).where(Decision.case_id == case.id).order_by(col(Decision.decided_at))
    )
    return CaseDetail(
        case_id=case.id,
        case_ref=case.ref,
        status=case.status,
        served_org=case.served_org,
        birth_date=person.birth_date,
        age=age_on(person.birth_date, local_today(uow.clock)),
        needs=[Need(n) for n in case.needs.split(",")],
        reports=[
            {
                "report_id": str(r.id),
                "reporter_kind": r.reporter_kind,
                "form": r.form,
                "received_at": r.received_at.isoformat(),
                "recorded_by": r.recorded_by,
                "services": loads(r.services),
                "relation": r.reporter_relation,
                "unit": r.reporter_unit,
                "department": r.reporter_department,
                "expected_discharge": r.expected_discharge.isoformat()
                if r.expected_discharge
                else None,
            }
            for r in reports
        ],
        assessments=[
            {
                "assessment_id": str(a.id),
                "proposal": a.proposal,
                "reasons": loads(a.reasons),
                "expected_duration": a.expected_duration,
                "assessed_by": a.assessed_by,
                "assessed_at": a.assessed_at.isoformat(),
            }
            for a in assessments
        ],
        decisions=[
            {
                "decision_id": str(d.id),
                "kind": d.kind,
                "granted": d.granted,
                "decided_at": d.decided_at.isoformat(),
                "decided_by": d.decided_by,
                "appeal_deadline": d.appeal_deadline.isoformat() if d.appeal_deadline else None,
            }
            for d in decisions
        ],
        closed_reason=case.closed_reason,
    )


async def export_for_transfer(uow: UnitOfWork, q: ExportForTransfer) -> TransferExport:
    """The identity number, needs and services of a case, for its transfer to ``q.to_org``
    when the person moves (federation asks, after the consent gate allowed it)."""
    case = await load_case(uow, q.case_id)
    if case.status == "closed":
        raise refuse(
            "rule_violation", "the case is closed", "case_id", "a closed case is not moved"
        )
    person = await uow.session.get(Person, case.person_id)
    assert person is not None
    services: list[str] = []
    for r in await uow.session.exec(select(Report).where(Report.case_id == case.id)):
        services += [s for s in loads(r.services) if s not in services]
    uow.audit(
        actor=q.actor,
        action="intake.export_for_transfer",
        case_id=case.id,
        detail=f"to {q.to_org}",
    )
    return TransferExport(
        case_id=case.id,
        case_ref=case.ref,
        status=case.status,
        national_id=person.national_id,
        needs=[Need(n) for n in case.needs.split(",")],
        services=services,
    )
