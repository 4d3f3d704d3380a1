"""The catalogue of service types a report or an assessment may name (R1).

Codes are stable identifiers; names are what users see (bokmål). ``counts`` says whether the
service counts towards "two or more health and care services" in R1: fastlege and
helsesykepleier do not. Services from other sectors (school, NAV, barnevern) do not count as
health and care services, but count in the overall assessment.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Sector(StrEnum):
    """Where a service belongs."""

    HEALTH_CARE = "health_care"
    OTHER = "other_sector"


@dataclass(frozen=True)
class ServiceType:
    """One kind of service."""

    code: str
    name: str
    sector: Sector
    counts: bool
    note: str = ""


CATALOGUE: tuple[ServiceType, ...] = (
    ServiceType("hjemmesykepleie", "Hjemmesykepleie", Sector.HEALTH_CARE, True),
    ServiceType("praktisk_bistand", "Praktisk bistand og opplæring", Sector.HEALTH_CARE, True),
    ServiceType("bpa", "Brukerstyrt personlig assistanse (BPA)", Sector.HEALTH_CARE, True),
    ServiceType("avlastning", "Avlastning", Sector.HEALTH_CARE, True),
    ServiceType("omsorgsstonad", "Omsorgsstønad", Sector.HEALTH_CARE, True),
    ServiceType("fysioterapi", "Fysioterapi", Sector.HEALTH_CARE, True),
    ServiceType("ergoterapi", "Ergoterapi", Sector.HEALTH_CARE, True),
    ServiceType("psykisk_helse", "Psykisk helsetjeneste i kommunen", Sector.HEALTH_CARE, True),
    ServiceType("rus", "Oppfølging ved rusproblemer", Sector.HEALTH_CARE, True),
    ServiceType("dagaktivitet", "Dagaktivitetstilbud", Sector.HEALTH_CARE, True),
    ServiceType("korttidsopphold", "Korttidsopphold i institusjon", Sector.HEALTH_CARE, True),
    ServiceType("langtidsopphold", "Langtidsopphold i institusjon", Sector.HEALTH_CARE, True),
    ServiceType("habilitering", "Habilitering", Sector.HEALTH_CARE, True),
    ServiceType("rehabilitering", "Rehabilitering", Sector.HEALTH_CARE, True),
    ServiceType(
        "spesialisthelsetjeneste",
        "Spesialisthelsetjenesten (sykehus, poliklinikk, DPS, BUP)",
        Sector.HEALTH_CARE,
        True,
    ),
    ServiceType("logoped", "Logoped", Sector.HEALTH_CARE, True),
    ServiceType(
        "fastlege",
        "Fastlege",
        Sector.HEALTH_CARE,
        False,
        "Fastlegen regnes ikke med blant de to tjenestene (R1).",
    ),
    ServiceType(
        "helsesykepleier",
        "Helsesykepleier (helsestasjon og skolehelsetjeneste)",
        Sector.HEALTH_CARE,
        False,
        "Helsesykepleier regnes ikke med blant de to tjenestene (R1).",
    ),
    ServiceType("skole", "Skole og spesialundervisning", Sector.OTHER, False),
    ServiceType("barnehage", "Barnehage og spesialpedagogisk hjelp", Sector.OTHER, False),
    ServiceType("ppt", "Pedagogisk-psykologisk tjeneste (PPT)", Sector.OTHER, False),
    ServiceType("nav", "NAV", Sector.OTHER, False),
    ServiceType("barnevern", "Barnevernstjenesten", Sector.OTHER, False),
    ServiceType("bolig", "Bolig og boligsosiale tjenester", Sector.OTHER, False),
)

BY_CODE: dict[str, ServiceType] = {s.code: s for s in CATALOGUE}


def unknown_codes(codes: list[str]) -> list[tuple[int, str]]:
    """(index, reason) for each code not in the catalogue; the reason never repeats free text."""
    return [
        (i, "unknown service type; see `kenett intake service-types`")
        for i, code in enumerate(codes)
        if code not in BY_CODE
    ]
