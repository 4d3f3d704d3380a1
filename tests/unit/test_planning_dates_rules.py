"""Planning's pure rules against R14 point 7 and R16: the plan period and the dates in it."""

from __future__ import annotations

from datetime import date, timedelta

from services.planning.domain import content_problems
from shared.contracts.consent import LifeArea
from shared.contracts.planning import (
    Goal,
    Horizon,
    Measure,
    Party,
    PartyKind,
    PlanContent,
    PlanPeriod,
)

START = date(2026, 1, 5)
END = START + timedelta(days=365)
SERVICE = Party(kind=PartyKind.SERVICE, ref="hjemmesykepleien")


def test_r14_a_revision_date_after_the_plan_period_ends_is_refused() -> None:
    """R14 point 7: the plan period and its dates for adjustment and revision. A revision
    date after the period has ended revises a plan that no longer runs."""
    period = PlanPeriod(
        start=START, end=END, revision_dates=[START + timedelta(180), END + timedelta(30)]
    )
    problems = content_problems(PlanContent(period=period))
    assert [p.field for p in problems] == ["period.revision_dates[1]"]


def test_r16_evaluation_dates_outside_the_plan_period_are_refused() -> None:
    """R16: evaluation dates are set against the goals, within the plan (R14 point 7): an
    evaluation due before the plan starts or after it ends is refused."""
    content = PlanContent(
        goals=[
            Goal(
                id="G1",
                text="walk to the shop",
                horizon=Horizon.LONG,
                life_area=LifeArea.HEALTH_CARE,
                evaluation_date=START - timedelta(days=10),
            )
        ],
        measures=[
            Measure(
                id="M2",
                title="home nursing",
                life_area=LifeArea.HEALTH_CARE,
                responsible=SERVICE,
                evaluation_date=END + timedelta(days=100),
            )
        ],
        period=PlanPeriod(start=START, end=END, revision_dates=[START + timedelta(180)]),
    )
    problems = content_problems(content)
    assert sorted(p.field for p in problems) == [
        "goals[0].evaluation_date",
        "measures[0].evaluation_date",
    ]
