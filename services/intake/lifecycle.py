"""A case's life: received → under assessment → decided → active → closed.

A transition that is not allowed is refused with the reason; every transition becomes an event.
"""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    """Where a case is in its life."""

    RECEIVED = "received"
    UNDER_ASSESSMENT = "under_assessment"
    DECIDED = "decided"
    ACTIVE = "active"
    CLOSED = "closed"


class CloseReason(StrEnum):
    """Why a case was closed."""

    MOVED = "moved"
    DIED = "died"
    NO_LONGER_NEEDED = "no_longer_needed"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    DECLINED = "declined"


OPEN_STATUSES = frozenset(s for s in CaseStatus if s is not CaseStatus.CLOSED)

ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.RECEIVED: frozenset({CaseStatus.UNDER_ASSESSMENT, CaseStatus.CLOSED}),
    CaseStatus.UNDER_ASSESSMENT: frozenset({CaseStatus.DECIDED, CaseStatus.CLOSED}),
    # A decision can be reassessed (e.g. after an appeal) before services start.
    CaseStatus.DECIDED: frozenset(
        {CaseStatus.ACTIVE, CaseStatus.UNDER_ASSESSMENT, CaseStatus.CLOSED}
    ),
    CaseStatus.ACTIVE: frozenset({CaseStatus.UNDER_ASSESSMENT, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}

_WHY_NOT: dict[CaseStatus, str] = {
    CaseStatus.RECEIVED: "a case must be assessed before it is decided",
    CaseStatus.UNDER_ASSESSMENT: "a case under assessment must be decided first",
    CaseStatus.DECIDED: "a decided case can become active, be reassessed or be closed",
    CaseStatus.ACTIVE: "an active case can be reassessed or closed",
    CaseStatus.CLOSED: "the case is closed; report a new need to open a new case",
}


def transition_refusal(current: CaseStatus, target: CaseStatus) -> str | None:
    """Why ``current`` → ``target`` is not allowed, or None if it is."""
    if target in ALLOWED[current]:
        return None
    if current == target:
        return f"the case is already {current}"
    return f"cannot go from {current} to {target}: {_WHY_NOT[current]}"
