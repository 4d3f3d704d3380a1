"""What every printed document shares: the embedded fonts and Norwegian dates (bokmål)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from shared.clock import OSLO

# DejaVu Sans, regular and bold (see fonts/LICENSE-DejaVu): covers æøå and more.
FONTS = Path(__file__).parent / "fonts"

MONTHS = (
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
)


def norwegian_date(day: date | datetime) -> str:
    """``22. november 2026``; a datetime is shown as its date in Norway."""
    if isinstance(day, datetime):
        day = day.astimezone(OSLO).date() if day.tzinfo else day.date()
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"
