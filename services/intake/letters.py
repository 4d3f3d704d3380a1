"""Decision letters in bokmål, rendered from a template (R3: the IP decision tells how to
appeal; R4: the coordinator decision says it cannot be appealed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from shared.printing import FONTS, norwegian_date

from .decisions import DecisionKind, appealable

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
)


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
    notified_on: date | None = None  # when the person is told; the appeal period runs from it


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
            f"{norwegian_date(data.notified_on or data.decided_on)}, er siste frist "
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


def render_pdf(data: LetterInput, letter_date: date) -> bytes:
    """The same letter as a PDF (fpdf2, DejaVu fonts embedded; see shared/fonts/LICENSE-DejaVu)."""
    from fpdf import FPDF

    texts = _texts(data)
    pdf = FPDF(format="A4")
    # An embedded Unicode font: grounds may hold any character (dashes, quotes, Sámi letters).
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(25, 20, 25)
    pdf.add_page()
    pdf.set_title(f"{texts['title']} - sak {data.case_ref}")
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 6, data.sender, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(0, 5, "Koordinerende enhet", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, norwegian_date(letter_date), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(0, 5, f"Vår referanse: sak {data.case_ref}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0, 5, f"Dato for vedtak: {norwegian_date(data.decided_on)}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(6)
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, str(texts["title"]), new_x="LMARGIN", new_y="NEXT")

    def section(title: str, paragraphs: list[str]) -> None:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 5.5, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)

    grounds = [p.strip() for p in data.grounds.split("\n\n") if p.strip()]
    section("Vedtak", [str(texts["outcome"])])
    section("Begrunnelse", grounds)
    section("Hjemmel", [str(texts["legal_basis"])])
    section(str(texts["appeal_heading"]), list(texts["appeal_text"]))  # type: ignore[call-overload]
    section(
        "Rett til innsyn",
        [
            "Du har rett til å se dokumentene i saken din (forvaltningsloven § 18 og pasient- og "
            "brukerrettighetsloven § 5-1). Ta kontakt med koordinerende enhet."
        ],
    )
    pdf.ln(4)
    pdf.multi_cell(
        0,
        5.5,
        f"Med vennlig hilsen\n{data.signed_by}\nKoordinerende enhet, {data.sender}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
