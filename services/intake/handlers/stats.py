"""Waiting time from report to decision, per case and for the organisation."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from services.intake.store import Case, Decision
from shared.clock import OSLO, local_today
from shared.contracts.intake import CaseWait, WaitingTimes, WaitingTimeStats
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.uow import UnitOfWork


def percentile(values: list[float], q: float) -> float:
    """The q-th quantile (0..1), linear between closest ranks; one value is its own quantile."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


async def waiting_times(uow: UnitOfWork, q: WaitingTimes) -> WaitingTimeStats:
    """Days from the first report to the first decision, for cases first decided in the period."""
    until = q.until or local_today(uow.clock)
    since = q.since or until - timedelta(days=365)
    if since > until:
        raise CommandRejected(
            "validation_failed",
            "empty period",
            [FieldError(field="since", reason="is after until")],
        )
    start = datetime.combine(since, time.min, OSLO).astimezone(UTC)
    end = datetime.combine(until + timedelta(days=1), time.min, OSLO).astimezone(UTC)
    first = (
        select(Decision.case_id, func.min(Decision.decided_at).label("decided_at"))
        .where(Decision.org == uow.org)
        .group_by(col(Decision.case_id))
        .subquery()
    )
    rows = await uow.session.exec(
        select(Case, first.c.decided_at)
        .join(first, first.c.case_id == col(Case.id))
        .where(first.c.decided_at >= start, first.c.decided_at < end)
        .order_by(first.c.decided_at)
    )
    cases = []
    for case, decided_at in rows:
        decided = decided_at if decided_at.tzinfo else decided_at.replace(tzinfo=UTC)
        days = (decided - case.received_at).total_seconds() / 86400
        cases.append(
            CaseWait(
                case_id=case.id,
                case_ref=case.ref,
                received_at=case.received_at,
                decided_at=decided,
                days=round(days, 2),
            )
        )
    waits = [c.days for c in cases]
    return WaitingTimeStats(
        since=since,
        until=until,
        cases=cases,
        count=len(cases),
        median_days=round(statistics.median(waits), 2) if waits else None,
        p90_days=round(percentile(waits, 0.9), 2) if waits else None,
    )
