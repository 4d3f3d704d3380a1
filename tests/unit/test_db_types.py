"""``UTCDateTime`` binds on SQLite exactly what SQLAlchemy's own processors would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from shared.db.types import UTCDateTime

OSLO = ZoneInfo("Europe/Oslo")
VALUES = [
    datetime(2026, 12, 4, 18, 26, 6, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2026, 12, 4, 18, 26, 6, 123456, tzinfo=UTC),
    datetime(2026, 3, 29, 2, 30, 0, 1, tzinfo=OSLO),  # the hour summer time skips
    datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=OSLO),  # the hour autumn repeats
    datetime(999, 1, 1, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),  # a 3-digit year
    datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")),  # UTC, but not the same object as UTC
    None,
]


@pytest.mark.parametrize("value", VALUES)
def test_the_sqlite_bind_is_what_sqlalchemy_would_bind(value: datetime | None) -> None:
    dialect = sqlite.dialect()
    adapted = UTCDateTime().dialect_impl(dialect)  # as the dialect uses it
    ours = adapted.bind_processor(dialect)
    theirs = TypeDecorator.bind_processor(adapted, dialect)  # process_bind_param, then DATETIME
    assert ours is not None and theirs is not None
    assert ours(value) == theirs(value)


def test_a_naive_datetime_is_refused_on_both_paths() -> None:
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        assert process is not None
        with pytest.raises(ValueError, match="naive datetime"):
            process(datetime(2026, 12, 4, 12, 0))


def test_the_type_in_use_takes_the_sqlite_fast_path() -> None:
    dialect = sqlite.dialect()
    process = UTCDateTime()._cached_bind_processor(dialect)
    assert process is not None and process.__qualname__.startswith("UTCDateTime.bind_processor")
