"""What the KE is told of federation's events (R17): who, how important, and texts that name
neither a person nor the other organisation. No I/O; only synthetic data."""

from __future__ import annotations

import re
import string
from datetime import date

import pytest

from services.notifications.cli import KIND
from services.notifications.domain import (
    AUDIENCES,
    IMPORTANT,
    TEMPLATES,
    Audience,
    NoticeKind,
    render,
)

XORG = [
    NoticeKind.XORG_MESSAGE_REFUSED,
    NoticeKind.XORG_RECEIPT_OVERDUE,
    NoticeKind.XORG_HANDOVER_PROPOSED,
    NoticeKind.XORG_HANDOVER_ANSWERED,
]
ON = date(2026, 11, 22)
OTHER_ORGS = ("lund", "sykehuset", "testsykehus")


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_the_federation_kinds_have_their_values() -> None:
    assert [k.value for k in XORG] == [
        "xorg_message_refused",
        "xorg_receipt_overdue",
        "xorg_handover_proposed",
        "xorg_handover_answered",
    ]


@pytest.mark.parametrize("kind", XORG)
def test_r17_the_ke_alone_is_told(kind: NoticeKind) -> None:
    assert AUDIENCES[kind] == (Audience.KE,)


def test_r17_refused_overdue_and_proposed_are_important_an_answer_is_not() -> None:
    assert {k for k in XORG if k in IMPORTANT} == {
        NoticeKind.XORG_MESSAGE_REFUSED,
        NoticeKind.XORG_RECEIPT_OVERDUE,
        NoticeKind.XORG_HANDOVER_PROPOSED,
    }


@pytest.mark.parametrize("kind", XORG)
def test_r17_texts_need_no_case_reference_and_name_no_organisation(kind: NoticeKind) -> None:
    """The events carry no case reference (a hospital may have no case at all): the texts
    render without one, and take only a date besides."""
    assert "case_ref" not in fields(TEMPLATES[kind])
    assert fields(TEMPLATES[kind]) <= {"on"}
    text = render(kind, None, on=ON)
    assert not re.search(r"\d{4}-\d{6}", text)
    assert not re.search(r"\d{11}", text)
    assert all(org not in text.lower() for org in OTHER_ORGS)
    assert "annen virksomhet" in text
    assert "Logg inn i kenett" in text


def test_r17_dates_are_the_sending_day_and_the_proposed_start() -> None:
    assert "22. november 2026" in render(NoticeKind.XORG_RECEIPT_OVERDUE, None, on=ON)
    assert "22. november 2026" in render(NoticeKind.XORG_HANDOVER_PROPOSED, None, on=ON)


def test_r17_texts_read_as_expected() -> None:
    assert render(NoticeKind.XORG_MESSAGE_REFUSED, None).startswith(
        "En melding til en annen virksomhet ble avvist."
    )
    assert render(NoticeKind.XORG_RECEIPT_OVERDUE, None, on=ON).startswith(
        "En melding sendt til en annen virksomhet 22. november 2026 har ikke fått kvittering"
    )
    assert render(NoticeKind.XORG_HANDOVER_PROPOSED, None, on=ON).startswith(
        "En annen virksomhet foreslår at dere overtar koordineringen i en sak fra 22. november"
    )
    assert render(NoticeKind.XORG_HANDOVER_ANSWERED, None).startswith(
        "En annen virksomhet har svart på forslaget om å overføre koordineringen"
    )


def test_every_notice_kind_has_a_title_in_the_cli() -> None:
    assert set(KIND) == {k.value for k in NoticeKind}
