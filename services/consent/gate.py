"""The gate: may this actor do this action on (this part of) this case's plan? (R5-R8)

Pure: it decides from the case's consents as facts, so every service gets the same answer
and the rules can be tested without a broker or a database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from shared.clock import OSLO

ACTIVE = "active"


@dataclass(frozen=True)
class ConsentFacts:
    """What the gate needs to know of one consent."""

    consent_id: uuid.UUID
    kind: str
    status: str  # active, withdrawn, expired, renewal_needed
    valid_from: datetime
    valid_until: datetime | None
    grantees: frozenset[str]  # sharing: recipients; next_of_kin: relatives
    life_areas: frozenset[str]
    content_kinds: frozenset[str]
    changed_at: datetime | None = None
    lapses_on: date | None = None
    """R6: the 16th birthday of a child whose parents or barnevernet gave this consent. It
    stops counting when that day begins in Norway, whether or not the sweep has marked it yet."""

    def lapsed(self, now: datetime) -> bool:
        return self.lapses_on is not None and now.astimezone(OSLO).date() >= self.lapses_on

    def in_force(self, now: datetime) -> bool:
        return (
            self.status == ACTIVE
            and self.valid_from <= now
            and (self.valid_until is None or now < self.valid_until)
            and not self.lapsed(now)
        )

    def covers(self, grantee: str, life_area: str | None, content_kind: str | None) -> bool:
        """Does this scope name the grantee and the part asked about?"""
        return (
            grantee in self.grantees
            and (life_area is None or life_area in self.life_areas)
            and (content_kind is None or content_kind in self.content_kinds)
        )


@dataclass(frozen=True)
class Verdict:
    """allow or deny, why, and the consent that decided it."""

    allow: bool
    reason: str
    consent_id: uuid.UUID | None = None
    parts: frozenset[tuple[str, str]] | None = None  # (life area, content kind); None: all


_WHY_ENDED = {
    "withdrawn": "was withdrawn (R7)",
    "expired": "has expired (R7)",
    "renewed": "was given by parents and lapsed at the 16th birthday; the young person's own "
    "consent took over (R6)",
    "renewal_needed": "was given by parents and lapsed at the 16th birthday; "
    "the young person must renew it (R6)",
}


def _why_not(consent: ConsentFacts, now: datetime, otherwise: str) -> str:
    """Why a consent that is not in force is not, in words; a parents' consent past the 16th
    birthday is said to need renewal before the sweep has marked it so (R6)."""
    if consent.status == ACTIVE and consent.lapsed(now):
        return _WHY_ENDED["renewal_needed"]
    return _WHY_ENDED.get(consent.status, otherwise)


def _basis(consents: Iterable[ConsentFacts], kind: str, now: datetime) -> Verdict:
    """The consent of ``kind`` in force, or why there is none (the latest one's fate)."""
    of_kind = sorted((c for c in consents if c.kind == kind), key=lambda c: c.valid_from)
    for c in reversed(of_kind):
        if c.in_force(now):
            return Verdict(True, f"{kind} consent in force", c.consent_id)
    if not of_kind:
        label = {"ip": "an individual plan", "coordinator": "a coordinator"}.get(kind, kind)
        return Verdict(False, f"no consent to {label} (R5)")
    latest = of_kind[-1]
    if latest.status == ACTIVE and now < latest.valid_from:
        return Verdict(False, f"the {kind} consent is not yet in force", latest.consent_id)
    why = _why_not(latest, now, "has expired (R7)")
    return Verdict(False, f"the {kind} consent {why}", latest.consent_id)


def decide(
    consents: list[ConsentFacts],
    *,
    who_kind: str,
    who_id: str,
    action: str,
    life_area: str | None,
    content_kind: str | None,
    now: datetime,
) -> Verdict:
    """The gate's answer for one request."""
    if action == "create_plan":
        return _basis(consents, "ip", now)
    if action == "coordinate":
        return _basis(consents, "coordinator", now)
    if action == "notify":
        if who_kind != "next_of_kin":
            return Verdict(True, "notices to the person and staff need no sharing consent")
        return _scoped(consents, "next_of_kin", who_id, None, None, now, "next of kin", "R8")
    if who_kind == "person":
        if action == "read_plan":
            return Verdict(True, "the person may always see their own plan (R7)")
        return Verdict(False, "the person's changes go through the coordinator")
    ip = _basis(consents, "ip", now)
    if not ip.allow and ip.consent_id is None:
        # Never given: there is no plan (R5), so nothing is "frozen".
        return Verdict(False, f"{ip.reason}: no plan is made without it")
    if not ip.allow:
        return Verdict(False, f"{ip.reason}: the plan is frozen", ip.consent_id)
    if who_kind == "coordinator":
        coord = _basis(consents, "coordinator", now)
        if not coord.allow:
            return Verdict(False, f"{coord.reason}: coordination stops", coord.consent_id)
        return Verdict(
            True, "the coordinator works on the plan under the IP consent", ip.consent_id
        )
    if action == "write_plan" and who_kind == "next_of_kin":
        return Verdict(False, "next of kin take part through the coordinator (R8)")
    if who_kind == "provider":
        return _scoped(consents, "sharing", who_id, life_area, content_kind, now, "provider", "R7")
    return _scoped(
        consents, "next_of_kin", who_id, life_area, content_kind, now, "next of kin", "R8"
    )


def _scoped(
    consents: list[ConsentFacts],
    kind: str,
    grantee: str,
    life_area: str | None,
    content_kind: str | None,
    now: datetime,
    label: str,
    rule: str,
) -> Verdict:
    candidates = [
        c for c in consents if c.kind == kind and c.covers(grantee, life_area, content_kind)
    ]
    for c in sorted(candidates, key=lambda c: c.valid_from, reverse=True):
        if c.in_force(now):
            # Every part any consent in force names this grantee for, not only the part asked
            # about: the reader sees all that the person has allowed them (R7).
            parts = frozenset(
                (area, content)
                for other in consents
                if other.kind == kind and grantee in other.grantees and other.in_force(now)
                for area in other.life_areas
                for content in other.content_kinds
            )
            return Verdict(
                True, f"a {kind} consent names this {label} ({rule})", c.consent_id, parts
            )
    part = "/".join(p for p in (life_area, content_kind) if p) or "the plan"
    if candidates:
        latest = max(candidates, key=lambda c: c.valid_from)
        why = _why_not(latest, now, "is not in force")
        return Verdict(
            False, f"the {kind} consent for {grantee} on {part} {why}", latest.consent_id
        )
    return Verdict(False, f"no {kind} consent names {grantee} for {part} ({rule})")
