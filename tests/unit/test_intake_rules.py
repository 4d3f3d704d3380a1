"""Intake's pure rules: identity numbers and who may report (R2)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.domain import (
    InvalidNationalId,
    case_reference,
    parse_national_id,
    reporter_problems,
)
from shared.clock import age_on
from shared.contracts.intake import Reporter, ReporterKind
from shared.synthetic import synthetic_national_id
from tests.helpers import RNG, national_id

TODAY = date(2026, 11, 22)


@given(st.dates(min_value=date(1900, 1, 1), max_value=TODAY), st.booleans())
def test_valid_numbers_yield_their_birth_date(birth: date, d_number: bool) -> None:
    import random

    number = synthetic_national_id(random.Random(birth.toordinal()), birth, d_number=d_number)
    parsed = parse_national_id(number, TODAY)
    assert parsed.birth_date == birth
    assert parsed.kind == ("d-nummer" if d_number else "fodselsnummer")


def test_number_with_separator_is_accepted_and_compacted() -> None:
    number = national_id(date(1980, 5, 17))
    assert parse_national_id(f"{number[:6]} {number[6:]}", TODAY).number == number


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda n: n[:10], "must be 11 digits"),
        (lambda n: n[:10] + "x", "must be 11 digits"),
        (lambda n: n[:9] + str((int(n[9]) + 1) % 10) + n[10], "check digits do not match"),
    ],
)
def test_invalid_numbers_are_refused_with_a_reason(mangle, reason) -> None:
    number = national_id(date(1975, 3, 3))
    with pytest.raises(InvalidNationalId) as exc:
        parse_national_id(mangle(number), TODAY)
    assert reason in exc.value.reason
    assert number not in exc.value.reason  # the reason never repeats the number


def test_future_birth_date_is_refused() -> None:
    number = synthetic_national_id(RNG, date(2030, 1, 1))
    with pytest.raises(InvalidNationalId, match="future"):
        parse_national_id(number, TODAY)


def test_r6_age_counts_completed_years_and_29_february() -> None:
    leap = date(2008, 2, 29)
    assert age_on(leap, date(2024, 2, 28)) == 15
    assert age_on(leap, date(2024, 2, 29)) == 16
    assert age_on(leap, date(2025, 2, 28)) == 16
    assert age_on(date(2010, 6, 1), date(2026, 5, 31)) == 15
    assert age_on(date(2010, 6, 1), date(2026, 6, 1)) == 16


@pytest.mark.parametrize("kind", list(ReporterKind))
def test_r2_anyone_may_report_a_need(kind: ReporterKind) -> None:
    extra = {
        ReporterKind.NEXT_OF_KIN: {"relation": "mor"},
        ReporterKind.EMPLOYEE: {"unit": "Hjemmetjenesten"},
        ReporterKind.HOSPITAL: {
            "department": "Medisinsk avdeling",
            "expected_discharge": date(2026, 12, 1),
        },
    }.get(kind, {})
    assert reporter_problems(Reporter(kind=kind, **extra)) == []


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (ReporterKind.NEXT_OF_KIN, "reporter.relation"),
        (ReporterKind.EMPLOYEE, "reporter.unit"),
        (ReporterKind.HOSPITAL, "reporter.department"),
    ],
)
def test_r2_what_must_be_recorded_about_the_reporter(kind: ReporterKind, field: str) -> None:
    problems = reporter_problems(Reporter(kind=kind))
    assert [f for f, _ in problems] == [field]


def test_r2_expected_discharge_belongs_to_hospital_reports() -> None:
    problems = reporter_problems(Reporter(kind=ReporterKind.PERSON, expected_discharge=TODAY))
    assert [f for f, _ in problems] == ["reporter.expected_discharge"]


def test_r17_a_basis_belongs_to_a_report_another_organisation_passed_on() -> None:
    hospital = Reporter(kind=ReporterKind.HOSPITAL, department="Medisinsk", basis="consent")
    assert reporter_problems(hospital) == []
    assert reporter_problems(Reporter(kind=ReporterKind.KE, basis="consent")) == []
    problems = reporter_problems(Reporter(kind=ReporterKind.PERSON, basis="no_objection"))
    assert [f for f, _ in problems] == ["reporter.basis"]


def test_case_reference_shape() -> None:
    assert case_reference(2026, 42) == "2026-000042"
