"""Intake's rules, pure: identity numbers, who may report a need (R2), case references.

No framework and no database here; the rule numbers refer to ../shared/domain.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import fodselsnummer

from shared.contracts.intake import Reporter, ReporterKind


class InvalidNationalId(ValueError):
    """Why a number is not an acceptable fødselsnummer or D-nummer (never the number itself)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NationalId:
    """A validated fødselsnummer or D-nummer and the birth date it carries (needed for R6)."""

    number: str
    kind: Literal["fodselsnummer", "d-nummer"]
    birth_date: date


def parse_national_id(value: str, today: date) -> NationalId:
    """Validate with python-stdnum; the reason says what is wrong, not what was given."""
    number = fodselsnummer.compact(value)
    if len(number) != 11 or not number.isdigit():
        raise InvalidNationalId("must be 11 digits (fødselsnummer or D-nummer)")
    day, month = int(number[0:2]), int(number[2:4])
    if day >= 80:
        raise InvalidNationalId("FH-nummer is not accepted; use fødselsnummer or D-nummer")
    if month > 40:
        raise InvalidNationalId("H-nummer is not accepted; use fødselsnummer or D-nummer")
    if number[9] != fodselsnummer.calc_check_digit1(number) or number[
        10
    ] != fodselsnummer.calc_check_digit2(number[:10]):
        raise InvalidNationalId("check digits do not match (mistyped number?)")
    try:
        birth = fodselsnummer.get_birth_date(number)
    except StdnumError:
        raise InvalidNationalId("does not contain a valid birth date") from None
    if birth > today:
        raise InvalidNationalId("the birth date it contains is in the future")
    kind: Literal["fodselsnummer", "d-nummer"] = "d-nummer" if day > 40 else "fodselsnummer"
    return NationalId(number=number, kind=kind, birth_date=birth)


def reporter_problems(reporter: Reporter) -> list[tuple[str, str]]:
    """What a report must record about its reporter (R2), as (field, reason) pairs.

    Anyone may report, orally or in writing; what must be recorded depends on who it is:
    next of kin their relation, an employee their unit (the duty to report), the hospital the
    department (and the expected discharge date when known).
    """
    problems: list[tuple[str, str]] = []
    kind = reporter.kind
    if kind is ReporterKind.NEXT_OF_KIN and not reporter.relation:
        problems.append(("reporter.relation", "is required when next of kin reports (R2)"))
    if kind is ReporterKind.EMPLOYEE and not reporter.unit:
        problems.append(("reporter.unit", "is required when an employee reports (R2)"))
    if kind is ReporterKind.HOSPITAL and not reporter.department:
        problems.append(("reporter.department", "is required when the hospital reports (R2)"))
    if kind is not ReporterKind.HOSPITAL and reporter.expected_discharge is not None:
        problems.append(
            ("reporter.expected_discharge", "applies only to reports from the hospital")
        )
    if reporter.basis is not None and kind not in (ReporterKind.HOSPITAL, ReporterKind.KE):
        problems.append(
            (
                "reporter.basis",
                "applies only when another organisation (a hospital or a KE) passes a report on",
            )
        )
    for name, allowed in (
        ("relation", ReporterKind.NEXT_OF_KIN),
        ("unit", ReporterKind.EMPLOYEE),
        ("department", ReporterKind.HOSPITAL),
    ):
        if getattr(reporter, name) and kind is not allowed:
            problems.append((f"reporter.{name}", f"applies only when reporter.kind is {allowed}"))
    return problems


def case_reference(year: int, number: int) -> str:
    """The reference users see and notifications carry: year and a running number."""
    return f"{year}-{number:06d}"
