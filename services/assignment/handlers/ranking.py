"""Suggestions for a case: the registry pre-ranked in SQL, the short list scored by the domain.

SQL gives every active, eligible coordinator the points that do not depend on who they are to
this person (capacity, unit, language, training: ``matching.SQL_POINTS``) and keeps the best
``limit + 1``; the wished and previous coordinators are fetched by id; ``matching.rank`` then
scores that short list with every reason. With 10,000 coordinators this is one indexed scan.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, case, func, select

from services.assignment import matching
from services.assignment.matching import CaseFacts, CoordinatorFacts, Scored
from services.assignment.store import Appointment, AssignmentCase, Coordinator, languages_list
from shared.db.uow import UnitOfWork
from shared.service import ServiceContext

from .common import case_kind

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


async def previous_coordinators(uow: UnitOfWork, c: AssignmentCase) -> frozenset[uuid.UUID]:
    """Everyone who has coordinated this person, in this case or an earlier one (continuity)."""
    if c.person_id is not None:
        cases = select(CASES.c.case_id).where(
            CASES.c.org == uow.org, CASES.c.person_id == c.person_id
        )
        where = A.c.case_id.in_(cases)
    else:
        where = A.c.case_id == c.case_id
    rows = await uow.session.exec(select(A.c.coordinator_id).where(where).distinct())
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


async def rank_for_case(
    uow: UnitOfWork, ctx: ServiceContext, c: AssignmentCase, limit: int
) -> tuple[CaseFacts, list[Scored]]:
    """The ranked candidates for a case (R9, R10, R17)."""
    facts = await case_facts(uow, ctx, c)
    default = ctx.settings.caseload_limit
    per_slot, max_free, full, unit_fit, language, trained = matching.SQL_POINTS
    cap = func.coalesce(T.c.caseload_limit, default)
    free = cap - T.c.caseload
    has_room = free > 0
    points: Any = (
        case((has_room, func.min(per_slot * free, max_free)), else_=full)
        if uow.session.bind.dialect.name == "sqlite"  # type: ignore[union-attr]
        else case((has_room, func.least(per_slot * free, max_free)), else_=full)
    )
    if facts.unit is not None:
        points = points + case((T.c.unit_key == facts.unit.casefold(), unit_fit), else_=0)
    if facts.language is not None:
        points = points + case((T.c.languages.like(f"%,{facts.language},%"), language), else_=0)
    points = points + case((T.c.training_completed_on.is_not(None), trained), else_=0)
    conditions = [T.c.org == uow.org, T.c.active.is_(True)]
    if facts.kind.value == "hospital":
        conditions.append(T.c.health_personnel.is_(True))
    current = c.primary_coordinator_id
    if current is not None:
        conditions.append(T.c.id != current)
    top = await uow.session.exec(
        select(T)
        .where(and_(*conditions))
        .order_by(
            has_room.desc(),
            points.desc(),
            case((has_room, free), else_=0).desc(),
            T.c.registered_at,
            T.c.id,
        )
        .limit(limit + 1)
    )
    candidates = [_facts(r) for r in top]
    special = set(facts.previous_coordinator_ids)
    if facts.wished_coordinator_id is not None:
        special.add(facts.wished_coordinator_id)
    special.discard(current)
    if special:
        extra = await uow.session.exec(select(T).where(T.c.org == uow.org, T.c.id.in_(special)))
        candidates += [_facts(r) for r in extra]
    return facts, matching.rank(candidates, facts, default, limit)
