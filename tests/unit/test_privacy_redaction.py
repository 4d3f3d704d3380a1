"""An identity number of someone born on the 1st to the 9th of a month begins with 0;
as an int it has 10 digits, and it must be masked all the same."""

from __future__ import annotations

import io
import logging
from datetime import date

import structlog

from shared.logging import configure_logging, get_logger
from tests.helpers import national_id


def test_an_identity_number_with_a_leading_zero_is_masked_as_an_int_too() -> None:
    buf = io.StringIO()
    configure_logging("json", "DEBUG", stream=buf)
    try:
        number = national_id(date(1990, 3, 5))  # 050390xxxxx
        assert number.startswith("0")
        get_logger("t").info("lookup", n=int(number))
        text = buf.getvalue()
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert number.lstrip("0") not in text, text
