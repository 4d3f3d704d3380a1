"""Suggesting coordinators for a case, pure (R9, R10, R17, R20).

Each candidate gets points for what the KE weighs, and every point comes with a reason in
words the KE reads (bokmål). The person's wish weighs most (R9); a wished coordinator who is
full, inactive or not eligible is shown with that fact, never silently dropped. The store
pre-ranks the registry in SQL with the same points for capacity, unit, language and training
(``SQL_POINTS``), so only a short list reaches this module.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from shared.contracts.assignment import CoordinatorKind, Reason

WISH = 100
CONTINUITY = 30
PER_FREE_SLOT = 5
MAX_FREE_POINTS = 25
FULL = -60
UNIT_FIT = 15
LANGUAGE = 15
TRAINED = 10
SQL_POINTS = (PER_FREE_SLOT, MAX_FREE_POINTS, FULL, UNIT_FIT, LANGUAGE, TRAINED)


@dataclass(frozen=True)
class CoordinatorFacts:
    """A coordinator as matching sees them."""

    coordinator_id: uuid.UUID
    staff_id: str
    display_name: str
    unit: str
    active: bool
    health_personnel: bool
    training_completed_on: date | None
    languages: tuple[str, ...]
    caseload: int
    individual_limit: int | None
    registered_at: datetime

    def limit(self, org_default: int) -> int:
        """R10: at most five persons each by default; the KE may set an individual limit."""
        return self.individual_limit if self.individual_limit is not None else org_default

    def free(self, org_default: int) -> int:
        return max(0, self.limit(org_default) - self.caseload)


@dataclass(frozen=True)
class CaseFacts:
    """What matching weighs about the case."""

    kind: CoordinatorKind
    wished_coordinator_id: uuid.UUID | None
    language: str | None
    unit: str | None
    previous_coordinator_ids: frozenset[uuid.UUID]


@dataclass(frozen=True)
class Scored:
    """A candidate with points, reasons and whether the KE can appoint them as is."""

    facts: CoordinatorFacts
    score: int
    reasons: list[Reason]
    eligible: bool
    full: bool

    @property
    def appointable(self) -> bool:
        return self.eligible and not self.full


def ineligibility(c: CoordinatorFacts, kind: CoordinatorKind) -> str | None:
    """Why ``c`` cannot be appointed as ``kind`` at all; None when they can."""
    if not c.active:
        return "er ikke aktiv i koordinatorregisteret"
    if kind is CoordinatorKind.HOSPITAL and not c.health_personnel:
        return "er ikke helsepersonell, som en koordinator i sykehus må være (R17)"
    return None


def score(c: CoordinatorFacts, case: CaseFacts, org_default: int) -> Scored:
    """The points and reasons for one candidate."""
    reasons: list[Reason] = []
    why_not = ineligibility(c, case.kind)
    if c.coordinator_id == case.wished_coordinator_id:
        reasons.append(
            Reason(code="wish", text="Personen ønsker denne koordinatoren (R9)", points=WISH)
        )
    if c.coordinator_id in case.previous_coordinator_ids:
        reasons.append(
            Reason(
                code="continuity",
                text="Har vært koordinator for personen før (kontinuitet, R11)",
                points=CONTINUITY,
            )
        )
    limit = c.limit(org_default)
    free = c.free(org_default)
    full = free == 0
    if full:
        reasons.append(
            Reason(
                code="full",
                text=f"Har {c.caseload} av {limit} saker: over grensen uten overstyring (R10)",
                points=FULL,
            )
        )
    else:
        reasons.append(
            Reason(
                code="capacity",
                text=f"Ledig kapasitet: {free} av {limit} (R10)",
                points=min(MAX_FREE_POINTS, PER_FREE_SLOT * free),
            )
        )
    if case.unit is not None and c.unit.casefold() == case.unit.casefold():
        reasons.append(Reason(code="unit", text=f"Arbeider i {c.unit}", points=UNIT_FIT))
    if case.language is not None and case.language in c.languages:
        reasons.append(
            Reason(
                code="language", text=f"Snakker personens språk ({case.language})", points=LANGUAGE
            )
        )
    if c.training_completed_on is not None:
        reasons.append(
            Reason(
                code="training",
                text=f"Har koordinatoropplæring ({c.training_completed_on.isoformat()})",
                points=TRAINED,
            )
        )
    else:
        reasons.append(Reason(code="no_training", text="Har ikke fullført opplæring", points=0))
    if why_not is not None:
        reasons.append(Reason(code="ineligible", text=f"Kan ikke oppnevnes: {why_not}", points=0))
    total = sum(r.points for r in reasons)
    return Scored(c, total, reasons, eligible=why_not is None, full=full)


def rank(
    candidates: list[CoordinatorFacts], case: CaseFacts, org_default: int, limit: int
) -> list[Scored]:
    """Appointable candidates first, then by points, free capacity and time in the registry.

    The wished coordinator is always in the list, whatever their state (R9); others who
    cannot be appointed (inactive, not eligible for the kind) are left out.
    """
    unique = {c.coordinator_id: c for c in candidates}.values()
    scored = [
        s
        for s in (score(c, case, org_default) for c in unique)
        if s.eligible or s.facts.coordinator_id == case.wished_coordinator_id
    ]
    scored.sort(
        key=lambda s: (
            not s.appointable,
            -s.score,
            -s.facts.free(org_default),
            s.facts.registered_at,
            s.facts.coordinator_id,
        )
    )
    top = scored[:limit]
    wished = [s for s in scored[limit:] if s.facts.coordinator_id == case.wished_coordinator_id]
    return top + wished
