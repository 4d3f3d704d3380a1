"""Decisions (R3, R4): the enkeltvedtak on IP can be appealed to the Statsforvalter within
4 weeks (pasient- og brukerrettighetsloven §§ 7-2, 7-5); the decision on coordinator cannot be
appealed. A deadline that ends on a Saturday, Sunday or public holiday runs to the next working
day (domstolloven § 148, applied to administrative deadlines)."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from functools import cache

APPEAL_PERIOD = timedelta(weeks=4)


class DecisionKind(StrEnum):
    """What was decided."""

    IP = "ip"  # enkeltvedtak, may be appealed (R3)
    COORDINATOR = "coordinator"  # beslutning, no right of appeal (R4)


def appealable(kind: DecisionKind) -> bool:
    """R3: the IP decision may be appealed; R4: the coordinator decision may not."""
    return kind is DecisionKind.IP


def _easter(year: int) -> date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = ((h + l_ - 7 * m + 114) % 31) + 1
    return date(year, month, day)


@cache
def public_holidays(year: int) -> frozenset[date]:
    """Norwegian public holidays (helligdager and 1 and 17 May)."""
    easter = _easter(year)
    movable = (-3, -2, 0, 1, 39, 49, 50)  # skjærtorsdag .. 2. pinsedag
    fixed = (
        date(year, 1, 1),
        date(year, 5, 1),
        date(year, 5, 17),
        date(year, 12, 25),
        date(year, 12, 26),
    )
    return frozenset((*fixed, *(easter + timedelta(days=d) for d in movable)))


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the next one."""
    while day.weekday() >= 5 or day in public_holidays(day.year):
        day += timedelta(days=1)
    return day


def appeal_deadline(notified_on: date) -> date:
    """The last day to appeal an IP decision notified on ``notified_on`` (R3)."""
    return next_working_day(notified_on + APPEAL_PERIOD)
