"""R1: does the person have the right to an individual plan? A proposal with its reasons.

The service proposes; a case officer decides. Reasons are in bokmål, in words a case officer
can check against the law: pasient- og brukerrettighetsloven § 2-5, helse- og
omsorgstjenesteloven § 7-1, spesialisthelsetjenesteloven § 2-5.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .catalogue import BY_CODE, Sector


class Proposal(StrEnum):
    """The three possible proposals."""

    MEETS = "meets"
    DOES_NOT_MEET = "does_not_meet"
    UNCLEAR = "unclear"


class ExpectedDuration(StrEnum):
    """How long the need is expected to last. "Long-term" has no fixed number of months (R1)."""

    WEEKS = "weeks"
    MONTHS = "months"
    YEAR_OR_MORE = "year_or_more"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Assessment:
    """A proposal and the reasons behind it."""

    proposal: Proposal
    reasons: tuple[str, ...]
    counting: tuple[str, ...]
    not_counting: tuple[str, ...]
    other_sector: tuple[str, ...]


def assess(service_codes: list[str], duration: ExpectedDuration) -> Assessment:
    """Propose whether R1 is met: long-term, and two or more health and care services (not
    counting fastlege and helsesykepleier), other sectors weighed in the overall assessment."""
    services = [BY_CODE[c] for c in dict.fromkeys(service_codes) if c in BY_CODE]
    unknown = len(set(service_codes) - set(BY_CODE))
    counting = tuple(s.name for s in services if s.sector is Sector.HEALTH_CARE and s.counts)
    not_counting = tuple(
        s.name for s in services if s.sector is Sector.HEALTH_CARE and not s.counts
    )
    other = tuple(s.name for s in services if s.sector is Sector.OTHER)
    reasons: list[str] = []

    if counting:
        reasons.append(
            f"{len(counting)} helse- og omsorgstjeneste(r) teller med: {', '.join(counting)}."
        )
    else:
        reasons.append("Ingen helse- og omsorgstjenester som teller med er oppgitt.")
    if not_counting:
        reasons.append(f"Regnes ikke med (R1): {', '.join(not_counting)}.")
    if other:
        reasons.append(
            f"Tjenester fra andre sektorer inngår i helhetsvurderingen: {', '.join(other)}."
        )
    if unknown:
        reasons.append(
            f"{unknown} oppgitt(e) tjeneste(r) finnes ikke i tjenestekatalogen og er ikke "
            "vurdert; oppgi tjenestene med kode for en full vurdering."
        )

    long_term: bool | None
    if duration in (ExpectedDuration.YEAR_OR_MORE, ExpectedDuration.PERMANENT):
        long_term = True
        reasons.append("Behovet er langvarig (forventet varighet ett år eller mer / varig).")
    elif duration is ExpectedDuration.WEEKS:
        long_term = False
        reasons.append("Behovet er forventet å vare i uker, og er ikke langvarig.")
    else:
        long_term = None
        reasons.append(
            "Om behovet er langvarig må vurderes konkret: det kreves ikke et bestemt antall "
            "måneder, og behovet trenger ikke være varig."
        )

    if long_term is False:
        proposal = Proposal.DOES_NOT_MEET
    elif not counting:
        proposal = Proposal.DOES_NOT_MEET
        reasons.append("Vilkåret om helse- og omsorgstjenester er ikke oppfylt.")
    elif len(counting) >= 2:
        proposal = Proposal.MEETS if long_term else Proposal.UNCLEAR
        reasons.append("Behovet er koordinert: to eller flere helse- og omsorgstjenester.")
    elif other:
        proposal = Proposal.UNCLEAR
        reasons.append(
            "Bare én helse- og omsorgstjeneste teller med, men tjenester fra andre sektorer "
            "kan gjøre at behovet likevel er koordinert: vurder helheten."
        )
    else:
        proposal = Proposal.DOES_NOT_MEET
        reasons.append("Bare én helse- og omsorgstjeneste teller med; det kreves to eller flere.")
    reasons.append("Dette er et forslag. Saksbehandler avgjør.")
    return Assessment(proposal, tuple(reasons), counting, not_counting, other)
