"""Synthetic, valid fødselsnummer and D-nummer for tests and the demo.

Numbers are generated at run time and never stored in the repository; nothing here is, or is
taken from, a real person's number.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from stdnum.no import fodselsnummer


def _individual_range(year: int) -> range:
    if 1900 <= year <= 1999:
        return range(500)
    if 2000 <= year <= 2039:
        return range(500, 1000)
    raise ValueError("synthetic numbers are made for births 1900-2039")


def synthetic_national_id(
    rng: random.Random, birth_date: date | None = None, *, d_number: bool = False
) -> str:
    """A number that python-stdnum accepts, for ``birth_date`` (random adult if None)."""
    if birth_date is None:
        birth_date = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    individuals = list(_individual_range(birth_date.year))
    rng.shuffle(individuals)
    day = birth_date.day + (40 if d_number else 0)
    base = f"{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}"
    for individual in individuals:
        digits = f"{base}{individual:03d}"
        k1 = fodselsnummer.calc_check_digit1(digits)
        if k1 == "10":
            continue
        k2 = fodselsnummer.calc_check_digit2(digits + k1)
        if k2 == "10":
            continue
        number = digits + k1 + k2
        # Not is_valid(): it refuses future dates, which tests need to build on purpose.
        if fodselsnummer.get_birth_date(number) == birth_date:
            return number
    raise ValueError("no valid number exists for that date")  # pragma: no cover
