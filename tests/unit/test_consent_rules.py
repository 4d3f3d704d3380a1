"""Consent's pure rules (R6, R7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.consent.domain import (
    decider_refusal,
    evidence_refusal,
    giver_refusal,
    hearing_refusal,
)
from shared.contracts.consent import GiverRole


@pytest.mark.parametrize("age", [16, 17, 30, 90])
def test_r6_from_16_the_person_consents_themself(age: int) -> None:
    assert giver_refusal(GiverRole.PERSON, None, age) is None
    assert giver_refusal(GiverRole.PARENT, None, age) is not None
    assert giver_refusal(GiverRole.BARNEVERN, None, age) is not None


@pytest.mark.parametrize("age", [0, 11, 12, 15])
def test_r6_under_16_parents_or_barnevern_consent(age: int) -> None:
    assert giver_refusal(GiverRole.PARENT, None, age) is None
    assert giver_refusal(GiverRole.BARNEVERN, None, age) is None
    reason = giver_refusal(GiverRole.PERSON, None, age)
    assert reason is not None and "under 16" in reason


def test_r6_representative_for_an_adult_needs_a_legal_basis() -> None:
    assert "legal basis" in (giver_refusal(GiverRole.REPRESENTATIVE, None, 40) or "")
    assert giver_refusal(GiverRole.REPRESENTATIVE, "vergemål, vedtak 2024-17", 40) is None
    assert giver_refusal(GiverRole.REPRESENTATIVE, "vergemål", 17) is not None
    assert giver_refusal(GiverRole.REPRESENTATIVE, "vergemål", 10) is not None


@pytest.mark.parametrize(
    ("role", "age", "allowed"),
    [
        (GiverRole.PERSON, 16, True),
        (GiverRole.PARENT, 16, False),
        (GiverRole.BARNEVERN, 40, False),
        (GiverRole.REPRESENTATIVE, 40, True),  # by age; the gate also asks for their consent
        (GiverRole.REPRESENTATIVE, 17, False),
        (GiverRole.PERSON, 15, False),
        (GiverRole.PARENT, 15, True),
        (GiverRole.BARNEVERN, 9, True),
        (GiverRole.REPRESENTATIVE, 9, False),
    ],
)
def test_r6_r13_who_chooses_the_tool_is_who_decides_for_the_person(
    role: GiverRole, age: int, allowed: bool
) -> None:
    reason = decider_refusal(role, age, "choose the tool")
    assert (reason is None) is allowed
    assert reason is None or ("choose the tool" in reason and "(R6)" in reason)


def test_r7_consent_time_is_recorded_and_not_in_the_future() -> None:
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    assert evidence_refusal(now - timedelta(days=1), now) is None
    assert evidence_refusal(now + timedelta(minutes=1), now) == "is in the future"
    assert evidence_refusal(datetime(2026, 11, 22), now) == "must include a timezone offset"


@pytest.mark.parametrize("role", [GiverRole.PARENT, GiverRole.BARNEVERN])
@pytest.mark.parametrize("age", [12, 13, 15])
def test_r6_from_12_the_child_is_heard_before_others_consent_for_them(
    role: GiverRole, age: int
) -> None:
    reason = hearing_refusal(role, age, None)
    assert reason is not None and "12 or over" in reason and "(R6)" in reason
    for heard in ("heard", "could_not_be_heard", "declined"):
        assert hearing_refusal(role, age, heard) is None


@pytest.mark.parametrize("age", [0, 7, 11])
def test_r6_under_12_the_hearing_may_be_recorded_and_need_not_be(age: int) -> None:
    assert hearing_refusal(GiverRole.PARENT, age, None) is None
    assert hearing_refusal(GiverRole.PARENT, age, "heard") is None


@pytest.mark.parametrize(
    ("role", "age"),
    [(GiverRole.PERSON, 16), (GiverRole.PERSON, 40), (GiverRole.REPRESENTATIVE, 30)],
)
def test_r6_the_hearing_is_only_for_a_consent_given_on_a_childs_behalf(
    role: GiverRole, age: int
) -> None:
    assert hearing_refusal(role, age, None) is None
    reason = hearing_refusal(role, age, "heard")
    assert reason is not None and "on" in reason and "child" in reason
