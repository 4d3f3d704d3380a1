"""Planning's pure rules (R7, R14-R16): checking an edit, numbering, evaluation, the plan's
life, cutting a document to a reader's consent, comparing versions and anonymising.

Synthetic data only: no names, no national identity numbers. No database, no broker.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.planning.domain import (
    ANONYMISED,
    EDITABLE,
    SECTIONS,
    Due,
    PlanStatus,
    added_evaluation_problems,
    anonymise,
    compare,
    content_problems,
    cut_to_parts,
    due_evaluations,
    edit_refusal,
    evaluate,
    highest_number,
    history_problems,
    item_ids,
    may_see_contacts,
    may_see_meetings,
    move,
    number_new_items,
    open_revisions,
    schedule,
)
from shared.contracts.consent import ContentKind, LifeArea
from shared.contracts.planning import (
    Contribution,
    Cooperation,
    Evaluation,
    Goal,
    Horizon,
    Measure,
    MeasureStatus,
    Outcome,
    Participant,
    Party,
    PartyKind,
    PlanContent,
    PlanPeriod,
    ResourceNeed,
)
from shared.contracts.replies import FieldError

START = date(2026, 1, 5)
DAY = timedelta(days=1)
HEALTH = LifeArea.HEALTH_CARE
LEISURE = LifeArea.LEISURE
ECONOMY = LifeArea.ECONOMY
ALL_PARTS = frozenset((a.value, k.value) for a in LifeArea for k in ContentKind)
SERVICE = Party(kind=PartyKind.SERVICE, ref="hjemmesykepleien")


# --- Building documents -------------------------------------------------------------------


def ev(
    on: date, outcome: Outcome = Outcome.PARTLY, by: str = "staff-1", comment: str = ""
) -> Evaluation:
    return Evaluation(on=on, outcome=outcome, by=by, comment=comment)


def goal(id: str | None = "G1", area: LifeArea = HEALTH, **kw: Any) -> Goal:
    kw.setdefault("text", "walk to the shop on my own")
    kw.setdefault("horizon", Horizon.LONG)
    return Goal(id=id, life_area=area, **kw)


def need(id: str | None = "R3", area: LifeArea = HEALTH, **kw: Any) -> ResourceNeed:
    kw.setdefault("kind", "need")
    kw.setdefault("text", "help with medicines")
    return ResourceNeed(id=id, life_area=area, **kw)


def measure(id: str | None = "M7", area: LifeArea = HEALTH, **kw: Any) -> Measure:
    kw.setdefault("title", "home nursing twice a day")
    kw.setdefault("responsible", SERVICE)
    return Measure(id=id, life_area=area, **kw)


def participant(id: str | None = "P5", party: Party = SERVICE, role: str = "member") -> Any:
    return Participant(id=id, party=party, role=role)


def contribution(id: str | None = "C6", party: Party = SERVICE, text: str = "visits") -> Any:
    return Contribution(id=id, party=party, text=text)


def cooperation(id: str | None = "S9") -> Cooperation:
    return Cooperation(id=id, agency="NAV", purpose="work training")


def plan(**kw: Any) -> PlanContent:
    return PlanContent(**kw)


# A complete, valid plan: two life areas in goals, needs and measures, every section filled.
FULL = plan(
    goals=[
        goal("G1", HEALTH, evaluation_date=START + 30 * DAY, deadline=START + 90 * DAY),
        goal("G2", LEISURE, horizon=Horizon.SHORT),
    ],
    resources_needs=[need("R3", HEALTH), need("R4", ECONOMY, kind="resource")],
    participants=[participant("P5")],
    contributions=[contribution("C6")],
    measures=[
        measure("M7", HEALTH, goal_ids=["G1", "G2"], start=START, evaluation_date=START + 14 * DAY),
        measure("M8", LEISURE, goal_ids=["G2"], status=MeasureStatus.ONGOING),
    ],
    period=PlanPeriod(start=START, end=START + 365 * DAY, revision_dates=[START + 180 * DAY]),
    cooperation=[cooperation("S9")],
)


def where(problems: list[FieldError]) -> list[str]:
    return [p.field for p in problems]


def ids_in(content: PlanContent, section: str) -> list[str | None]:
    return [i.id for i in getattr(content, section)]


def test_the_full_example_plan_is_valid() -> None:
    assert content_problems(FULL) == []
    assert content_problems(plan()) == []


# --- content_problems (R14-R16) -------------------------------------------------------------


def test_r16_a_measure_without_responsible_is_refused_and_cites_r16() -> None:
    content = plan(measures=[measure("M1"), measure("M2", responsible=None)])
    problems = content_problems(content)
    assert where(problems) == ["measures[1].responsible"]
    assert "(R16)" in problems[0].reason


@pytest.mark.parametrize("kind", [PartyKind.SERVICE, PartyKind.NEXT_OF_KIN, PartyKind.COORDINATOR])
@pytest.mark.parametrize("ref", [None, "", "   "])
def test_r16_a_responsible_service_relative_or_coordinator_must_be_named(
    kind: PartyKind, ref: str | None
) -> None:
    content = plan(measures=[measure("M1", responsible=Party(kind=kind, ref=ref))])
    problems = content_problems(content)
    assert where(problems) == ["measures[0].responsible.ref"]
    assert "(R16)" in problems[0].reason


def test_r16_the_person_themself_may_be_responsible_without_a_name() -> None:
    content = plan(measures=[measure("M1", responsible=Party(kind=PartyKind.PERSON))])
    assert content_problems(content) == []


def test_r14_participants_and_contributions_name_the_service_or_relation() -> None:
    nameless = Party(kind=PartyKind.NEXT_OF_KIN, ref=" ")
    content = plan(
        participants=[participant("P1"), participant("P2", party=nameless)],
        contributions=[contribution("C3", party=Party(kind=PartyKind.SERVICE))],
    )
    assert where(content_problems(content)) == [
        "participants[1].party.ref",
        "contributions[0].party.ref",
    ]
    person = Party(kind=PartyKind.PERSON)
    ok = plan(participants=[participant("P1", person)], contributions=[contribution("C2", person)])
    assert content_problems(ok) == []


def test_r16_a_measure_is_not_evaluated_or_due_before_it_starts() -> None:
    content = plan(
        measures=[
            measure("M1", start=START, evaluation_date=START - DAY),
            measure("M2", start=START, deadline=START - DAY),
            measure("M3", start=START, deadline=START, evaluation_date=START),  # same day: fine
            measure("M4", deadline=START - DAY, evaluation_date=START - DAY),  # no start: fine
        ]
    )
    problems = content_problems(content)
    assert where(problems) == ["measures[0].evaluation_date", "measures[1].deadline"]
    assert "before the measure starts" in problems[0].reason
    assert "before the measure starts" in problems[1].reason


def test_r16_a_measure_points_only_at_goals_in_the_plan() -> None:
    content = plan(goals=[goal("G1")], measures=[measure("M2", goal_ids=["G1", "G9", "G1"])])
    problems = content_problems(content)
    assert where(problems) == ["measures[0].goal_ids[1]"]
    assert problems[0].reason == "no goal with this id in the plan"


def test_r16_a_measure_cannot_point_at_a_goal_that_is_new_and_has_no_id_yet() -> None:
    content = plan(goals=[goal(None)], measures=[measure("M1", goal_ids=["G1"])])
    assert where(content_problems(content)) == ["measures[0].goal_ids[0]"]


def test_r16_the_same_id_twice_is_refused() -> None:
    content = plan(goals=[goal("G1"), goal("G2"), goal("G1")])
    problems = content_problems(content)
    assert where(problems) == ["goals[2].id"]
    assert "twice" in problems[0].reason


def test_r16_new_items_without_ids_are_not_duplicates() -> None:
    assert content_problems(plan(goals=[goal(None), goal(None)], measures=[measure(None)])) == []


@pytest.mark.parametrize(
    ("section", "bad"),
    [
        ("goals", "X1"),
        ("goals", "G"),
        ("goals", "M1"),
        ("goals", "g1"),
        ("goals", "G1a"),
        ("goals", "G-1"),
        ("goals", " G1"),
        ("goals", "G1.5"),
        ("resources_needs", "G1"),
        ("participants", "C1"),
        ("contributions", "P1"),
        ("measures", "M"),
        ("measures", "S1"),
        ("cooperation", "C1"),
    ],
)
def test_r16_malformed_ids_are_refused_with_the_sections_prefix(section: str, bad: str) -> None:
    build = {
        "goals": goal,
        "resources_needs": need,
        "participants": participant,
        "contributions": contribution,
        "measures": measure,
        "cooperation": cooperation,
    }[section]
    problems = content_problems(plan(**{section: [build(bad)]}))
    assert where(problems) == [f"{section}[0].id"]
    prefix = SECTIONS[section][0]
    assert f"{prefix}1, {prefix}2" in problems[0].reason


@pytest.mark.parametrize("bad", ["G²", "G١", "G１"])
def test_r16_ids_with_non_ascii_digits_are_malformed(bad: str) -> None:
    assert where(content_problems(plan(goals=[goal(bad)]))) == ["goals[0].id"]


def test_r16_history_check_and_numbering_never_crash_on_a_non_ascii_digit() -> None:
    content = plan(goals=[goal("G1"), goal("G²")])
    assert highest_number(content) == 1
    assert where(history_problems(content, plan(goals=[goal("G1")]), ever_used=5)) == [
        "goals[1].id"
    ]


@pytest.mark.parametrize("bad", ["G0", "G01"])
def test_r16_ids_are_in_the_form_kenett_gives_them(bad: str) -> None:
    content = plan(goals=[goal("G1"), goal(bad)])
    problems = content_problems(content) or history_problems(content, plan(goals=[goal()]), 5)
    assert where(problems) == ["goals[1].id"]


def test_r14_the_plan_period_does_not_end_before_it_starts() -> None:
    bad = plan(period=PlanPeriod(start=START, end=START - DAY))
    problems = content_problems(bad)
    assert where(problems) == ["period.end"]
    assert "ends before it starts" in problems[0].reason
    assert content_problems(plan(period=PlanPeriod(start=START, end=START))) == []
    assert content_problems(plan(period=PlanPeriod(start=START))) == []


def test_r14_revision_dates_fall_inside_the_plan_period() -> None:
    period = PlanPeriod(
        start=START, revision_dates=[START, START - DAY, START + DAY, START - 9 * DAY]
    )
    problems = content_problems(plan(period=period))
    assert where(problems) == ["period.revision_dates[1]", "period.revision_dates[3]"]
    assert "before the plan period starts" in problems[0].reason


def test_r16_evaluations_are_kept_in_date_order() -> None:
    shuffled = [ev(START + DAY), ev(START)]
    content = plan(
        goals=[goal("G1", evaluations=shuffled)],
        measures=[measure("M2", evaluations=shuffled)],
    )
    problems = content_problems(content)
    assert where(problems) == ["goals[0].evaluations", "measures[0].evaluations"]
    assert "date order" in problems[0].reason
    same_day = [ev(START), ev(START), ev(START + DAY)]
    assert content_problems(plan(goals=[goal("G1", evaluations=same_day)])) == []


def test_r14_r16_every_problem_is_reported_at_once() -> None:
    content = plan(
        goals=[goal("X1")],
        measures=[measure("M2", responsible=None, goal_ids=["G7"])],
        period=PlanPeriod(start=START, end=START - DAY),
    )
    assert where(content_problems(content)) == [
        "goals[0].id",
        "measures[0].responsible",
        "measures[0].goal_ids[0]",
        "period.end",
    ]


# --- history_problems (R16: ids are never invented, evaluations never rewritten) ---------------


def test_r16_an_id_never_used_in_the_plan_is_refused() -> None:
    new = plan(goals=[goal("G1"), goal("G10")])
    problems = history_problems(new, plan(goals=[goal("G1")]), ever_used=9)
    assert where(problems) == ["goals[1].id"]
    assert "leave the id out" in problems[0].reason


def test_r16_a_removed_item_may_come_back_under_its_old_id() -> None:
    # G2 was removed in an earlier version: its number is at or below the counter.
    assert history_problems(plan(goals=[goal("G2")]), plan(), ever_used=2) == []
    assert history_problems(plan(measures=[measure("M9")]), plan(), ever_used=9) == []


def test_r16_ids_in_the_old_version_are_kept_even_above_the_counter() -> None:
    old = plan(goals=[goal("G12")])
    assert history_problems(old, old, ever_used=3) == []


def test_r16_new_items_without_ids_are_not_history_problems() -> None:
    assert history_problems(plan(goals=[goal(None)]), plan(), ever_used=0) == []


def test_r16_an_unchanged_plan_has_no_history_problems() -> None:
    assert history_problems(FULL, FULL, ever_used=highest_number(FULL)) == []


@pytest.mark.parametrize("section", ["goals", "measures"])
def test_r16_a_recorded_evaluation_cannot_be_removed(section: str) -> None:
    build = goal if section == "goals" else measure
    old = plan(**{section: [build("G1" if section == "goals" else "M1", evaluations=[ev(START)])]})
    new = plan(**{section: [build("G1" if section == "goals" else "M1", evaluations=[])]})
    problems = history_problems(new, old, ever_used=1)
    assert where(problems) == [f"{section}[0].evaluations"]
    assert "cannot be changed or removed" in problems[0].reason


@pytest.mark.parametrize(
    "rewritten",
    [
        ev(START, outcome=Outcome.ACHIEVED),
        ev(START + DAY),
        ev(START, by="staff-2"),
        ev(START, comment="better than it was"),
    ],
)
def test_r16_a_recorded_evaluation_cannot_be_changed(rewritten: Evaluation) -> None:
    old = plan(goals=[goal("G1", evaluations=[ev(START), ev(START + 2 * DAY)])])
    new = plan(goals=[goal("G1", evaluations=[rewritten, ev(START + 2 * DAY)])])
    assert where(history_problems(new, old, ever_used=1)) == ["goals[0].evaluations"]


def test_r16_an_evaluation_cannot_be_slipped_in_before_the_recorded_ones() -> None:
    old = plan(measures=[measure("M1", evaluations=[ev(START + DAY)])])
    new = plan(measures=[measure("M1", evaluations=[ev(START), ev(START + DAY)])])
    assert where(history_problems(new, old, ever_used=1)) == ["measures[0].evaluations"]


def test_r16_appending_an_evaluation_is_accepted() -> None:
    old = plan(
        goals=[goal("G1", evaluations=[ev(START)])],
        measures=[measure("M2", evaluations=[ev(START)])],
    )
    new = plan(
        goals=[goal("G1", evaluations=[ev(START), ev(START + DAY)])],
        measures=[measure("M2", evaluations=[ev(START), ev(START + DAY), ev(START + 2 * DAY)])],
    )
    assert history_problems(new, old, ever_used=2) == []


def test_r16_other_fields_of_an_evaluated_item_may_change() -> None:
    old = plan(goals=[goal("G1", evaluations=[ev(START)])])
    new = plan(goals=[goal("G1", text="other words", evaluations=[ev(START)], deadline=START)])
    assert history_problems(new, old, ever_used=1) == []


# --- Numbering (ids are never reused) ---------------------------------------------------------


def test_r16_new_items_get_the_next_numbers_in_section_order_with_their_prefixes() -> None:
    content = plan(
        goals=[goal("G1"), goal(None), goal(None)],
        resources_needs=[need(None)],
        participants=[participant(None)],
        contributions=[contribution("C2"), contribution(None)],
        measures=[measure(None, goal_ids=["G1"])],
        cooperation=[cooperation(None)],
    )
    numbered, assigned, used = number_new_items(content, 5)
    assert assigned == {
        "goals[1]": "G6",
        "goals[2]": "G7",
        "resources_needs[0]": "R8",
        "participants[0]": "P9",
        "contributions[1]": "C10",
        "measures[0]": "M11",
        "cooperation[0]": "S12",
    }
    assert used == 12
    assert ids_in(numbered, "goals") == ["G1", "G6", "G7"]
    assert ids_in(numbered, "contributions") == ["C2", "C10"]
    assert numbered.measures[0].goal_ids == ["G1"]
    assert numbered.goals[1].text == content.goals[1].text
    # The input is left as it was, and the result is a valid document.
    assert ids_in(content, "goals") == ["G1", None, None]
    assert content_problems(numbered) == []
    assert history_problems(numbered, content, used) == []


def test_r16_numbers_of_removed_items_are_not_given_out_again() -> None:
    # G1..G4 existed; G3 and G4 were removed, so the counter (4) is above the highest id (2).
    content = plan(goals=[goal("G1"), goal("G2"), goal(None)])
    assert highest_number(content) == 2
    _, assigned, used = number_new_items(content, 4)
    assert assigned == {"goals[2]": "G5"}
    assert used == 5


def test_r16_numbering_without_new_items_changes_nothing() -> None:
    numbered, assigned, used = number_new_items(FULL, 9)
    assert (numbered, assigned, used) == (FULL, {}, 9)


def test_r16_numbering_twice_in_a_row_never_reuses_a_number() -> None:
    first, a1, used = number_new_items(plan(goals=[goal(None)]), 0)
    second, a2, used = number_new_items(
        first.model_copy(update={"measures": [measure(None)]}), used
    )
    assert a1 == {"goals[0]": "G1"}
    assert a2 == {"measures[0]": "M2"}
    assert used == 2
    assert item_ids(second) == {"G1", "M2"}


def test_highest_number_reads_across_sections_and_ignores_what_is_not_a_number() -> None:
    assert highest_number(FULL) == 9
    assert highest_number(plan()) == 0
    assert highest_number(plan(goals=[goal("G"), goal(None)], measures=[measure("M3")])) == 3


# --- Evaluation (R16) -----------------------------------------------------------------------


def test_r16_evaluating_a_goal_appends_the_evaluation_and_sets_the_next_date() -> None:
    e = ev(START + 30 * DAY, Outcome.ACHIEVED, comment="walks to the shop")
    content, problems = evaluate(FULL, "G1", e, START + 60 * DAY)
    assert problems == []
    assert content.goals[0].evaluations == [e]
    assert content.goals[0].evaluation_date == START + 60 * DAY
    # Everything else is as it was, and the input document is untouched.
    assert content.goals[1:] == FULL.goals[1:]
    assert content.measures == FULL.measures
    assert FULL.goals[0].evaluations == []
    assert FULL.goals[0].evaluation_date == START + 30 * DAY
    assert content_problems(content) == []


def test_r16_evaluating_a_measure_appends_after_earlier_evaluations() -> None:
    first = ev(START + DAY)
    content = plan(measures=[measure("M1", start=START, evaluations=[first])])
    second = ev(START + 5 * DAY, Outcome.NOT_ACHIEVED)
    out, problems = evaluate(content, "M1", second, START + 10 * DAY)
    assert problems == []
    assert out.measures[0].evaluations == [first, second]
    assert out.measures[0].evaluation_date == START + 10 * DAY
    assert history_problems(out, content, ever_used=1) == []


def test_r16_without_a_next_date_no_further_evaluation_is_planned() -> None:
    content, problems = evaluate(FULL, "M7", ev(START + 14 * DAY), None)
    assert problems == []
    assert content.measures[0].evaluation_date is None
    assert "M7" not in {d.item_id for d in due_evaluations(content)}


@pytest.mark.parametrize("offset", [0, -1])
def test_r16_the_next_evaluation_comes_after_this_one(offset: int) -> None:
    on = START + 30 * DAY
    content, problems = evaluate(FULL, "G1", ev(on), on + offset * DAY)
    assert where(problems) == ["next_evaluation_date"]
    assert content is FULL


def test_r16_an_evaluation_is_not_dated_before_the_last_one() -> None:
    content = plan(goals=[goal("G1", evaluations=[ev(START + 5 * DAY)])])
    out, problems = evaluate(content, "G1", ev(START + 4 * DAY), None)
    assert where(problems) == ["evaluated_on"]
    assert "later date" in problems[0].reason
    assert out is content
    same_day, problems = evaluate(content, "G1", ev(START + 5 * DAY), None)
    assert problems == []
    assert len(same_day.goals[0].evaluations) == 2


@pytest.mark.parametrize("unknown", ["G99", "M42", "X1", "", "g1"])
def test_r16_an_unknown_id_is_refused(unknown: str) -> None:
    content, problems = evaluate(FULL, unknown, ev(START), None)
    assert content is FULL
    assert problems == [
        FieldError(field="item_id", reason="no goal or measure with this id in the plan")
    ]


@pytest.mark.parametrize("other", ["R3", "P5", "C6", "S9", "R77"])
def test_r16_only_goals_and_measures_are_evaluated(other: str) -> None:
    content, problems = evaluate(FULL, other, ev(START), None)
    assert content is FULL
    assert problems == [FieldError(field="item_id", reason="only goals and measures are evaluated")]


def test_r16_a_measure_is_not_evaluated_before_it_starts() -> None:
    content = plan(measures=[measure("M1"), measure("M2", start=START)])
    out, problems = evaluate(content, "M2", ev(START - DAY), None)
    assert where(problems) == ["evaluated_on"]
    assert "measures[1] has not started" in problems[0].reason
    assert out is content
    _, problems = evaluate(content, "M2", ev(START), None)
    assert problems == []


# --- due_evaluations (R16) -------------------------------------------------------------------


def test_r16_goals_and_open_measures_with_evaluation_dates_fall_due() -> None:
    d = START + 10 * DAY
    content = plan(
        goals=[goal("G1", evaluation_date=d), goal("G2"), goal(None, evaluation_date=d)],
        measures=[
            measure("M3", evaluation_date=d + DAY, status=MeasureStatus.PLANNED),
            measure("M4", evaluation_date=d + 2 * DAY, status=MeasureStatus.ONGOING),
            measure("M5", evaluation_date=d, status=MeasureStatus.DONE),
            measure("M6", evaluation_date=d, status=MeasureStatus.STOPPED),
            measure("M7", status=MeasureStatus.ONGOING),
        ],
    )
    assert due_evaluations(content) == [
        Due("G1", "goal", d),
        Due("M3", "measure", d + DAY),
        Due("M4", "measure", d + 2 * DAY),
    ]
    assert due_evaluations(plan()) == []


def test_r14_revision_dates_fall_due_until_a_revision_meets_them() -> None:
    """R14 point 7: the plan's revision dates fall due like evaluations. A revision started up
    to 30 days before a date, or after it, meets it; a later date stays open."""
    june, december = date(2027, 6, 1), date(2027, 12, 1)
    content = plan(period=PlanPeriod(start=START, revision_dates=[december, june, june]))
    assert due_evaluations(content) == [
        Due("REV-2027-06-01", "revision", june),
        Due("REV-2027-12-01", "revision", december),
    ]
    assert [i.item_id for i in schedule(content)] == ["REV-2027-06-01", "REV-2027-12-01"]
    assert schedule(content)[0].item_kind == "revision"
    assert schedule(content)[0].evaluation_on == june
    for started, still_open in (
        (june - 31 * DAY, [june, december]),  # too early to count for June
        (june - 30 * DAY, [december]),
        (june + 40 * DAY, [december]),  # late, but revised
        (december - 30 * DAY, []),
    ):
        assert open_revisions(content, started) == still_open, started
    assert [d.item_id for d in due_evaluations(content, december)] == []
    assert open_revisions(plan(), None) == []  # no plan period, no revision dates


# --- The plan's life --------------------------------------------------------------------------

READY = plan(goals=[goal("G1")], period=PlanPeriod(start=START, revision_dates=[START + 90 * DAY]))


@pytest.mark.parametrize(
    ("current", "to", "reason", "close_reason", "change"),
    [
        ("draft", "active", None, None, "activated"),
        ("under_revision", "active", None, None, "revised"),
        ("active", "under_revision", "the person starts school", None, "revision_started"),
        ("draft", "closed", None, "person_declined", "closed"),
        ("active", "closed", None, "goals_reached", "closed"),
        ("under_revision", "closed", None, "moved", "closed"),
    ],
)
def test_r16_the_allowed_moves_of_a_plan(
    current: str, to: str, reason: str | None, close_reason: str | None, change: str
) -> None:
    assert move(current, to, READY, reason, close_reason) == (change, [])


def test_closing_needs_no_goals_or_period() -> None:
    assert move("draft", "closed", plan(), None, "other") == ("closed", [])


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_r16_a_revision_says_why(reason: str | None) -> None:
    change, problems = move("active", "under_revision", READY, reason, None)
    assert change is None
    assert where(problems) == ["reason"]


@pytest.mark.parametrize("current", ["draft", "active", "under_revision"])
def test_closing_says_why(current: str) -> None:
    change, problems = move(current, "closed", READY, "a free text is not enough", None)
    assert change is None
    assert where(problems) == ["close_reason"]


@pytest.mark.parametrize(
    ("current", "to"),
    [
        ("draft", "under_revision"),
        ("draft", "draft"),
        ("active", "active"),
        ("active", "draft"),
        ("under_revision", "under_revision"),
        ("under_revision", "draft"),
    ],
)
def test_moves_outside_the_plans_life_are_refused(current: str, to: str) -> None:
    change, problems = move(current, to, READY, "why", "other")
    assert change is None
    assert problems == [
        FieldError(field="to", reason=f"a plan that is {current} cannot become {to}")
    ]


@pytest.mark.parametrize("to", ["draft", "active", "under_revision", "closed"])
def test_a_closed_plan_stays_as_it_was(to: str) -> None:
    change, problems = move("closed", to, READY, "why", "other")
    assert change is None
    assert where(problems) == ["to"]
    assert "closed" in problems[0].reason


@pytest.mark.parametrize("to", ["draft", "active", "under_revision"])
def test_r7_a_frozen_plan_cannot_move(to: str) -> None:
    change, problems = move("frozen", to, READY, "why", "person_declined")
    assert change is None
    assert where(problems) == ["to"]
    assert "frozen" in problems[0].reason
    assert "(R7)" in problems[0].reason


def test_r5_r7_a_frozen_plan_can_be_closed_with_a_reason() -> None:
    """The person no longer wants an IP: the frozen plan closes, and retention starts."""
    assert move("frozen", "closed", READY, None, "person_declined") == ("closed", [])
    change, problems = move("frozen", "closed", READY, None, None)
    assert change is None and where(problems) == ["close_reason"]


@pytest.mark.parametrize("current", ["draft", "under_revision"])
@pytest.mark.parametrize(
    ("content", "missing"),
    [
        (plan(), ["content.goals", "content.period"]),
        (plan(goals=[goal("G1")]), ["content.period"]),
        (plan(period=PlanPeriod(start=START, revision_dates=[START])), ["content.goals"]),
        (
            plan(goals=[goal("G1")], period=PlanPeriod(start=START)),
            ["content.period.revision_dates"],
        ),
    ],
)
def test_r14_an_active_plan_has_goals_and_a_period_with_a_revision_date(
    current: str, content: PlanContent, missing: list[str]
) -> None:
    change, problems = move(current, "active", content, None, None)
    assert change is None
    assert where(problems) == missing
    assert all("(R14" in p.reason for p in problems)


def test_r7_edit_refusal_for_frozen_and_closed_plans_only() -> None:
    for status in ("draft", "active", "under_revision"):
        assert edit_refusal(status) is None
        assert status in EDITABLE
    frozen = edit_refusal("frozen")
    assert frozen is not None
    assert "(R7)" in frozen
    assert edit_refusal("closed") is not None
    assert PlanStatus.FROZEN not in EDITABLE
    assert PlanStatus.CLOSED not in EDITABLE


# --- Reading under consent (R7) ---------------------------------------------------------------


def test_r7_without_parts_the_reader_sees_the_whole_document() -> None:
    assert cut_to_parts(FULL, None) == (FULL, [])


def test_r7_a_provider_with_health_measures_sees_only_those_measures() -> None:
    content, withheld = cut_to_parts(FULL, [(HEALTH.value, ContentKind.MEASURES.value)])
    assert ids_in(content, "measures") == ["M7"]
    assert content.goals == []
    assert content.resources_needs == []
    assert content.participants == []
    assert content.contributions == []
    assert content.cooperation == []
    assert withheld == [
        "goals",
        "resources_needs",
        "participants",
        "contributions",
        "measures",
        "cooperation",
    ]
    # The measure no longer points at goals the reader cannot see.
    assert content.measures[0].goal_ids == []
    assert content.measures[0].title == FULL.measures[0].title
    assert content.period == FULL.period


def test_r7_withheld_lists_exactly_the_sections_cut() -> None:
    parts = [(HEALTH.value, "measures"), (LEISURE.value, "measures")]
    content, withheld = cut_to_parts(FULL, parts)
    assert content.measures == [m.model_copy(update={"goal_ids": []}) for m in FULL.measures]
    assert withheld == ["goals", "resources_needs", "participants", "contributions", "cooperation"]


def test_r7_an_empty_section_is_not_withheld() -> None:
    content = plan(goals=[goal("G1", HEALTH)])
    assert cut_to_parts(content, [(HEALTH.value, "goals")]) == (content, [])
    assert cut_to_parts(content, []) == (plan(), ["goals"])


def test_r7_parts_without_a_life_area_need_their_kind_in_every_life_area() -> None:
    """Participants, contributions and cooperation may speak of any life area: a consent for
    contacts in one area does not open them; one for contacts in all areas does."""
    content, withheld = cut_to_parts(FULL, {(ECONOMY.value, ContentKind.CONTACTS.value)})
    assert content.participants == content.contributions == content.cooperation == []
    assert "participants" in withheld and "cooperation" in withheld
    every = {(a.value, ContentKind.CONTACTS.value) for a in LifeArea}
    content, withheld = cut_to_parts(FULL, every)
    assert content.participants == FULL.participants
    assert content.contributions == FULL.contributions
    assert content.cooperation == FULL.cooperation
    assert content.goals == content.measures == content.resources_needs == []
    assert withheld == ["goals", "resources_needs", "measures"]


def test_r7_r15_goals_needs_and_measures_are_cut_by_life_area() -> None:
    parts = {
        (HEALTH.value, "goals"),
        (HEALTH.value, "measures"),
        (LEISURE.value, "measures"),
        (ECONOMY.value, "health_information"),
    }
    content, withheld = cut_to_parts(FULL, parts)
    assert ids_in(content, "goals") == ["G1"]
    assert ids_in(content, "resources_needs") == ["R4"]
    assert ids_in(content, "measures") == ["M7", "M8"]
    assert content.measures[0].goal_ids == ["G1"]  # G2 is a leisure goal: not visible
    assert content.measures[1].goal_ids == []
    assert withheld == ["goals", "resources_needs", "participants", "contributions", "cooperation"]


def test_r7_parts_as_enums_or_strings_cut_the_same() -> None:
    as_enums = [(HEALTH, ContentKind.GOALS), (LEISURE, ContentKind.MEASURES)]
    as_strings = [(a.value, k.value) for a, k in as_enums]
    assert cut_to_parts(FULL, as_enums) == cut_to_parts(FULL, as_strings)


def test_r7_a_kind_in_an_area_does_not_open_the_same_kind_in_another_area() -> None:
    content, _ = cut_to_parts(FULL, [(ECONOMY.value, "goals"), (ECONOMY.value, "measures")])
    assert content.goals == []
    assert content.measures == []


def test_r7_meetings_and_contacts_need_their_content_kind_in_every_life_area() -> None:
    assert may_see_meetings(None)
    assert not may_see_meetings([(ECONOMY.value, "meetings")])
    assert may_see_meetings(iter([(a.value, "meetings") for a in LifeArea]))
    assert not may_see_meetings([(HEALTH.value, "goals"), (HEALTH.value, "contacts")])
    assert not may_see_meetings([])
    assert may_see_contacts(None)
    assert not may_see_contacts([(LEISURE.value, "contacts")])
    assert may_see_contacts([(a.value, "contacts") for a in LifeArea])
    assert not may_see_contacts([(HEALTH.value, "meetings"), (HEALTH.value, "measures")])
    assert not may_see_contacts([])


# --- Comparing versions (R16: earlier versions stay readable) ----------------------------------


def test_r16_compare_reports_added_changed_and_removed_items_with_fields() -> None:
    new = FULL.model_copy(
        update={
            "goals": [
                FULL.goals[0].model_copy(update={"text": "new words", "evaluation_date": None}),
                goal("G10", LEISURE),
            ],
            "measures": [
                FULL.measures[0].model_copy(update={"status": MeasureStatus.DONE}),
                FULL.measures[1],
            ],
            "cooperation": [],
        }
    )
    added, changed, removed = compare(FULL, new)
    assert added == [("goals", "G10", [])]
    assert changed == [
        ("goals", "G1", ["text", "evaluation_date"]),
        ("measures", "M7", ["status"]),
    ]
    assert removed == [("goals", "G2", []), ("cooperation", "S9", [])]


def test_r16_compare_sees_an_appended_evaluation_as_a_change() -> None:
    evaluated, _ = evaluate(FULL, "M7", ev(START + 14 * DAY), START + 28 * DAY)
    assert compare(FULL, evaluated) == (
        [],
        [("measures", "M7", ["evaluation_date", "evaluations"])],
        [],
    )


def test_r14_compare_reports_the_period_added_changed_and_removed() -> None:
    period = PlanPeriod(start=START)
    without = FULL.model_copy(update={"period": None})
    assert compare(without, FULL) == ([("period", None, [])], [], [])
    assert compare(FULL, without) == ([], [], [("period", None, [])])
    open_ended = FULL.model_copy(update={"period": period})
    assert compare(FULL, open_ended) == ([], [("period", None, ["end", "revision_dates"])], [])
    assert compare(without, without) == ([], [], [])


def test_compare_of_a_document_with_itself_is_empty() -> None:
    assert compare(FULL, FULL) == ([], [], [])
    assert compare(plan(), plan()) == ([], [], [])


# --- Retention: anonymising ------------------------------------------------------------------

COORDINATOR_ID = "0b7a3c1e-5f1d-4a57-9d1f-3c1b7a3c1e5f"
SECRET = plan(
    goals=[
        goal(
            "G1",
            HEALTH,
            text="SECRET-goal-one",
            deadline=START + 9 * DAY,
            evaluation_date=START + 30 * DAY,
            evaluations=[
                ev(START + DAY, Outcome.ACHIEVED, by="SECRET-staff-a", comment="SECRET-c1")
            ],
        ),
        goal("G2", LEISURE, text="SECRET-goal-two", horizon=Horizon.SHORT),
    ],
    resources_needs=[need("R3", ECONOMY, kind="resource", text="SECRET-resource")],
    participants=[
        participant("P4", Party(kind=PartyKind.PERSON, ref="SECRET-person-name"), "SECRET-role"),
        participant("P5", Party(kind=PartyKind.NEXT_OF_KIN, ref="SECRET-mor"), "SECRET-role-2"),
        participant("P6", Party(kind=PartyKind.COORDINATOR, ref=COORDINATOR_ID), "SECRET-role-3"),
        participant("P7", Party(kind=PartyKind.PERSON), "SECRET-role-4"),
    ],
    contributions=[
        contribution("C8", Party(kind=PartyKind.SERVICE, ref="SECRET-nav"), "SECRET-contrib")
    ],
    measures=[
        measure(
            "M9",
            HEALTH,
            title="SECRET-title",
            scope="SECRET-scope",
            how="SECRET-how",
            where="SECRET-where",
            goal_ids=["G1"],
            responsible=Party(kind=PartyKind.SERVICE, ref="SECRET-home-nursing"),
            start=START,
            deadline=START + 60 * DAY,
            evaluation_date=START + 20 * DAY,
            status=MeasureStatus.ONGOING,
            evaluations=[ev(START + 2 * DAY, Outcome.NOT_ACHIEVED, "SECRET-staff-b", "SECRET-c2")],
        ),
        measure("M10", LEISURE, title="SECRET-title-2", responsible=None),
        measure("M11", LEISURE, title="SECRET-3", responsible=Party(kind=PartyKind.PERSON)),
    ],
    period=PlanPeriod(start=START, end=START + 365 * DAY, revision_dates=[START + 100 * DAY]),
    cooperation=[Cooperation(id="S12", agency="SECRET-agency", purpose="SECRET-purpose")],
)


def test_retention_anonymising_leaves_no_text_or_party_ref() -> None:
    dumped = anonymise(SECRET).model_dump_json()
    assert "SECRET" not in dumped
    assert COORDINATOR_ID not in dumped


def test_retention_anonymising_keeps_ids_areas_dates_statuses_and_outcomes() -> None:
    out = anonymise(SECRET)
    assert item_ids(out) == item_ids(SECRET)
    for section in SECTIONS:
        assert ids_in(out, section) == ids_in(SECRET, section)
    for a, b in zip(out.goals, SECRET.goals, strict=True):
        assert (a.life_area, a.horizon, a.deadline, a.evaluation_date) == (
            b.life_area,
            b.horizon,
            b.deadline,
            b.evaluation_date,
        )
        assert [(e.on, e.outcome) for e in a.evaluations] == [
            (e.on, e.outcome) for e in b.evaluations
        ]
    for a, b in zip(out.measures, SECRET.measures, strict=True):
        keep = ("life_area", "goal_ids", "start", "deadline", "evaluation_date", "status")
        assert {k: getattr(a, k) for k in keep} == {k: getattr(b, k) for k in keep}
        assert [(e.on, e.outcome) for e in a.evaluations] == [
            (e.on, e.outcome) for e in b.evaluations
        ]
        assert (a.responsible is None) == (b.responsible is None)
        if a.responsible is not None and b.responsible is not None:
            assert a.responsible.kind is b.responsible.kind
    assert [(r.kind, r.life_area) for r in out.resources_needs] == [
        (r.kind, r.life_area) for r in SECRET.resources_needs
    ]
    assert [p.party.kind for p in out.participants] == [p.party.kind for p in SECRET.participants]
    assert out.period == SECRET.period


def test_retention_the_person_stays_without_a_ref_and_others_are_marked_anonymised() -> None:
    out = anonymise(SECRET)
    assert [p.party.ref for p in out.participants] == [None, ANONYMISED, ANONYMISED, None]
    assert out.measures[0].responsible == Party(kind=PartyKind.SERVICE, ref=ANONYMISED)
    assert out.measures[1].responsible is None
    assert out.measures[2].responsible == Party(kind=PartyKind.PERSON, ref=None)


def test_retention_anonymising_keeps_validity_and_is_idempotent() -> None:
    # M10 has no responsible party: the one problem in SECRET, before and after.
    assert where(content_problems(SECRET)) == ["measures[1].responsible"]
    out = anonymise(SECRET)
    assert where(content_problems(out)) == ["measures[1].responsible"]
    assert content_problems(anonymise(FULL)) == []
    assert anonymise(out) == out


# --- Properties -----------------------------------------------------------------------------

PROPERTY = settings(max_examples=100, deadline=None, derandomize=True)
_days = st.integers(min_value=0, max_value=400).map(lambda n: START + n * DAY)
_text = st.text("xyzw", max_size=6).map(lambda s: f"ZQ{s}")
_area = st.sampled_from(list(LifeArea))
_party = st.one_of(
    st.just(Party(kind=PartyKind.PERSON)),
    st.builds(Party, kind=st.sampled_from([PartyKind.SERVICE, PartyKind.NEXT_OF_KIN]), ref=_text),
)


@st.composite
def _evaluations(draw: st.DrawFn) -> list[Evaluation]:
    days = sorted(draw(st.lists(_days, max_size=3)))
    return [ev(d, draw(st.sampled_from(list(Outcome))), draw(_text), draw(_text)) for d in days]


@st.composite
def contents(draw: st.DrawFn) -> PlanContent:
    """A valid plan with items numbered 1, 2, ... across sections in section order."""
    counter = 0

    def next_id(prefix: str) -> str:
        nonlocal counter
        counter += 1
        return f"{prefix}{counter}"

    goals = [
        goal(
            next_id("G"),
            draw(_area),
            text=draw(_text),
            horizon=draw(st.sampled_from(list(Horizon))),
            evaluation_date=draw(st.none() | _days),
            evaluations=draw(_evaluations()),
        )
        for _ in range(draw(st.integers(0, 4)))
    ]
    needs = [
        need(next_id("R"), draw(_area), kind=draw(st.sampled_from(["need", "resource"])))
        for _ in range(draw(st.integers(0, 3)))
    ]
    participants = [
        participant(next_id("P"), draw(_party), draw(_text)) for _ in range(draw(st.integers(0, 2)))
    ]
    contributions = [
        contribution(next_id("C"), draw(_party), draw(_text))
        for _ in range(draw(st.integers(0, 2)))
    ]
    goal_ids = [g.id for g in goals]
    measures = [
        measure(
            next_id("M"),
            draw(_area),
            title=draw(_text),
            how=draw(_text),
            goal_ids=draw(st.lists(st.sampled_from(goal_ids), unique=True)) if goal_ids else [],
            responsible=draw(_party),
            status=draw(st.sampled_from(list(MeasureStatus))),
            evaluation_date=draw(st.none() | _days),
            evaluations=draw(_evaluations()),
        )
        for _ in range(draw(st.integers(0, 4)))
    ]
    cooperation_ = [
        Cooperation(id=next_id("S"), agency=draw(_text), purpose=draw(_text))
        for _ in range(draw(st.integers(0, 2)))
    ]
    period = draw(st.none() | st.builds(PlanPeriod, start=st.just(START)))
    return PlanContent(
        goals=goals,
        resources_needs=needs,
        participants=participants,
        contributions=contributions,
        measures=measures,
        period=period,
        cooperation=cooperation_,
    )


def _subset(of: frozenset[tuple[str, str]]) -> st.SearchStrategy[frozenset[tuple[str, str]]]:
    return st.sets(st.sampled_from(sorted(of))).map(frozenset) if of else st.just(frozenset())


@PROPERTY
@given(contents())
def test_property_generated_plans_are_valid_and_equal_to_themselves(c: PlanContent) -> None:
    assert content_problems(c) == []
    assert history_problems(c, c, highest_number(c)) == []
    assert compare(c, c) == ([], [], [])


@PROPERTY
@given(contents())
def test_property_r7_every_part_shows_the_whole_document(c: PlanContent) -> None:
    assert cut_to_parts(c, ALL_PARTS) == (c, [])
    assert cut_to_parts(c, None) == (c, [])


@PROPERTY
@given(contents(), st.data())
def test_property_r7_fewer_parts_never_show_more(c: PlanContent, data: st.DataObject) -> None:
    bigger = data.draw(_subset(ALL_PARTS), label="bigger")
    smaller = data.draw(_subset(bigger), label="smaller")
    big, big_withheld = cut_to_parts(c, bigger)
    small, small_withheld = cut_to_parts(c, smaller)
    for section in SECTIONS:
        assert set(ids_in(small, section)) <= set(ids_in(big, section)), section
        assert set(ids_in(big, section)) <= set(ids_in(c, section)), section
    big_links = {m.id: set(m.goal_ids) for m in big.measures}
    for m in small.measures:
        assert set(m.goal_ids) <= big_links[m.id]
    assert set(big_withheld) <= set(small_withheld)
    # A measure never points at a goal the reader cannot see.
    visible = {g.id for g in small.goals}
    assert all(set(m.goal_ids) <= visible for m in small.measures)
    assert content_problems(small) == []


@PROPERTY
@given(contents(), contents())
def test_property_compare_is_symmetric_and_finds_exactly_the_added_and_removed_ids(
    a: PlanContent, b: PlanContent
) -> None:
    added, changed, removed = compare(a, b)
    back_added, back_changed, back_removed = compare(b, a)
    assert sorted(added, key=str) == sorted(back_removed, key=str)
    assert sorted(removed, key=str) == sorted(back_added, key=str)
    assert {(s, i) for s, i, _ in changed} == {(s, i) for s, i, _ in back_changed}
    items_added = {i for s, i, _ in added if s != "period"}
    assert items_added == item_ids(b) - item_ids(a)
    assert {i for s, i, _ in removed if s != "period"} == item_ids(a) - item_ids(b)


@PROPERTY
@given(contents(), st.data())
def test_property_r16_renumbering_gives_unique_fresh_ids(
    c: PlanContent, data: st.DataObject
) -> None:
    # Strip the ids of some items that no measure points at, as if they were new.
    linked = {g for m in c.measures for g in m.goal_ids}
    strip = data.draw(st.sets(st.sampled_from(sorted(item_ids(c) - linked) or ["-"])))
    update = {
        s: [i.model_copy(update={"id": None}) if i.id in strip else i for i in getattr(c, s)]
        for s in SECTIONS
    }
    stripped = c.model_copy(update=update)
    extra = data.draw(st.integers(0, 5), label="removed before")
    used = highest_number(c) + extra
    numbered, assigned, now_used = number_new_items(stripped, used)
    assert len(assigned) == len(strip & item_ids(c))
    assert now_used == used + len(assigned)
    assert sorted(int(i[1:]) for i in assigned.values()) == list(range(used + 1, now_used + 1))
    for position, new_id in assigned.items():
        section, n = position.rstrip("]").split("[")
        assert getattr(numbered, section)[int(n)].id == new_id
        assert new_id.startswith(SECTIONS[section][0])
    assert content_problems(numbered) == []
    assert history_problems(numbered, c, now_used) == []


@PROPERTY
@given(contents())
def test_property_retention_anonymising_keeps_the_shape_and_drops_every_text(
    c: PlanContent,
) -> None:
    out = anonymise(c)
    assert "ZQ" not in out.model_dump_json()
    assert content_problems(out) == []
    for section in SECTIONS:
        assert ids_in(out, section) == ids_in(c, section)
    assert due_evaluations(out) == due_evaluations(c)
    for parts in (frozenset(), ALL_PARTS, frozenset({(HEALTH.value, "goals")})):
        assert cut_to_parts(out, parts)[1] == cut_to_parts(c, parts)[1]


def test_r16_an_evaluation_added_in_a_save_is_dated_and_signed_as_evaluate_would() -> None:
    """A save may add an evaluation, but not one dated before the plan was made or in the
    future, nor in someone else's name (evaluate records today and the caller)."""
    old = plan(goals=[goal("G1", evaluations=[ev(START)])])
    checks = {"today": START + 10 * DAY, "plan_made": START, "author": "staff-1"}

    def added(e: Evaluation) -> list[str]:
        new = plan(goals=[goal("G1", evaluations=[ev(START), e])])
        return where(added_evaluation_problems(new, old, **checks))  # type: ignore[arg-type]

    assert added(ev(START + DAY, by="staff-1")) == []
    assert added(ev(START + 11 * DAY, by="staff-1")) == ["goals[0].evaluations[1].on"]
    assert added(ev(START - DAY, by="staff-1")) == ["goals[0].evaluations[1].on"]
    assert added(ev(START + DAY, by="someone")) == ["goals[0].evaluations[1].by"]
    # What was recorded before is not judged again.
    assert where(added_evaluation_problems(old, old, **checks)) == []  # type: ignore[arg-type]
