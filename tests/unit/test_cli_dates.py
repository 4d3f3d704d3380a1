"""Dates typed at the command line mean what a KE user means by them (R7: a consent "may be
limited in time"; R11: an overlap period). "--until 2027-06-30" is "til og med 30. juni":
the consent holds, and the overlap lasts, the whole of that day, as ``kenett audit-trail
--until`` already counted it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import typer

from services.assignment.cli import instant
from shared.clock import OSLO
from shared.runtime.clitools import local_end, moment


def test_a_bare_date_is_the_start_of_that_day_in_norway() -> None:
    assert moment("2027-06-30", "--from") == datetime(2027, 6, 30, tzinfo=OSLO)


def test_r7_an_end_date_holds_through_that_day() -> None:
    end = moment("2027-06-30", "--until", through=True)
    assert end == datetime(2027, 7, 1, tzinfo=OSLO)
    # Summer time: 30 June ends at 22:00 UTC, not at 23:00 or at the day's start.
    assert end is not None and end.astimezone(UTC) == datetime(2027, 6, 30, 22, tzinfo=UTC)
    # The last day of a year and of February in a leap year roll over correctly.
    assert moment("2027-12-31", "--until", through=True) == datetime(2028, 1, 1, tzinfo=OSLO)
    assert moment("2028-02-28", "--until", through=True) == datetime(2028, 2, 29, tzinfo=OSLO)


def test_a_time_is_taken_as_written() -> None:
    assert moment("2027-06-30T14:30", "--until", through=True) == datetime(
        2027, 6, 30, 14, 30, tzinfo=OSLO
    )
    assert moment("2027-06-30T14:30+00:00", "--until", through=True) == datetime(
        2027, 6, 30, 14, 30, tzinfo=UTC
    )


def test_the_last_day_there_is_cannot_be_held_through() -> None:
    # 9999-12-31 "til og med" has no next day: a clear refusal, not a crash; no end is no option.
    with pytest.raises(typer.BadParameter) as refused:
        moment("9999-12-31", "--until", through=True)
    assert "leave the option out" in str(refused.value.message)
    assert moment("9999-12-31", "--from") == datetime(9999, 12, 31, tzinfo=OSLO)


@pytest.mark.parametrize(
    "bad",
    ["30.06.2027", "2027-02-30", "neste år", "12345678901", "20270630", "2027-W26", "2027-06-30T"],
)
def test_a_bad_date_is_refused_naming_the_option_without_repeating_it(bad: str) -> None:
    with pytest.raises(typer.BadParameter) as refused:
        moment(bad, "--until", through=True)
    assert refused.value.param_hint == "--until"
    assert bad not in str(refused.value.message)


def test_r11_the_overlap_ends_after_its_last_day_and_today_as_start_means_now() -> None:
    assert instant("2030-01-01", "--until", through=True) == datetime(2030, 1, 1, 23, tzinfo=UTC)
    assert instant("2030-01-01", "--start") == datetime(2029, 12, 31, 23, tzinfo=UTC)
    today = datetime.now(OSLO).date().isoformat()
    assert instant(today, "--start", today_is_now=True) is None
    assert instant(None, "--start", today_is_now=True) is None


def test_an_end_at_midnight_reads_as_its_last_whole_day() -> None:
    assert local_end("2027-06-30T22:00:00+00:00") == "t.o.m. 30.06.2027"
    assert local_end("2027-06-30T12:15:00+00:00") == "30.06.2027 14:15"
    assert local_end(None) == "–"
    assert date(2027, 6, 30).strftime("%d.%m.%Y") in local_end(
        datetime(2027, 7, 1, tzinfo=OSLO).isoformat()
    )
