"""Decision letters (R3, R4), HTML and PDF, in bokmål."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from services.intake.decisions import DecisionKind, appeal_deadline
from services.intake.letters import LetterInput, render_html, render_pdf

NOTIFIED = date(2026, 11, 23)


def letter(
    kind: DecisionKind, granted: bool = True, grounds: str = "Vilkårene er oppfylt."
) -> LetterInput:
    return LetterInput(
        kind=kind,
        granted=granted,
        grounds=grounds,
        case_ref="2026-000007",
        sender="Lund kommune",
        decided_on=NOTIFIED,
        appeal_deadline=appeal_deadline(NOTIFIED) if kind is DecisionKind.IP else None,
        signed_by="saksbehandler-kari",
    )


def pdf_text(data: LetterInput) -> str:
    reader = PdfReader(io.BytesIO(render_pdf(data, NOTIFIED)))
    return " ".join(" ".join(p.extract_text().split()) for p in reader.pages)


def test_r3_the_ip_letter_has_every_section_and_the_deadline_in_pdf_and_html() -> None:
    data = letter(DecisionKind.IP, grounds="Første avsnitt.\n\nAndre avsnitt.")
    text = pdf_text(data)
    for part in (
        "Vedtak om individuell plan",
        "Vedtak",
        "Begrunnelse",
        "Første avsnitt.",
        "Andre avsnitt.",
        "Hjemmel",
        "§ 2-5",
        "Klageadgang",
        "Statsforvalteren",
        "siste frist 21. desember 2026",
        "Rett til innsyn",
        "sak 2026-000007",
    ):
        assert part in text, part
    title, html = render_html(data, NOTIFIED)
    assert title == "Vedtak om individuell plan"
    assert "siste frist 21. desember 2026" in html


def test_r4_the_coordinator_letter_says_there_is_no_appeal() -> None:
    text = pdf_text(letter(DecisionKind.COORDINATOR))
    assert "Beslutning om koordinator" in text
    assert "kan ikke påklages" in text
    assert "Klagefristen" not in text


def test_a_refusal_says_so() -> None:
    _, html = render_html(letter(DecisionKind.IP, granted=False), NOTIFIED)
    assert "Anmodningen er avslått" in html


@pytest.mark.parametrize("kind", list(DecisionKind))
def test_user_text_is_escaped_in_html(kind: DecisionKind) -> None:
    _, html = render_html(letter(kind, grounds="<script>alert(1)</script>"), NOTIFIED)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_the_pdf_takes_any_character_in_the_grounds() -> None:
    grounds = "Vurdering – «sitat» “quote” Čearru Ŋ ŧ ‘x’ … 5 % § 2-5"
    text = pdf_text(letter(DecisionKind.IP, grounds=grounds))
    for word in ("Čearru", "«sitat»", "“quote”", "–"):
        assert word in text
