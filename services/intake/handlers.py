"""Intake's command and query handlers: decode, one unit of work, the rules, the outbox."""

from __future__ import annotations

import hashlib
import json
import uuid

from faststream.nats import NatsRouter
from sqlmodel import col, select

from shared.bus.handlers import command_responder, query_responder
from shared.clock import OSLO, local_today
from shared.contracts.intake import (
    CaseOpened,
    CaseView,
    GetCase,
    Need,
    ReportAttached,
    ReportNeed,
    ReportNeedResult,
)
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.uow import UnitOfWork
from shared.service import ServiceContext

from .domain import (
    OPEN_STATUSES,
    CaseStatus,
    InvalidNationalId,
    case_reference,
    parse_national_id,
    reporter_problems,
)
from .store import Case, CaseCounter, Person, Report


async def _next_case_ref(uow: UnitOfWork, year: int) -> str:
    s = uow.session
    row = await s.get(CaseCounter, (uow.org, year), with_for_update=True)
    if row is None:
        row = CaseCounter(org=uow.org, year=year, last=0)
        s.add(row)
    row.last += 1
    await s.flush()
    return case_reference(year, row.last)


async def report_need(uow: UnitOfWork, cmd: ReportNeed) -> ReportNeedResult:
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
            status=CaseStatus.RECEIVED,
            needs=",".join(needs),
            opened_at=now,
        )
        s.add(case)
    else:
        case = open_case
        merged = list(dict.fromkeys([*case.needs.split(","), *needs]))
        case.needs = ",".join(merged)
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


def build_router(ctx: ServiceContext) -> NatsRouter:
    """Intake's subscribers."""
    router = NatsRouter()
    command_responder(router, ctx, command=ReportNeed, handler=report_need)
    query_responder(router, ctx, query=GetCase, handler=get_case)
    return router
