"""R1 eligibility proposals, R3/R4 decisions and appeal deadlines, and the case lifecycle."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.catalogue import BY_CODE, CATALOGUE, unknown_codes
from services.intake.decisions import (
    DecisionKind,
    appeal_deadline,
    appealable,
    public_holidays,
)
from services.intake.eligibility import ExpectedDuration, Proposal, assess
from services.intake.lifecycle import ALLOWED, CaseStatus, transition_refusal

LONG = ExpectedDuration.YEAR_OR_MORE


def test_r1_two_health_and_care_services_long_term_meets() -> None:
    result = assess(["hjemmesykepleie", "fysioterapi"], LONG)
    assert result.proposal is Proposal.MEETS
    assert any("2 helse- og omsorgstjeneste(r)" in r for r in result.reasons)
    assert result.reasons[-1] == "Dette er et forslag. Saksbehandler avgjør."


def test_r1_fastlege_and_helsesykepleier_do_not_count() -> None:
    result = assess(["hjemmesykepleie", "fastlege", "helsesykepleier"], LONG)
    assert result.proposal is Proposal.DOES_NOT_MEET
    assert result.not_counting == ("Fastlege", BY_CODE["helsesykepleier"].name)
    assert any("Regnes ikke med (R1)" in r for r in result.reasons)


def test_r1_other_sectors_count_in_the_overall_assessment() -> None:
    result = assess(["fysioterapi", "skole", "ppt"], ExpectedDuration.PERMANENT)
    assert result.proposal is Proposal.UNCLEAR
    assert any("andre sektorer" in r for r in result.reasons)


def test_r1_a_short_need_is_not_long_term() -> None:
    assert assess(["hjemmesykepleie", "fysioterapi"], ExpectedDuration.WEEKS).proposal is (
        Proposal.DOES_NOT_MEET
    )


@pytest.mark.parametrize("duration", [ExpectedDuration.MONTHS, ExpectedDuration.UNKNOWN])
def test_r1_long_term_has_no_fixed_number_of_months(duration: ExpectedDuration) -> None:
    result = assess(["hjemmesykepleie", "fysioterapi"], duration)
    assert result.proposal is Proposal.UNCLEAR
    assert any("ikke et bestemt antall måneder" in r for r in result.reasons)


@given(
    st.lists(st.sampled_from([s.code for s in CATALOGUE]), max_size=8),
    st.sampled_from(list(ExpectedDuration)),
)
def test_r1_a_proposal_always_comes_with_checkable_reasons(codes, duration) -> None:
    result = assess(codes, duration)
    assert len(result.reasons) >= 3
    if result.proposal is Proposal.MEETS:
        assert len(result.counting) >= 2
        assert duration in (ExpectedDuration.YEAR_OR_MORE, ExpectedDuration.PERMANENT)


def test_unknown_service_types_are_named_by_position() -> None:
    assert unknown_codes(["fysioterapi", "trylledrikk", "nav"]) == [
        (1, "unknown service type; see `kenett intake service-types`")
    ]


def test_r3_ip_decisions_can_be_appealed_r4_coordinator_decisions_cannot() -> None:
    assert appealable(DecisionKind.IP)
    assert not appealable(DecisionKind.COORDINATOR)


@pytest.mark.parametrize(
    ("notified", "deadline"),
    [
        (date(2026, 11, 2), date(2026, 11, 30)),  # a Monday: four weeks later, a Monday
        (date(2026, 11, 7), date(2026, 12, 7)),  # a Saturday: the deadline moves to Monday
        (date(2026, 3, 5), date(2026, 4, 7)),  # 2 April is skjærtorsdag: after Easter
        (date(2026, 4, 19), date(2026, 5, 18)),  # 17 May 2026 is a Sunday
        (date(2026, 11, 30), date(2026, 12, 28)),  # a Monday: four weeks later, a Monday
        (date(2026, 11, 28), date(2026, 12, 28)),  # 26 Dec is Saturday, 27 Sunday
    ],
)
def test_r3_appeal_deadline_is_four_weeks_to_a_working_day(notified, deadline) -> None:
    assert appeal_deadline(notified) == deadline


def test_norwegian_public_holidays_2026() -> None:
    days = public_holidays(2026)
    assert {
        date(2026, 4, 2),
        date(2026, 4, 3),
        date(2026, 4, 5),
        date(2026, 4, 6),
        date(2026, 5, 14),
        date(2026, 5, 24),
        date(2026, 5, 25),
    } <= days
    assert len(days) == 12


def test_lifecycle_happy_path_and_refusals_with_reasons() -> None:
    path = [
        CaseStatus.RECEIVED,
        CaseStatus.UNDER_ASSESSMENT,
        CaseStatus.DECIDED,
        CaseStatus.ACTIVE,
        CaseStatus.CLOSED,
    ]
    for a, b in itertools.pairwise(path):
        assert transition_refusal(a, b) is None
    assert "must be assessed" in (transition_refusal(CaseStatus.RECEIVED, CaseStatus.DECIDED) or "")
    assert "closed" in (transition_refusal(CaseStatus.CLOSED, CaseStatus.ACTIVE) or "")
    assert transition_refusal(CaseStatus.ACTIVE, CaseStatus.ACTIVE) == "the case is already active"


def test_every_open_status_can_be_closed_and_closed_is_final() -> None:
    for status in CaseStatus:
        if status is CaseStatus.CLOSED:
            assert ALLOWED[status] == frozenset()
        else:
            assert CaseStatus.CLOSED in ALLOWED[status]
