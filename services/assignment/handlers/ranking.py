"""Suggestions for a case: the registry pre-ranked in SQL, the short list scored by the domain.

SQL gives every active, eligible coordinator the points that do not depend on who they are to
this person (capacity, unit, language, training: ``matching.SQL_POINTS``) and keeps the best
``limit + 1``; the wished and previous coordinators are fetched by id; ``matching.rank`` then
scores that short list with every reason. With 10,000 coordinators this is one indexed scan.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, func, select

from services.assignment import matching
from services.assignment.matching import CaseFacts, CoordinatorFacts, Scored
from services.assignment.store import Appointment, AssignmentCase, Coordinator, languages_list
from shared.db.uow import UnitOfWork
from shared.service import ServiceContext

from .common import case_kind, flush_pending

T = Coordinator.__table__  # type: ignore[attr-defined]
A = Appointment.__table__  # type: ignore[attr-defined]
CASES = AssignmentCase.__table__  # type: ignore[attr-defined]


def _facts(row: object) -> CoordinatorFacts:
    r = row._mapping  # type: ignore[attr-defined]
    return CoordinatorFacts(
        coordinator_id=r["id"],
        staff_id=r["staff_id"],
        display_name=r["display_name"],
        unit=r["unit"],
        active=r["active"],
        health_personnel=r["health_personnel"],
        training_completed_on=r["training_completed_on"],
        languages=tuple(languages_list(r["languages"])),
        caseload=r["caseload"],
        individual_limit=r["caseload_limit"],
        registered_at=r["registered_at"],
    )


# Built once; run on the connection, without the ORM's per-statement work.
_BY_PERSON = (
    select(A.c.coordinator_id)
    .where(
        A.c.case_id.in_(
            select(CASES.c.case_id).where(
                CASES.c.org == bindparam("org"), CASES.c.person_id == bindparam("person_id")
            )
        )
    )
    .distinct()
)
_BY_CASE = select(A.c.coordinator_id).where(A.c.case_id == bindparam("case_id")).distinct()


async def previous_coordinators(uow: UnitOfWork, c: AssignmentCase) -> frozenset[uuid.UUID]:
    """Everyone who has coordinated this person, in this case or an earlier one (continuity).

    Read with a plain statement, so nothing is autoflushed: unflushed appointments are flushed
    first (``flush_pending``); a case's person is written only by ``on_case_opened``, which
    never ranks."""
    await flush_pending(uow, Appointment)
    conn = await uow.connection()
    if c.person_id is not None:
        rows = await conn.execute(_BY_PERSON, {"org": uow.org, "person_id": c.person_id})
    else:
        rows = await conn.execute(_BY_CASE, {"case_id": c.case_id})
    current = c.primary_coordinator_id
    return frozenset(r[0] for r in rows if r[0] != current)


async def case_facts(uow: UnitOfWork, ctx: ServiceContext, c: AssignmentCase) -> CaseFacts:
    return CaseFacts(
        kind=case_kind(ctx, c),
        wished_coordinator_id=c.wished_coordinator_id,
        language=c.language,
        unit=c.unit,
        previous_coordinator_ids=await previous_coordinators(uow, c),
    )


def _top(dialect: str, unit: bool, language: bool, hospital: bool, current: bool) -> Any:
    """The pre-ranking of the registry for one shape of case: eligible coordinators by the
    points that do not depend on the person (``matching.SQL_POINTS``), best ``n`` first."""
    per_slot, max_free, full, unit_fit, language_fit, trained = matching.SQL_POINTS
    cap = func.coalesce(T.c.caseload_limit, bindparam("default_limit", type_=Integer))
    free = cap - T.c.caseload
    has_room = free > 0
    smaller = func.min if dialect == "sqlite" else func.least
    points: Any = case((has_room, smaller(per_slot * free, max_free)), else_=full)
    if unit:
        points = points + case((T.c.unit_key == bindparam("unit"), unit_fit), else_=0)
    if language:
        points = points + case((T.c.languages.like(bindparam("language")), language_fit), else_=0)
    points = points + case((T.c.training_completed_on.is_not(None), trained), else_=0)
    conditions = [T.c.org == bindparam("org"), T.c.active.is_(True)]
    if hospital:
        conditions.append(T.c.health_personnel.is_(True))
    if current:
        conditions.append(T.c.id != bindparam("current"))
    return (
        select(T)
        .where(and_(*conditions))
        .order_by(
            has_room.desc(),
            points.desc(),
            case((has_room, free), else_=0).desc(),
            T.c.registered_at,
            T.c.id,
        )
        .limit(bindparam("n", type_=Integer))
    )


# Built once per shape (dialect, unit?, language?, hospital?, current coordinator?): building
# and keying this statement cost more than running it.
_TOP: dict[tuple[str, bool, bool, bool, bool], Any] = {}


async def rank_for_case(
    uow: UnitOfWork, ctx: ServiceContext, c: AssignmentCase, limit: int
) -> tuple[CaseFacts, list[Scored]]:
    """The ranked candidates for a case (R9, R10, R17). The registry is read with plain
    statements; unflushed changes to coordinators are flushed first (``flush_pending``)."""
    facts = await case_facts(uow, ctx, c)
    await flush_pending(uow, Coordinator)
    conn = await uow.connection()
    default = ctx.settings.caseload_limit
    current = c.primary_coordinator_id
    shape = (
        conn.dialect.name,
        facts.unit is not None,
        facts.language is not None,
        facts.kind.value == "hospital",
        current is not None,
    )
    statement = _TOP.get(shape)
    if statement is None:
        statement = _TOP[shape] = _top(*shape)
    top = await conn.execute(
        statement,
        {
            "org": uow.org,
            "default_limit": default,
            "unit": facts.unit.casefold() if facts.unit is not None else None,
            "language": f"%,{facts.language},%",
            "current": current,
            "n": limit + 1,
        },
    )
    candidates = [_facts(r) for r in top]
    special = set(facts.previous_coordinator_ids)
    if facts.wished_coordinator_id is not None:
        special.add(facts.wished_coordinator_id)
    special.discard(current)
    if special:
        extra = await conn.execute(select(T).where(T.c.org == uow.org, T.c.id.in_(special)))
        candidates += [_facts(r) for r in extra]
    return facts, matching.rank(candidates, facts, default, limit)
