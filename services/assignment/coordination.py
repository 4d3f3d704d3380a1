"""A case's coordination over time, pure: the periods in which each coordinator held a role, and
the changes that keep R11's invariant.

R11: from the first appointment until coordination closes, at every instant exactly one primary
coordinator. A period is half-open, ``[start, end)``; an open period has ``end is None``. The
primary periods of an episode tile ``[opened_at, closed_at)`` with no gap and no overlap. Every
change here is a function of the current periods that returns the new periods and the new ends,
so the service and the property test apply exactly the same rules.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from shared.contracts.assignment import CoordinatorRole
from shared.ids import new_id


class CoordinationError(ValueError):
    """A change that would break R11 or is not possible in the case's state."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class Period:
    """One coordinator in one role on one case, ``[start, end)``."""

    id: uuid.UUID
    coordinator_id: uuid.UUID
    role: CoordinatorRole
    start: datetime
    end: datetime | None = None

    def covers(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)

    def open_at(self, now: datetime) -> bool:
        """Still running or still to come at ``now``."""
        return self.end is None or self.end > now


@dataclass
class Change:
    """What a command does to the periods: new ones, new ends, and planned ones withdrawn."""

    new: list[Period] = field(default_factory=list)
    ends: dict[uuid.UUID, datetime | None] = field(default_factory=dict)
    removed: list[uuid.UUID] = field(default_factory=list)

    def apply(self, periods: list[Period]) -> list[Period]:
        """The periods after the change (a new list; the inputs are changed in place)."""
        kept = [p for p in periods if p.id not in self.removed]
        for p in kept:
            if p.id in self.ends:
                p.end = self.ends[p.id]
        return kept + self.new


def responsible(periods: Iterable[Period]) -> Period | None:
    """The open-ended primary period: who is, or after a planned handover will be, responsible
    with no end in sight. At most one exists (a unique index backs this in the database)."""
    found = [p for p in periods if p.role is CoordinatorRole.PRIMARY and p.end is None]
    if len(found) > 1:
        raise AssertionError("more than one open primary period")  # the invariant is broken
    return found[0] if found else None


def primary_at(periods: Iterable[Period], at: datetime) -> list[Period]:
    """The primary periods covering ``at``; R11 wants exactly one inside an open episode."""
    return [p for p in periods if p.role is CoordinatorRole.PRIMARY and p.covers(at)]


def first_appointment(coordinator_id: uuid.UUID, now: datetime) -> Change:
    """The first coordinator of a new episode; primary from now, with no end."""
    return Change(new=[Period(new_id(), coordinator_id, CoordinatorRole.PRIMARY, now)])


def plan_handover(
    periods: list[Period],
    to_coordinator_id: uuid.UUID,
    overlap_start: datetime,
    overlap_end: datetime,
    now: datetime,
    *,
    allow_no_overlap: bool = False,
) -> tuple[Change, Period]:
    """A change of coordinator (R11): the new one is primary from ``overlap_start``; the old
    one is listed as handing over until ``overlap_end``. Returns the change and the old
    responsible period. A handover without overlap is only for a coordinator who has left."""
    current = responsible(periods)
    if current is None:
        raise CoordinationError("case_id", "the case has no coordinator to hand over from")
    if any(p.start > now for p in periods):
        raise CoordinationError(
            "case_id", "a handover is already planned for this case; cancel it first"
        )
    if to_coordinator_id == current.coordinator_id:
        raise CoordinationError("to_coordinator_id", "is already the case's coordinator")
    if overlap_start < now:
        raise CoordinationError("overlap_start", "must not be in the past")
    if overlap_end < overlap_start:
        raise CoordinationError("overlap_end", "must not be before overlap_start")
    if overlap_end == overlap_start and not allow_no_overlap:
        raise CoordinationError(
            "overlap_end",
            "must be after overlap_start: the old and new coordinator overlap (R11); "
            "only a coordinator who has left may hand over without overlap",
        )
    incoming = Period(new_id(), to_coordinator_id, CoordinatorRole.PRIMARY, overlap_start)
    new = [incoming]
    if overlap_end > overlap_start:
        new.append(
            Period(
                new_id(),
                current.coordinator_id,
                CoordinatorRole.HANDING_OVER,
                overlap_start,
                overlap_end,
            )
        )
    return Change(new=new, ends={current.id: overlap_start}), current


def cancel_handover(periods: list[Period], now: datetime) -> Change:
    """Withdraw a handover that has not started: its periods go, the old coordinator stays."""
    planned = [p for p in periods if p.start > now]
    if not planned:
        raise CoordinationError("handover_id", "has started or is done, and cannot be cancelled")
    starts = {p.start for p in planned}
    ends: dict[uuid.UUID, datetime | None] = {
        p.id: None
        for p in periods
        if p.role is CoordinatorRole.PRIMARY and p.end in starts and p.start <= now
    }
    return Change(ends=ends, removed=[p.id for p in planned])


def close(periods: list[Period], at: datetime) -> Change:
    """Coordination ends at ``at``: running periods end then, planned ones are withdrawn."""
    change = Change()
    for p in periods:
        if p.start > at:
            change.removed.append(p.id)
        elif p.end is None or p.end > at:
            change.ends[p.id] = at
    return change


def violations(periods: list[Period], opened_at: datetime, closed_at: datetime | None) -> list[str]:
    """Where the primary periods fail to tile ``[opened_at, closed_at)`` (R11); empty when
    there is exactly one primary at every instant."""
    problems = []
    primaries = sorted(
        (p for p in periods if p.role is CoordinatorRole.PRIMARY and p.end != p.start),
        key=lambda p: p.start,
    )
    if not primaries:
        if closed_at is not None and closed_at <= opened_at:
            return []  # opened and closed at the same instant: nothing to cover
        return ["no primary coordinator at all"]
    if primaries[0].start != opened_at:
        problems.append(f"first primary starts at {primaries[0].start}, not {opened_at}")
    for before, after in itertools.pairwise(primaries):
        if before.end is None:
            problems.append(f"open primary {before.id} followed by another")
        elif before.end < after.start:
            problems.append(f"gap from {before.end} to {after.start}")
        elif before.end > after.start:
            problems.append(f"two primaries from {after.start} to {before.end}")
    if primaries[-1].end != closed_at:
        problems.append(f"last primary ends at {primaries[-1].end}, not {closed_at}")
    for p in periods:
        if p.end is not None and p.end < p.start:
            problems.append(f"period {p.id} ends before it starts")
    return problems
