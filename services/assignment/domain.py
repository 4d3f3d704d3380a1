"""Assignment's rules, pure (rule numbers from ../shared/domain.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Candidate:
    """A coordinator as the appointment rule sees them."""

    coordinator_id: uuid.UUID
    active: bool
    caseload: int
    individual_limit: int | None
    registered_at: datetime

    def limit(self, org_default: int) -> int:
        """R10: at most five persons each by default; the KE may set an individual limit."""
        return self.individual_limit if self.individual_limit is not None else org_default

    def free(self, org_default: int) -> int:
        return max(0, self.limit(org_default) - self.caseload)


def pick_coordinator(candidates: list[Candidate], org_default: int) -> Candidate | None:
    """The active coordinator with the most free capacity (R10); None when everyone is full.

    Ties go to the longest-registered coordinator, so the choice is deterministic.
    """
    available = [c for c in candidates if c.active and c.free(org_default) > 0]
    if not available:
        return None
    return min(available, key=lambda c: (-c.free(org_default), c.registered_at, c.coordinator_id))


NO_CAPACITY = "no active coordinator has free capacity (R10)"
