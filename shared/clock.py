"""The injectable clock: deadlines, birthdays (R6) and reminders are tested without sleeping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


class Clock(Protocol):
    """Tells the time; every service asks one of these, never ``datetime.now`` directly."""

    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move time forward (never backward)."""
        if delta < timedelta(0):
            raise ValueError("time does not run backwards")
        self._now += delta

    def set(self, instant: datetime) -> None:
        """Jump to an instant."""
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = instant


def local_today(clock: Clock) -> date:
    """Today's date in Norway, which is what ages and deadlines are counted in."""
    return clock.now().astimezone(OSLO).date()


def age_on(birth_date: date, on: date) -> int:
    """Completed years on a date (R6 counts from the 16th birthday).

    Someone born 29 February is a year older on 1 March in common years.
    """
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
