"""Notifications' pure rules: texts without personal data, reminders on the clock (R3, R6,
R11, R16), quiet hours in Norwegian local time, digests, retries, masked addresses and whose
inbox is whose. No I/O; only synthetic data."""

from __future__ import annotations

import inspect
import random
import re
import string
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.notifications.domain import (
    AUDIENCES,
    DIGEST_SUBJECT,
    DIGEST_TEXT,
    EXTERNAL_SUBJECT,
    EXTERNAL_TEXT,
    IMPORTANT,
    RULES,
    TEMPLATES,
    NoticeKind,
    ReminderKind,
    Stage,
    TemplateFailed,
    UnsafeNotice,
    backoff_at,
    digest_due,
    due_now,
    fire_time,
    in_quiet_hours,
    local_date,
    mask,
    next_fire,
    quiet_until,
    render,
    render_external,
    start_of_day,
)
from shared.clock import OSLO
from shared.contracts.notifications import (
    LeadTimes,
    QuietHours,
    RecipientRef,
    ke_inbox,
    next_of_kin_inbox,
)
from shared.synthetic import synthetic_national_id

CASE_REF = "2026-000123"
ON = date(2026, 11, 22)
ON_TEXT = "22. november 2026"
COUNT = 7
LOGIN_URL = "https://kenett.testkommune.kommune.no/innboks"
FNR = synthetic_national_id(random.Random(20261122), date(2010, 5, 17))
DEFAULTS = LeadTimes()

MONTHS = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
]
HEALTH_WORDS = (
    "diagnose",
    "helse",
    "plan",
    "koordinator",
    "evaluer",
    "møte",
    "samtykke",
    "klage",
    "tiltak",
    "vedtak",
    "frist",
    "sak",
    "ansvarsgruppe",
    "overføring",
)
DATE_PATTERNS = (
    re.compile(r"\d{4}-\d{2}-\d{2}"),
    re.compile(r"\d{1,2}\.\d{1,2}\.\d{2,4}"),
    re.compile(r"\d{1,2}\. ?(" + "|".join(MONTHS) + ")", re.IGNORECASE),
    re.compile(r"(?<!\d)\d{6}(?!\d)"),
)


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def oslo(*args: int) -> datetime:
    """A wall-clock time in Norway, as an aware datetime in UTC."""
    return datetime(*args, tzinfo=OSLO).astimezone(UTC)  # type: ignore[misc]


# --- No personal data in any template (domain.md "Identifiers and data") --------------------


def test_every_notice_kind_has_a_template_and_an_audience() -> None:
    assert set(TEMPLATES) == set(NoticeKind)
    assert set(AUDIENCES) == set(NoticeKind)
    assert all(AUDIENCES[kind] for kind in NoticeKind)
    assert set(NoticeKind) >= IMPORTANT


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_no_personal_data_in_any_template(kind: NoticeKind) -> None:
    """A test checks every template: only a case reference, a date and a count get in; the
    text is bokmål, names the system and fits the inbox column."""
    assert fields(TEMPLATES[kind]) <= {"case_ref", "on", "count"}
    text = render(kind, CASE_REF, on=ON, count=COUNT)
    assert not re.search(r"\d{11}", text)
    assert FNR not in text
    assert "Testesen" not in text
    assert "kenett" in text
    assert "Logg inn" in text  # bokmål, addressed to the reader
    assert len(text) <= 500
    if "case_ref" in fields(TEMPLATES[kind]):
        assert CASE_REF in text
    if "on" in fields(TEMPLATES[kind]):
        assert ON_TEXT in text
    # Nothing but the three values: remove them and only the template's own words remain.
    literal = "".join(part for part, *_ in string.Formatter().parse(TEMPLATES[kind]))
    rest = text.replace(CASE_REF, "").replace(ON_TEXT, "").replace(str(COUNT), "")
    assert rest == literal


def test_render_has_no_parameter_for_a_name_or_an_identity_number() -> None:
    assert list(inspect.signature(render).parameters) == [
        "kind",
        "case_ref",
        "on",
        "count",
        "templates",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        FNR,
        "12345678901",
        "Kari Testesen",
        "Testesen",
        f"{CASE_REF} Testesen",
        f"{CASE_REF}\n{FNR}",
        f"{CASE_REF} diagnose",
        "2026-0001234",
        "26-000123",
        "",
    ],
)
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_render_refuses_anything_but_a_case_reference(kind: NoticeKind, bad: str) -> None:
    with pytest.raises(UnsafeNotice):
        render(kind, bad, on=ON, count=COUNT)


def test_an_identity_number_cannot_come_in_as_a_count() -> None:
    with pytest.raises(UnsafeNotice):
        render(NoticeKind.COORDINATOR_OVER_LIMIT, None, count=int(FNR))


def test_r10_over_limit_notice_names_no_case() -> None:
    """R10: the caseload notice is about a coordinator, not a case; it needs no case ref."""
    text = render(NoticeKind.COORDINATOR_OVER_LIMIT, None, count=6)
    assert "(6)" in text
    assert not re.search(r"\d{4}-\d{6}", text)


def test_a_kind_that_names_a_case_needs_the_case_reference() -> None:
    with pytest.raises(TemplateFailed, match="case_ref"):
        render(NoticeKind.PLAN_CREATED, None)


def test_external_templates_use_only_login_url_and_count() -> None:
    for template in (EXTERNAL_SUBJECT, EXTERNAL_TEXT, DIGEST_SUBJECT, DIGEST_TEXT):
        assert fields(template) <= {"login_url", "count"}
    assert "login_url" in fields(EXTERNAL_TEXT)
    assert fields(DIGEST_TEXT) == {"login_url", "count"}


@pytest.mark.parametrize("count", [1, 2, 12, 250])
def test_what_leaves_the_system_says_only_where_to_log_in(count: int) -> None:
    subject, text = render_external(LOGIN_URL, count)
    assert LOGIN_URL in text
    if count > 1:
        assert str(count) in text
    for part in (subject, text):
        bare = part.replace(LOGIN_URL, "")
        assert CASE_REF not in bare
        assert FNR not in bare
        assert "kenett" in bare
        for pattern in DATE_PATTERNS:
            assert not pattern.search(bare), pattern.pattern
        lowered = bare.lower()
        for kind in NoticeKind:
            assert kind.value not in lowered
            assert kind.value.replace("_", " ") not in lowered
        for word in HEALTH_WORDS:
            assert word not in lowered, word
        # The only digits are the count.
        assert re.sub(r"\D", "", bare) in ("", str(count))
    # One SMS.
    assert len(text) <= 160


def test_outgoing_text_refuses_a_login_url_carrying_an_identity_number() -> None:
    with pytest.raises(UnsafeNotice):
        render_external(f"https://kenett.testkommune.kommune.no/{FNR}")


# --- A template that fails -------------------------------------------------------------------


def test_a_template_with_a_field_it_may_not_use_fails() -> None:
    kind = NoticeKind.PLAN_CREATED
    with pytest.raises(TemplateFailed, match="name"):
        render(kind, CASE_REF, templates={kind: "Hei {name}"})


@pytest.mark.parametrize(
    "template", ["Sak {case_ref", "Sak case_ref}", "Sak {case_ref}}", "Sak {{case_ref}"]
)
def test_a_template_with_a_broken_brace_fails(template: str) -> None:
    kind = NoticeKind.PLAN_CREATED
    with pytest.raises(TemplateFailed):
        render(kind, CASE_REF, templates={kind: template})


def test_a_template_needing_a_date_without_one_fails() -> None:
    kind = NoticeKind.EVALUATION_DUE
    with pytest.raises(TemplateFailed, match="on"):
        render(kind, CASE_REF)
    with pytest.raises(TemplateFailed, match="count"):
        render(NoticeKind.COORDINATOR_OVER_LIMIT, None)


def test_a_kind_without_a_template_fails() -> None:
    with pytest.raises(TemplateFailed):
        render(NoticeKind.PLAN_CREATED, CASE_REF, templates={})


@pytest.mark.parametrize("template", ["Sak {case_ref:d}", "Sak {case_ref!z}", "{count:{name}}"])
def test_a_template_with_a_bad_format_spec_fails_as_template_failed(template: str) -> None:
    kind = NoticeKind.PLAN_CREATED
    with pytest.raises(TemplateFailed):
        render(kind, CASE_REF, count=COUNT, templates={kind: template})


# --- Reminders (R3, R6, R11, R16) ------------------------------------------------------------

DUE = start_of_day(date(2026, 11, 23))  # 2026-11-22T23:00Z, midnight in Norway

FIRST_FIRE = {
    ReminderKind.EVALUATION: DUE - timedelta(days=7),  # R16
    ReminderKind.REVISION: DUE - timedelta(days=7),  # R14 point 7, as an evaluation
    ReminderKind.MEASURE_DEADLINE: DUE - timedelta(days=7),  # R16
    ReminderKind.MEETING: DUE - timedelta(hours=24),
    ReminderKind.CONSENT_RENEWAL: DUE - timedelta(days=30),  # R6
    ReminderKind.WITHOUT_COORDINATOR: DUE + timedelta(days=3),  # R11: after, not before
    ReminderKind.APPEAL_DEADLINE: DUE - timedelta(days=7),  # R3
}


def test_start_of_day_is_local_midnight() -> None:
    assert datetime(2026, 11, 22, 23, 0, tzinfo=UTC) == DUE
    assert start_of_day(date(2026, 6, 10)) == datetime(2026, 6, 9, 22, 0, tzinfo=UTC)
    assert local_date(DUE) == date(2026, 11, 23)
    assert local_date(DUE - timedelta(seconds=1)) == date(2026, 11, 22)


@pytest.mark.parametrize("kind", list(ReminderKind))
def test_next_fire_is_the_first_stage_with_default_lead_times(kind: ReminderKind) -> None:
    assert next_fire(kind, DUE, frozenset(), DEFAULTS) == FIRST_FIRE[kind]
    first = RULES[kind][0].stage
    assert fire_time(kind, first, DUE, DEFAULTS) == FIRST_FIRE[kind]


@pytest.mark.parametrize("kind", list(ReminderKind))
def test_next_fire_is_none_when_every_stage_is_done(kind: ReminderKind) -> None:
    assert next_fire(kind, DUE, frozenset(r.stage for r in RULES[kind]), DEFAULTS) is None
    assert next_fire(kind, DUE, frozenset(s.value for s in Stage), DEFAULTS) is None


def test_r3_appeal_deadline_reminds_seven_days_before_then_at_the_deadline() -> None:
    kind = ReminderKind.APPEAL_DEADLINE
    before = DUE - timedelta(days=7)
    assert due_now(kind, DUE, frozenset(), before - timedelta(seconds=1), DEFAULTS) == ([], [])

    tell, skip = due_now(kind, DUE, frozenset(), before, DEFAULTS)
    assert [r.notice for r in tell] == [NoticeKind.APPEAL_DEADLINE_DUE]
    assert skip == []
    fired = frozenset({"before"})
    assert next_fire(kind, DUE, fired, DEFAULTS) == DUE

    # Told once: later sweeps before the deadline tell nothing more.
    assert due_now(kind, DUE, fired, before + timedelta(days=1), DEFAULTS) == ([], [])
    assert due_now(kind, DUE, fired, DUE - timedelta(seconds=1), DEFAULTS) == ([], [])

    tell, skip = due_now(kind, DUE, fired, DUE, DEFAULTS)
    assert [r.notice for r in tell] == [NoticeKind.APPEAL_DEADLINE_PASSED]
    assert skip == []
    fired = fired | {"at"}
    assert due_now(kind, DUE, fired, DUE + timedelta(days=30), DEFAULTS) == ([], [])
    assert next_fire(kind, DUE, fired, DEFAULTS) is None


@pytest.mark.parametrize("kind", [ReminderKind.APPEAL_DEADLINE, ReminderKind.MEASURE_DEADLINE])
def test_r3_r16_a_passed_deadline_skips_the_before_notice_and_tells_the_at_notice(
    kind: ReminderKind,
) -> None:
    """The service was down over the 'before' time: when it sweeps after the deadline, the
    reminder says the deadline passed, not that it is coming."""
    tell, skip = due_now(kind, DUE, frozenset(), DUE + timedelta(hours=1), DEFAULTS)
    assert [r.stage for r in tell] == [Stage.AT]
    assert skip == [Stage.BEFORE]


@pytest.mark.parametrize(
    "kind",
    [ReminderKind.EVALUATION, ReminderKind.MEETING, ReminderKind.CONSENT_RENEWAL],
)
def test_r6_r16_a_before_only_reminder_is_skipped_once_its_date_has_come(
    kind: ReminderKind,
) -> None:
    """R16 evaluation, a meeting, R6 the 16th birthday: no "coming up" notice afterwards."""
    for now in (DUE, DUE + timedelta(days=2)):
        tell, skip = due_now(kind, DUE, frozenset(), now, DEFAULTS)
        assert tell == []
        assert skip == [Stage.BEFORE]


def test_r16_evaluation_reminder_fires_seven_days_before_once() -> None:
    kind = ReminderKind.EVALUATION
    at = DUE - timedelta(days=7)
    assert due_now(kind, DUE, frozenset(), at - timedelta(minutes=1), DEFAULTS) == ([], [])
    tell, skip = due_now(kind, DUE, frozenset(), at + timedelta(hours=3), DEFAULTS)
    assert [r.notice for r in tell] == [NoticeKind.EVALUATION_DUE]
    assert skip == []
    fired = frozenset(r.stage.value for r in tell)
    assert due_now(kind, DUE, fired, at + timedelta(days=1), DEFAULTS) == ([], [])
    assert due_now(kind, DUE, fired, DUE + timedelta(days=1), DEFAULTS) == ([], [])
    assert next_fire(kind, DUE, fired, DEFAULTS) is None


def test_meeting_reminder_fires_24_hours_before() -> None:
    kind = ReminderKind.MEETING
    meeting = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert due_now(kind, meeting, frozenset(), meeting - timedelta(hours=25), DEFAULTS) == (
        [],
        [],
    )
    tell, _ = due_now(kind, meeting, frozenset(), meeting - timedelta(hours=24), DEFAULTS)
    assert [r.notice for r in tell] == [NoticeKind.MEETING_REMINDER]


def test_r6_consent_renewal_fires_30_days_before_the_16th_birthday() -> None:
    birthday = start_of_day(date(2026, 5, 17))
    kind = ReminderKind.CONSENT_RENEWAL
    tell, _ = due_now(kind, birthday, frozenset(), birthday - timedelta(days=30), DEFAULTS)
    assert [r.notice for r in tell] == [NoticeKind.CONSENT_RENEWAL_DUE]
    early = birthday - timedelta(days=31)
    assert due_now(kind, birthday, frozenset(), early, DEFAULTS) == ([], [])


def test_r11_without_coordinator_reminds_three_days_after_it_started_waiting() -> None:
    kind = ReminderKind.WITHOUT_COORDINATOR
    assert due_now(kind, DUE, frozenset(), DUE, DEFAULTS) == ([], [])
    assert due_now(kind, DUE, frozenset(), DUE + timedelta(days=3, seconds=-1), DEFAULTS) == (
        [],
        [],
    )
    tell, skip = due_now(kind, DUE, frozenset(), DUE + timedelta(days=3), DEFAULTS)
    assert [r.notice for r in tell] == [NoticeKind.CASE_STILL_WITHOUT_COORDINATOR]
    assert skip == []
    # A late sweep still tells it (it is never skipped).
    tell, skip = due_now(kind, DUE, frozenset(), DUE + timedelta(days=40), DEFAULTS)
    assert [r.stage for r in tell] == [Stage.AT]
    assert skip == []


def test_r16_lead_times_are_configurable() -> None:
    leads = LeadTimes(evaluation_days=14)
    kind = ReminderKind.EVALUATION
    assert next_fire(kind, DUE, frozenset(), leads) == DUE - timedelta(days=14)
    assert due_now(kind, DUE, frozenset(), DUE - timedelta(days=15), leads) == ([], [])
    tell, _ = due_now(kind, DUE, frozenset(), DUE - timedelta(days=14), leads)
    assert [r.notice for r in tell] == [NoticeKind.EVALUATION_DUE]
    # The other kinds keep their defaults.
    assert next_fire(ReminderKind.MEETING, DUE, frozenset(), leads) == DUE - timedelta(hours=24)


def test_r11_r3_other_lead_times_are_configurable() -> None:
    leads = LeadTimes(meeting_hours=2, without_coordinator_days=5, appeal_days=14)
    assert next_fire(ReminderKind.MEETING, DUE, frozenset(), leads) == DUE - timedelta(hours=2)
    assert next_fire(ReminderKind.WITHOUT_COORDINATOR, DUE, frozenset(), leads) == DUE + (
        timedelta(days=5)
    )
    assert next_fire(ReminderKind.APPEAL_DEADLINE, DUE, frozenset(), leads) == DUE - (
        timedelta(days=14)
    )


lead_times = st.builds(
    LeadTimes,
    evaluation_days=st.integers(0, 365),
    measure_deadline_days=st.integers(0, 365),
    meeting_hours=st.integers(0, 24 * 60),
    consent_renewal_days=st.integers(0, 365),
    appeal_days=st.integers(0, 28),
    without_coordinator_days=st.integers(0, 365),
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(list(ReminderKind)),
    due=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    leads=lead_times,
    offsets=st.lists(st.integers(-400 * 24 * 3600, 400 * 24 * 3600), max_size=30, unique=True),
)
def test_r3_r6_r11_r16_a_sweep_tells_each_stage_once_and_never_early(
    kind: ReminderKind,
    due: datetime,
    leads: LeadTimes,
    offsets: list[int],
) -> None:
    """Simulate the sweep at increasing times: each stage is told at most once, never before
    its fire time, a 'before' notice never after the due time, and in the end every stage is
    told or skipped."""
    nows = [due + timedelta(seconds=s) for s in sorted(offsets)]
    nows.append(due + timedelta(days=800))  # far after everything
    fired: set[str] = set()
    told: list[Stage] = []
    for now in nows:
        tell, skip = due_now(kind, due, frozenset(fired), now, leads)
        for rule in tell:
            assert rule.stage not in fired
            assert rule.stage not in told
            assert fire_time(kind, rule.stage, due, leads) <= now
            assert rule in RULES[kind]
            if rule.stage is Stage.BEFORE:
                assert now < due
            told.append(rule.stage)
        for stage in skip:
            assert stage not in fired
            assert stage not in {r.stage for r in tell}
        fired |= {r.stage.value for r in tell} | {s.value for s in skip}
        # The next sweep time is consistent with what is due now.
        upcoming = next_fire(kind, due, frozenset(fired), leads)
        assert upcoming is None or upcoming > now
    assert fired == {r.stage.value for r in RULES[kind]}
    assert next_fire(kind, due, frozenset(fired), leads) is None
    if Stage.AT in {r.stage for r in RULES[kind]}:
        assert Stage.AT in told  # an "at" notice is never lost


# --- Quiet hours (Europe/Oslo local time) ----------------------------------------------------

NIGHT = QuietHours(start=time(21, 0), end=time(7, 0))
LUNCH = QuietHours(start=time(12, 0), end=time(13, 0))


def test_quiet_hours_spanning_midnight_end_next_morning_local_time() -> None:
    at = oslo(2026, 6, 10, 22, 30)  # CEST, UTC+2
    assert at == datetime(2026, 6, 10, 20, 30, tzinfo=UTC)
    assert in_quiet_hours(at, NIGHT)
    assert quiet_until(at, NIGHT) == datetime(2026, 6, 11, 5, 0, tzinfo=UTC)


def test_quiet_hours_after_midnight_end_the_same_morning() -> None:
    at = oslo(2026, 11, 23, 2, 0)  # CET, UTC+1
    assert in_quiet_hours(at, NIGHT)
    assert quiet_until(at, NIGHT) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def test_quiet_hours_across_the_autumn_dst_change() -> None:
    """The night of 2026-10-25 Norway goes from UTC+2 to UTC+1: the night is an hour longer."""
    at = oslo(2026, 10, 24, 22, 30)
    assert at == datetime(2026, 10, 24, 20, 30, tzinfo=UTC)
    end = quiet_until(at, NIGHT)
    assert end == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
    assert end.astimezone(OSLO).time() == time(7, 0)
    assert end - at == timedelta(hours=9, minutes=30)


def test_quiet_hours_across_the_spring_dst_change() -> None:
    """The night of 2027-03-28 Norway goes from UTC+1 to UTC+2: the night is an hour shorter."""
    at = oslo(2027, 3, 27, 22, 30)
    assert at == datetime(2027, 3, 27, 21, 30, tzinfo=UTC)
    end = quiet_until(at, NIGHT)
    assert end == datetime(2027, 3, 28, 5, 0, tzinfo=UTC)
    assert end.astimezone(OSLO).time() == time(7, 0)
    assert end - at == timedelta(hours=7, minutes=30)


def test_quiet_hours_boundaries_are_local_and_half_open() -> None:
    assert in_quiet_hours(oslo(2026, 11, 22, 21, 0), NIGHT)
    assert not in_quiet_hours(oslo(2026, 11, 22, 20, 59), NIGHT)
    assert in_quiet_hours(oslo(2026, 11, 23, 6, 59), NIGHT)
    assert not in_quiet_hours(oslo(2026, 11, 23, 7, 0), NIGHT)
    # 20:30 UTC is 21:30 in Norway in winter: quiet, though 20:30 would not be.
    assert in_quiet_hours(datetime(2026, 11, 22, 20, 30, tzinfo=UTC), NIGHT)


def test_a_daytime_quiet_period() -> None:
    at = oslo(2026, 6, 10, 12, 30)
    assert in_quiet_hours(at, LUNCH)
    assert quiet_until(at, LUNCH) == oslo(2026, 6, 10, 13, 0)
    assert quiet_until(at, LUNCH) == datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
    for hh, mm in ((11, 59), (13, 0), (22, 30), (2, 0)):
        other = oslo(2026, 6, 10, hh, mm)
        assert not in_quiet_hours(other, LUNCH)
        assert quiet_until(other, LUNCH) == other


def test_no_quiet_hours_is_never_quiet() -> None:
    for hh in range(24):
        at = oslo(2026, 11, 22, hh, 30)
        assert not in_quiet_hours(at, None)
        assert quiet_until(at, None) == at


def test_outside_quiet_hours_the_same_instant() -> None:
    at = oslo(2026, 11, 22, 14, 15)
    assert not in_quiet_hours(at, NIGHT)
    assert quiet_until(at, NIGHT) == at


@settings(max_examples=300, deadline=None)
@given(
    at=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    start=st.times(),
    # An end inside 02:00-03:00 falls in the DST gap or the repeated hour: see the xfail below.
    end=st.times().filter(lambda t: t.hour != 2),
)
def test_quiet_until_is_never_earlier_and_ends_the_quiet(
    at: datetime, start: time, end: time
) -> None:
    if start == end:
        return
    quiet = QuietHours(start=start, end=end)
    until = quiet_until(at, quiet)
    assert until >= at
    assert until - at <= timedelta(hours=25)
    assert not in_quiet_hours(until, quiet)
    assert (until == at) == (not in_quiet_hours(at, quiet))


def test_quiet_until_in_the_repeated_autumn_hour_is_not_in_the_past() -> None:
    quiet = QuietHours(start=time(21, 0), end=time(2, 30))
    at = datetime(2026, 10, 25, 1, 15, tzinfo=UTC)  # 02:15 CET, the second 02:15 that night
    assert in_quiet_hours(at, quiet)
    assert quiet_until(at, quiet) >= at


# --- Digests and retries ---------------------------------------------------------------------

DIGEST_AT = time(7, 30)


def test_digest_waits_until_digest_time_local() -> None:
    assert digest_due(oslo(2026, 11, 22, 7, 29), DIGEST_AT, None) is None
    # 06:45 UTC is 07:45 in winter (due) ...
    assert digest_due(datetime(2026, 11, 22, 6, 45, tzinfo=UTC), DIGEST_AT, None) == date(
        2026, 11, 22
    )
    # ... and 08:45 in summer; 05:15 UTC is 07:15 in summer (not yet).
    assert digest_due(datetime(2026, 6, 10, 5, 15, tzinfo=UTC), DIGEST_AT, None) is None


def test_digest_goes_out_once_a_day() -> None:
    now = oslo(2026, 11, 22, 7, 30)
    today = date(2026, 11, 22)
    assert digest_due(now, DIGEST_AT, None) == today
    assert digest_due(now, DIGEST_AT, today - timedelta(days=1)) == today
    assert digest_due(now, DIGEST_AT, today) is None
    assert digest_due(oslo(2026, 11, 22, 23, 59), DIGEST_AT, today) is None
    # The local day, not UTC's: 23:30 UTC is already the next day in Norway, before 07:30.
    assert digest_due(datetime(2026, 11, 22, 23, 30, tzinfo=UTC), DIGEST_AT, None) is None
    assert digest_due(oslo(2026, 11, 23, 7, 31), DIGEST_AT, today) == date(2026, 11, 23)


BACKOFF = (10.0, 60.0, 300.0)


@pytest.mark.parametrize("attempts", [1, 2, 3])
def test_backoff_follows_the_schedule(attempts: int) -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert backoff_at(now, attempts, BACKOFF) == now + timedelta(seconds=BACKOFF[attempts - 1])


@pytest.mark.parametrize("attempts", [4, 5, 100])
def test_backoff_gives_up_after_the_schedule(attempts: int) -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert backoff_at(now, attempts, BACKOFF) is None
    assert backoff_at(now, 1, ()) is None


# --- Masked addresses --------------------------------------------------------------------------


def test_mask_an_email_keeps_the_domain_only() -> None:
    masked = mask("ola.testesen@example.no")
    assert "testesen" not in masked
    assert "ola" not in masked
    assert masked.endswith("@example.no")


def test_mask_a_phone_hides_the_middle_digits() -> None:
    masked = mask("+4791234567")
    assert "912345" not in masked
    assert "1234" not in masked
    assert masked != "+4791234567"
    assert mask("12345") == "***"


def test_mask_a_url_keeps_scheme_and_host_only() -> None:
    masked = mask("https://hooks.example.no/services/T0KEN/s3cret?sig=abc")
    assert masked.startswith("https://hooks.example.no")
    for secret in ("T0KEN", "s3cret", "sig", "services"):
        assert secret not in masked
    assert mask("http://hooks.example.no").startswith("http://hooks.example.no")


def test_mask_a_url_with_credentials_keeps_scheme_and_host_only() -> None:
    masked = mask("https://bruker:s3cret@hooks.example.no/webhook/T0KEN")
    assert "s3cret" not in masked
    assert "T0KEN" not in masked
    assert masked.startswith("https://")


# --- Quiet hours and recipients are validated ------------------------------------------------


def test_quiet_hours_must_be_a_period() -> None:
    with pytest.raises(ValidationError):
        QuietHours(start=time(21, 0), end=time(21, 0))


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "person"},
        {"kind": "next_of_kin", "relative": "mor"},
        {"kind": "next_of_kin", "case_id": uuid.UUID(int=1)},
        {"kind": "next_of_kin", "case_id": uuid.UUID(int=1), "relative": ""},
        {"kind": "coordinator"},
        {"kind": "member"},
        {"kind": "staff", "case_id": uuid.UUID(int=1)},
        {"kind": "nobody", "id": uuid.UUID(int=1)},
    ],
)
def test_r8_an_incomplete_recipient_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RecipientRef.model_validate(data)


def test_r8_recipient_ids_are_stable_and_distinct() -> None:
    case = uuid.UUID("00000000-0000-4000-8000-000000000123")
    staff = uuid.UUID("00000000-0000-4000-8000-000000000456")
    org = "testkommune"

    def nok(relative: str, in_org: str = org) -> uuid.UUID:
        ref = RecipientRef(kind="next_of_kin", case_id=case, relative=relative)
        return ref.recipient_id(in_org)

    assert nok("mor") == nok("mor")
    assert nok("mor") == next_of_kin_inbox(org, case, "mor")
    assert nok("mor") != nok("far")
    assert nok("mor") != nok("mor", "annenkommune")
    assert nok("mor") != case

    ke = RecipientRef(kind="ke")
    assert ke.recipient_id(org) == ke.recipient_id(org) == ke_inbox(org)
    assert ke.recipient_id(org) != ke.recipient_id("annenkommune")

    assert RecipientRef(kind="person", case_id=case).recipient_id(org) == case
    assert RecipientRef(kind="coordinator", id=staff).recipient_id(org) == staff
    ids = {
        nok("mor"),
        nok("far"),
        ke.recipient_id(org),
        RecipientRef(kind="person", case_id=case).recipient_id(org),
        RecipientRef(kind="coordinator", id=staff).recipient_id(org),
    }
    assert len(ids) == 5
