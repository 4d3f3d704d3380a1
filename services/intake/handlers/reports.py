"""Reports of need (R2) and reading cases."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import bindparam, insert, update
from sqlalchemy import select as core_select
from sqlmodel import col, select

from services.intake.catalogue import BY_CODE, unknown_codes
from services.intake.domain import (
    InvalidNationalId,
    case_reference,
    parse_national_id,
    reporter_problems,
)
from services.intake.lifecycle import OPEN_STATUSES, CaseStatus
from services.intake.store import (
    Appeal,
    Case,
    CaseCounter,
    Decision,
    EligibilityAssessment,
    Person,
    Report,
)
from shared.clock import OSLO, age_on, local_today
from shared.contracts.intake import (
    CaseDetail,
    CaseFound,
    CaseOpened,
    CaseView,
    ExportForTransfer,
    FindCase,
    GetCase,
    GetCaseDetail,
    Need,
    ReportAttached,
    ReportNeed,
    ReportNeedResult,
    TransferExport,
)
from shared.contracts.replies import CommandRejected, FieldError, refuse
from shared.db.fast import FastStatement
from shared.db.uow import UnitOfWork
from shared.ids import new_id
from shared.service import ServiceContext

from .common import load_case, loads

# The hot path's statements, built once (Core: no ORM objects are needed for them).
# Bump the running number in one statement; on PostgreSQL the UPDATE takes the counter's row
# lock until commit, so concurrent reports get consecutive numbers, never the same one.
# On SQLite they run straight on the driver (shared.db.fast).
_BUMP_COUNTER = FastStatement(
    update(CaseCounter.__table__)  # type: ignore[attr-defined]
    .where(col(CaseCounter.org) == bindparam("k_org"), col(CaseCounter.year) == bindparam("k_year"))
    .values(last=col(CaseCounter.last) + 1)
    .returning(col(CaseCounter.last))
)
_INSERT_COUNTER = FastStatement(insert(CaseCounter.__table__))  # type: ignore[attr-defined]
_PERSON_BY_NUMBER = FastStatement(
    core_select(col(Person.id), col(Person.birth_date)).where(
        col(Person.org) == bindparam("org"), col(Person.national_id) == bindparam("national_id")
    )
)
_INSERT_PERSON = FastStatement(insert(Person.__table__))  # type: ignore[attr-defined]
_INSERT_CASE = FastStatement(insert(Case.__table__))  # type: ignore[attr-defined]
_INSERT_REPORT = FastStatement(insert(Report.__table__))  # type: ignore[attr-defined]
_CASE_VIEW = FastStatement(
    core_select(
        col(Case.id), col(Case.ref), col(Case.status), col(Person.birth_date), col(Case.needs)
    )
    .join_from(Case, Person, col(Person.id) == col(Case.person_id))
    .where(col(Case.id) == bindparam("case_id"), col(Case.org) == bindparam("org"))
)


async def _next_case_ref(uow: UnitOfWork, year: int) -> str:
    """The next case reference of the org's ``year``: the running number goes up by one."""
    conn = await uow.connection()
    bumped = await _BUMP_COUNTER.fetch(conn, {"k_org": uow.org, "k_year": year})
    if bumped:
        (last,) = bumped[0]
    else:  # the year's first case (a concurrent first insert fails: retried whole)
        last = 1
        await _INSERT_COUNTER.run(conn, {"org": uow.org, "year": year, "last": last})
    return case_reference(year, last)


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
    # New rows are written with Core inserts, in the order their foreign keys need (person,
    # case, report), and never read back here; only an open case that a report is attached
    # to is loaded (and updated) as an ORM object.
    conn = await uow.connection()
    # Concurrent reports about one person (several intake instances) must not open two cases.
    await uow.lock("intake:person:" + hashlib.sha256(national_id.number.encode()).hexdigest())
    found = await _PERSON_BY_NUMBER.fetch(conn, {"org": uow.org, "national_id": national_id.number})
    if not found:
        person_id, birth_date = new_id(), national_id.birth_date
        await _INSERT_PERSON.run(
            conn,
            {
                "id": person_id,
                "org": uow.org,
                "national_id": national_id.number,
                "birth_date": birth_date,
                "created_at": now,
            },
        )
        open_case = None  # a person registered just now has no case yet
    else:
        person_id, birth_date = found[0]
        open_case = (
            await s.exec(
                select(Case)
                .where(Case.person_id == person_id, col(Case.status).in_(OPEN_STATUSES))
                .order_by(col(Case.opened_at))
                # Locks the open case: a concurrent close is seen (PostgreSQL re-checks the
                # status after the lock), so a report never attaches to a closed case.
                .with_for_update()
            )
        ).first()
    needs = [Need(n) for n in dict.fromkeys(cmd.needs)]
    attached = open_case is not None
    if open_case is None:
        case_id = new_id()
        case_ref = await _next_case_ref(uow, now.astimezone(OSLO).year)
        await _INSERT_CASE.run(
            conn,
            {
                "id": case_id,
                "org": uow.org,
                "ref": case_ref,
                "person_id": person_id,
                "served_org": served_org,
                "status": CaseStatus.RECEIVED,
                "needs": ",".join(needs),
                "received_at": cmd.received_at or now,
                "opened_at": now,
                "closed_at": None,
                "closed_reason": None,
            },
        )
    else:
        case_id, case_ref = open_case.id, open_case.ref
        merged = list(dict.fromkeys([*open_case.needs.split(","), *needs]))
        open_case.needs = ",".join(merged)
        open_case.received_at = min(open_case.received_at, cmd.received_at or now)
    report_id = new_id()
    await _INSERT_REPORT.run(
        conn,
        {
            "id": report_id,
            "org": uow.org,
            "case_id": case_id,
            "reporter_kind": cmd.reporter.kind,
            "reporter_relation": cmd.reporter.relation,
            "reporter_unit": cmd.reporter.unit,
            "reporter_department": cmd.reporter.department,
            "expected_discharge": cmd.reporter.expected_discharge,
            "reporter_basis": cmd.reporter.basis,
            "form": cmd.form,
            "services": json.dumps(cmd.services, ensure_ascii=False),
            "note": cmd.note,
            "received_at": cmd.received_at or now,
            "recorded_by": cmd.actor.id,
            "recorded_at": now,
        },
    )
    if attached:
        await s.flush()  # the open case's merged needs and first report time
        uow.emit(
            ReportAttached(
                case_id=case_id,
                case_ref=case_ref,
                report_id=report_id,
                reporter_kind=cmd.reporter.kind,
            ),
            actor=cmd.actor,
            case_id=case_id,
            correlation_id=cmd.correlation_id,
        )
    else:
        uow.emit(
            CaseOpened(
                case_id=case_id,
                case_ref=case_ref,
                person_id=person_id,
                birth_date=birth_date,
                needs=needs,
                reporter_kind=cmd.reporter.kind,
            ),
            actor=cmd.actor,
            case_id=case_id,
            correlation_id=cmd.correlation_id,
        )
    return ReportNeedResult(
        case_id=case_id, case_ref=case_ref, report_id=report_id, attached_to_open_case=attached
    )


async def get_case(uow: UnitOfWork, q: GetCase) -> CaseView:
    """A case's status and the birth date (for R6), never the identity number."""
    conn = await uow.connection()
    rows = await _CASE_VIEW.fetch(conn, {"case_id": q.case_id, "org": uow.org})
    if not rows:
        raise CommandRejected(
            "not_found", "no such case", [FieldError(field="case_id", reason="unknown case")]
        )
    case_id, case_ref, status, birth_date, needs = rows[0]
    return CaseView(
        case_id=case_id,
        case_ref=case_ref,
        status=status,
        birth_date=birth_date,
        needs=[Need(n) for n in needs.split(",")],
    )


_BY_REF = FastStatement(
    core_select(col(Case.id), col(Case.ref), col(Case.status)).where(
        col(Case.org) == bindparam("org"), col(Case.ref) == bindparam("ref")
    )
)


async def find_case(uow: UnitOfWork, q: FindCase) -> CaseFound:
    """A case by the number users see (``2026-000123``); unknown is ``not_found`` on it."""
    rows = await _BY_REF.fetch(await uow.connection(), {"org": uow.org, "ref": q.case_ref})
    if not rows:
        raise CommandRejected(
            "not_found",
            "no case with this number",
            [FieldError(field="case_ref", reason=f"no case {q.case_ref} in {uow.org}")],
        )
    case_id, case_ref, status = rows[0]
    return CaseFound(case_id=case_id, case_ref=case_ref, status=status)


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
                "basis": r.reporter_basis,
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
        appeals=[
            {
                "appeal_id": str(a.id),
                "decision_id": str(a.decision_id),
                "received_on": a.received_on.isoformat(),
                "deadline": a.deadline.isoformat(),
                "in_time": a.in_time,
                "registered_by": a.registered_by,
            }
            for a in await s.exec(
                select(Appeal).where(Appeal.case_id == case.id).order_by(col(Appeal.received_on))
            )
        ],
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
        # Codes outside the catalogue (from old reports) are not assessed here either, and the
        # new municipality's intake would refuse the whole report for them.
        services += [s for s in loads(r.services) if s in BY_CODE and s not in services]
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
