"""The KE's overview of cases: how many in each status, and each status's cases a page at a
time, longest waiting first. Both are index lookups (``ix_intake_case_org_status_received``):
counting never loads a case, and a page reads ``limit + 1`` index entries after its cursor."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select

from services.intake.store import Case
from shared.contracts.intake import (
    CASE_STATUSES,
    CaseCounts,
    CaseListing,
    CaseRow,
    CountCases,
    ListCases,
    Need,
    StatusCount,
)
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.uow import UnitOfWork


async def count_cases(uow: UnitOfWork, q: CountCases) -> CaseCounts:
    """Cases per status, every status in lifecycle order (zeros included)."""
    rows = await uow.session.exec(
        select(Case.status, func.count()).where(Case.org == uow.org).group_by(col(Case.status))
    )
    counts: dict[str, int] = dict(rows.all())
    return CaseCounts(
        total=sum(counts.values()),
        by_status=[StatusCount(status=s, cases=counts.get(s, 0)) for s in CASE_STATUSES],
    )


def _cursor(received_at: datetime, case_id: uuid.UUID) -> str:
    return f"{received_at.isoformat()}|{case_id}"


def _parse_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """A cursor this list gave (RECEIVED_AT|CASE), or a refusal naming ``after``."""
    try:
        key, case = cursor.split("|", 1)
        t = datetime.fromisoformat(key)
        if t.tzinfo is None:
            raise ValueError("naive")
        return t, uuid.UUID(case)
    except ValueError:
        raise CommandRejected(
            "validation_failed",
            "the cursor is not one this list gave",
            [
                FieldError(
                    field="after",
                    reason="use the `next` value of the page before, with the same filters",
                )
            ],
        ) from None


async def list_cases(uow: UnitOfWork, q: ListCases) -> CaseListing:
    """A page of the cases in the given statuses, oldest first report first."""
    filters: list[Any] = [Case.org == uow.org]
    if q.status:
        statuses = list(dict.fromkeys(q.status))
        filters.append(
            Case.status == statuses[0] if len(statuses) == 1 else col(Case.status).in_(statuses)
        )
    total = (await uow.session.exec(select(func.count()).select_from(Case).where(*filters))).one()
    statement = select(  # type: ignore[call-overload]
        Case.id, Case.ref, Case.status, Case.served_org, Case.needs, Case.received_at
    ).where(*filters)
    if q.after:
        t, case_id = _parse_cursor(q.after)
        # The bound alone is an index range: a page reads only its own entries, however deep.
        statement = statement.where(
            col(Case.received_at) >= t, or_(col(Case.received_at) > t, col(Case.id) > case_id)
        )
    rows = list(
        await uow.session.exec(
            statement.order_by(col(Case.received_at), col(Case.id)).limit(q.limit + 1)
        )
    )
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    return CaseListing(
        total=total,
        cases=[
            CaseRow(
                case_id=case_id,
                case_ref=ref,
                status=status,
                served_org=served_org,
                needs=[Need(n) for n in needs.split(",") if n],
                received_at=received_at,
            )
            for case_id, ref, status, served_org, needs, received_at in rows
        ],
        next=_cursor(rows[-1][5], rows[-1][0]) if more and rows else None,
    )
