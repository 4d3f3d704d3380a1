"""Assignment's pure rules: suggestions (R9, R10, R17), kinds (R17, R20), duties (R12, R19)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.assignment.domain import duty_due_dates, kind_problem, usual_kind
from services.assignment.matching import CaseFacts, CoordinatorFacts, rank, score
from shared.contracts.assignment import CoordinatorKind, DutyKind

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TODAY = date(2026, 11, 23)


def coord(
    load: int = 0,
    limit: int | None = None,
    *,
    active: bool = True,
    health: bool = False,
    trained: bool = False,
    unit: str = "Helse og omsorg",
    languages: tuple[str, ...] = ("nb",),
    age_days: int = 0,
) -> CoordinatorFacts:
    return CoordinatorFacts(
        coordinator_id=uuid.uuid4(),
        staff_id=f"k-{uuid.uuid4().hex[:4]}",
        display_name="Synthetic",
        unit=unit,
        active=active,
        health_personnel=health,
        training_completed_on=date(2025, 5, 1) if trained else None,
        languages=languages,
        caseload=load,
        individual_limit=limit,
        registered_at=T0 - timedelta(days=age_days),
    )


def case(**kw: object) -> CaseFacts:
    data: dict[str, object] = {
        "kind": CoordinatorKind.MUNICIPAL,
        "wished_coordinator_id": None,
        "language": None,
        "unit": None,
        "previous_coordinator_ids": frozenset(),
    }
    data.update(kw)
    return CaseFacts(**data)  # type: ignore[arg-type]


def test_r10_default_limit_is_five_per_coordinator() -> None:
    assert not score(coord(5), case(), 5).appointable
    assert score(coord(4), case(), 5).appointable


def test_r10_individual_limit_overrides_the_org_default() -> None:
    assert not score(coord(2, limit=2), case(), 5).appointable
    assert score(coord(6, limit=8), case(), 5).appointable


def test_r10_more_free_capacity_ranks_higher_then_longest_registered() -> None:
    busy, free, free_older = coord(3), coord(1), coord(1, age_days=10)
    ranked = rank([busy, free, free_older], case(), 5, 3)
    assert [s.facts for s in ranked] == [free_older, free, busy]


def test_r9_the_persons_wish_weighs_most() -> None:
    wished, idle = coord(3), coord(0, trained=True)
    ranked = rank([idle, wished], case(wished_coordinator_id=wished.coordinator_id), 5, 2)
    assert ranked[0].facts == wished
    assert ranked[0].reasons[0].code == "wish"
    assert "ønsker" in ranked[0].reasons[0].text


def test_r9_a_wished_coordinator_over_capacity_is_shown_with_that_fact() -> None:
    wished = coord(5)
    others = [coord(0) for _ in range(4)]
    ranked = rank([*others, wished], case(wished_coordinator_id=wished.coordinator_id), 5, 2)
    shown = [s for s in ranked if s.facts == wished]
    assert shown, "the wished coordinator must not be dropped"
    assert shown[0].full and not shown[0].appointable
    assert any(r.code == "full" and "5 av 5" in r.text for r in shown[0].reasons)


def test_r9_an_inactive_wished_coordinator_is_shown_but_not_appointable() -> None:
    wished = coord(0, active=False)
    ranked = rank([coord(0), wished], case(wished_coordinator_id=wished.coordinator_id), 5, 5)
    shown = next(s for s in ranked if s.facts == wished)
    assert not shown.appointable
    assert any(r.code == "ineligible" and "ikke aktiv" in r.text for r in shown.reasons)


def test_inactive_coordinators_are_left_out_unless_wished() -> None:
    assert rank([coord(0, active=False)], case(), 5, 5) == []


def test_continuity_unit_language_and_training_each_give_a_reason() -> None:
    c = coord(1, trained=True, unit="Kultur og oppvekst", languages=("nb", "ar"))
    s = score(
        c,
        case(
            previous_coordinator_ids=frozenset({c.coordinator_id}),
            unit="kultur og oppvekst",
            language="ar",
        ),
        5,
    )
    assert {r.code for r in s.reasons} >= {"continuity", "unit", "language", "training", "capacity"}
    assert s.score == sum(r.points for r in s.reasons)


def test_r17_a_hospital_coordinator_must_be_health_personnel() -> None:
    hospital = case(kind=CoordinatorKind.HOSPITAL)
    assert not score(coord(0, health=False), hospital, 5).eligible
    assert score(coord(0, health=True), hospital, 5).appointable
    assert rank([coord(0, health=False)], hospital, 5, 5) == []


def test_r17_kinds_follow_the_organisation() -> None:
    assert usual_kind("hospital") is CoordinatorKind.HOSPITAL
    assert usual_kind("municipality") is CoordinatorKind.MUNICIPAL
    assert kind_problem(CoordinatorKind.HOSPITAL, "municipality", None, TODAY)
    assert kind_problem(CoordinatorKind.MUNICIPAL, "hospital", None, TODAY)
    assert kind_problem(CoordinatorKind.HOSPITAL, "hospital", None, TODAY) is None


def test_r20_a_barnekoordinator_is_for_a_child() -> None:
    child, adult = date(2015, 3, 1), date(1990, 3, 1)
    assert kind_problem(CoordinatorKind.CHILD, "municipality", child, TODAY) is None
    assert "R20" in (kind_problem(CoordinatorKind.CHILD, "municipality", adult, TODAY) or "")
    assert kind_problem(CoordinatorKind.CHILD, "hospital", child, TODAY)


def test_r12_r19_duties_follow_the_first_appointment_with_due_dates() -> None:
    due = duty_due_dates(TODAY, {})
    assert due[DutyKind.MAP_CHILDREN] == TODAY + timedelta(days=30)
    assert due[DutyKind.INFORM_RIGHTS] == TODAY + timedelta(days=14)
    assert due[DutyKind.FIRST_MEETING] == TODAY + timedelta(days=30)
    assert duty_due_dates(TODAY, {"map_children": 7})[DutyKind.MAP_CHILDREN] == TODAY + timedelta(
        days=7
    )


@given(
    st.lists(
        st.tuples(st.integers(0, 10), st.one_of(st.none(), st.integers(1, 10)), st.booleans()),
        max_size=12,
    ),
    st.integers(1, 10),
)
def test_r10_appointable_candidates_always_come_first_and_are_within_their_limit(
    specs: list[tuple[int, int | None, bool]], default: int
) -> None:
    ranked = rank([coord(load, limit, active=a) for load, limit, a in specs], case(), default, 20)
    flags = [s.appointable for s in ranked]
    assert flags == sorted(flags, reverse=True)
    for s in ranked:
        assert s.facts.active
        assert s.appointable == (s.facts.caseload < s.facts.limit(default))


def test_r11_a_handover_time_without_an_offset_is_refused_with_the_field() -> None:
    import pytest
    from pydantic import ValidationError

    from shared.contracts.assignment import PlanHandover
    from shared.contracts.envelope import Actor

    with pytest.raises(ValidationError) as info:
        PlanHandover(
            actor=Actor(kind="user", id="ke"),
            case_id=uuid.uuid4(),
            to_coordinator_id=uuid.uuid4(),
            overlap_end=datetime(2026, 12, 1, 12, 0),  # no timezone: ambiguous
        )
    assert info.value.errors()[0]["loc"] == ("overlap_end",)
