"""Consent's rules, pure (rule numbers from ../shared/domain.md)."""

from __future__ import annotations

from datetime import datetime

from shared.contracts.consent import GiverRole

HEALTH_MAJORITY = 16  # R6: from 16 the young person decides
ADULT = 18


def giver_refusal(role: GiverRole, legal_basis: str | None, age: int) -> str | None:
    """Why ``role`` may not give consent for a person of ``age`` (R6), or None if they may.

    From 16 the person consents themself; under 16 those with parental responsibility, or
    barnevernet where it has taken over care; for an adult who lacks capacity, a representative
    with the legal basis recorded.
    """
    if age >= HEALTH_MAJORITY:
        if role is GiverRole.PERSON:
            return None
        if role is GiverRole.REPRESENTATIVE:
            if age < ADULT:
                return "a representative may consent only for an adult (18 or over) (R6)"
            if not legal_basis:
                return "a representative must have the legal basis recorded (R6)"
            return None
        return (
            "the person is 16 or over and consents themself; "
            "parents or barnevernet cannot consent on their behalf (R6)"
        )
    if role in (GiverRole.PARENT, GiverRole.BARNEVERN):
        return None
    if role is GiverRole.PERSON:
        return (
            "the person is under 16: those with parental responsibility (or barnevernet) "
            "consent, and the child is heard (R6)"
        )
    return "a representative cannot consent for a child under 16; the parents do (R6)"


def evidence_refusal(given_at: datetime, now: datetime) -> str | None:
    """A consent is documented with when it was given (R7), which cannot be in the future."""
    if given_at.tzinfo is None:
        return "must include a timezone offset"
    if given_at > now:
        return "is in the future"
    return None
