"""Assignment's rules, pure (rule numbers from ../shared/domain.md)."""

from __future__ import annotations

from datetime import date, timedelta

from shared.clock import age_on
from shared.contracts.assignment import CoordinatorKind, DutyKind

ADULT_AGE = 18

DUTY_DUE_DAYS: dict[DutyKind, int] = {
    DutyKind.INFORM_RIGHTS: 14,  # R19: inform about IP, coordinator and rights early
    DutyKind.MAP_CHILDREN: 30,  # R12: children as next of kin and siblings
    DutyKind.FIRST_MEETING: 30,  # R9: the coordinator calls the responsibility group
}


def usual_kind(org_kind: str) -> CoordinatorKind:
    """The kind of coordinator an organisation appoints unless the KE says otherwise."""
    return CoordinatorKind.HOSPITAL if org_kind == "hospital" else CoordinatorKind.MUNICIPAL


def kind_problem(
    kind: CoordinatorKind, org_kind: str, birth_date: date | None, today: date
) -> str | None:
    """Why a case in this organisation cannot have this kind of coordinator; None when it can."""
    if kind is CoordinatorKind.HOSPITAL and org_kind != "hospital":
        return "a hospital coordinator is appointed by a hospital (R17)"
    if kind is not CoordinatorKind.HOSPITAL and org_kind == "hospital":
        return (
            "a hospital appoints hospital coordinators (R17); the municipality appoints the others"
        )
    if (
        kind is CoordinatorKind.CHILD
        and birth_date is not None
        and age_on(birth_date, today) >= ADULT_AGE
    ):
        return "a barnekoordinator is for a family with a child under 18 (R20)"
    return None


def duty_due_dates(appointed_on: date, overrides: dict[str, int]) -> dict[DutyKind, date]:
    """The duties that follow a first appointment and when each is due (R9, R12, R19)."""
    return {
        kind: appointed_on + timedelta(days=overrides.get(kind.value, days))
        for kind, days in DUTY_DUE_DAYS.items()
    }
