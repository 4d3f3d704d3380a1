"""Decision letters in bokmål, rendered from a template (R3: the IP decision tells how to
appeal; R4: the coordinator decision says it cannot be appealed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .decisions import DecisionKind, appealable

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
)

MONTHS = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)


def norwegian_date(day: date) -> str:
    """``22. november 2026``."""
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class LetterInput:
    """What a letter says; nothing here is looked up by the template."""

    kind: DecisionKind
    granted: bool
    grounds: str
    case_ref: str
    sender: str
    decided_on: date
    appeal_deadline: date | None
    signed_by: str


def _texts(data: LetterInput) -> dict[str, object]:
    if data.kind is DecisionKind.IP:
        title = "Vedtak om individuell plan"
        outcome = (
            "Du har rett til individuell plan, og kommunen vil utarbeide en individuell plan "
            "sammen med deg."
            if data.granted
            else "Du har ikke rett til individuell plan. Anmodningen er avslått."
        )
        legal_basis = (
            "Pasient- og brukerrettighetsloven § 2-5, helse- og omsorgstjenesteloven § 7-1 og "
            "forskrift om habilitering, rehabilitering, individuell plan og koordinator."
        )
    else:
        title = "Beslutning om koordinator"
        outcome = (
            "Du får oppnevnt koordinator, som skal sørge for oppfølging og samordning av "
            "tjenestene dine."
            if data.granted
            else "Du får ikke oppnevnt koordinator."
        )
        legal_basis = (
            "Helse- og omsorgstjenesteloven § 7-2 og forskrift om habilitering, rehabilitering, "
            "individuell plan og koordinator."
        )
    if appealable(data.kind):
        assert data.appeal_deadline is not None
        appeal_heading = "Klageadgang"
        appeal_text = [
            "Du kan klage på vedtaket til Statsforvalteren (pasient- og brukerrettighetsloven "
            "§ 7-2). Klagen sendes til koordinerende enhet, som vurderer saken på nytt før den "
            "eventuelt sendes videre til Statsforvalteren.",
            "Klagefristen er 4 uker fra du mottok dette vedtaket (pasient- og "
            "brukerrettighetsloven § 7-5). Har du mottatt vedtaket "
            f"{norwegian_date(data.decided_on)}, er siste frist "
            f"{norwegian_date(data.appeal_deadline)}.",
            "Klagen bør være skriftlig, si hva du klager på og hvorfor. Du kan få hjelp til å "
            "skrive klagen av koordinerende enhet eller pasient- og brukerombudet.",
        ]
    else:
        appeal_heading = "Ingen klageadgang"
        appeal_text = [
            "Beslutningen om koordinator er ikke et enkeltvedtak og kan ikke påklages. Du kan "
            "likevel be koordinerende enhet vurdere saken på nytt, og du kan si fra om hvem du "
            "ønsker som koordinator."
        ]
    return {
        "title": title,
        "outcome": outcome,
        "legal_basis": legal_basis,
        "appeal_heading": appeal_heading,
        "appeal_text": appeal_text,
    }


def render_html(data: LetterInput, letter_date: date) -> tuple[str, str]:
    """(title, HTML) of the letter; user text is escaped."""
    texts = _texts(data)
    html = _ENV.get_template("letter.html.j2").render(
        **texts,
        grounds=[p.strip() for p in data.grounds.split("\n\n") if p.strip()],
        case_ref=data.case_ref,
        sender=data.sender,
        letter_date=norwegian_date(letter_date),
        decided_on=norwegian_date(data.decided_on),
        signed_by=data.signed_by,
    )
    return str(texts["title"]), html
