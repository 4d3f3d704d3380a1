"""Assignment's pure rules (R10)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.assignment.domain import Candidate, pick_coordinator

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def cand(load: int, limit: int | None = None, active: bool = True, age_days: int = 0) -> Candidate:
    return Candidate(uuid.uuid4(), active, load, limit, T0 - timedelta(days=age_days))


def test_r10_default_limit_is_five_per_coordinator() -> None:
    assert pick_coordinator([cand(5)], 5) is None
    assert pick_coordinator([cand(4)], 5) is not None


def test_r10_individual_limit_overrides_the_org_default() -> None:
    assert pick_coordinator([cand(2, limit=2)], 5) is None
    assert pick_coordinator([cand(6, limit=8)], 5) is not None


def test_r10_most_free_capacity_wins_then_longest_registered() -> None:
    busy, free, free_older = cand(3), cand(1), cand(1, age_days=10)
    assert pick_coordinator([busy, free, free_older], 5) == free_older


def test_inactive_coordinators_are_never_picked() -> None:
    assert pick_coordinator([cand(0, active=False)], 5) is None


@given(
    st.lists(
        st.tuples(st.integers(0, 10), st.one_of(st.none(), st.integers(1, 10)), st.booleans()),
        max_size=12,
    ),
    st.integers(1, 10),
)
def test_r10_a_pick_never_exceeds_a_limit(specs, default) -> None:
    candidates = [cand(load, limit, active) for load, limit, active in specs]
    chosen = pick_coordinator(candidates, default)
    if chosen is None:
        assert all(not c.active or c.caseload >= c.limit(default) for c in candidates)
    else:
        assert chosen.active and chosen.caseload < chosen.limit(default)
        assert chosen.free(default) == max(c.free(default) for c in candidates if c.active)
