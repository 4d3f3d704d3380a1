"""Time-ordered ids (shared.ids): the RFC 9562 layout, order within a process, uniqueness."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

from shared import ids
from shared.contracts.envelope import Envelope
from tests.unit.test_contracts import ACTOR, plan_created


def test_layout_matches_the_rfc_example() -> None:
    # RFC 9562, appendix A.6: unix_ts_ms 0x017F22E279B0, rand_a 0xCC3, rand_b 0x18C4DC0C0C07398F.
    value = ids.uuid7_from(0x017F22E279B0, 0xCC3, 0x18C4DC0C0C07398F)
    assert value == uuid.UUID("017F22E2-79B0-7CC3-98C4-DC0C0C07398F")
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert ids.id_time_ms(value) == 0x017F22E279B0


@pytest.mark.parametrize(
    ("unix_ms", "rand_a", "rand_b"),
    [(1 << 48, 0, 0), (-1, 0, 0), (0, 0x1000, 0), (0, 0, 1 << 62)],
)
def test_fields_out_of_range_are_refused(unix_ms: int, rand_a: int, rand_b: int) -> None:
    with pytest.raises(ValueError, match="must fit"):
        ids.uuid7_from(unix_ms, rand_a, rand_b)


def test_new_ids_are_version_7_and_carry_the_time_they_were_made() -> None:
    before = time.time_ns() // 1_000_000
    value = ids.new_id()
    after = time.time_ns() // 1_000_000
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    # The counter may have run the time part ahead by a millisecond or so, never behind.
    assert before <= ids.id_time_ms(value) <= after + 2


def test_new_ids_increase_strictly_and_do_not_repeat() -> None:
    made = [ids.new_id() for _ in range(50_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    # The text kenett stores on SQLite (32 hex digits) sorts the same way.
    assert [m.hex for m in made] == sorted(m.hex for m in made)


def test_order_holds_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    first = ids.new_id()
    monkeypatch.setattr(time, "time_ns", lambda: (ids.id_time_ms(first) - 60_000) * 1_000_000)
    later = [ids.new_id() for _ in range(5_000)]  # more than the 12-bit counter holds
    assert first < later[0]
    assert later == sorted(later)
    assert len(set(later)) == len(later)


def test_a_version_4_uuid_has_no_time() -> None:
    with pytest.raises(ValueError, match="not a version 7 UUID"):
        ids.id_time_ms(uuid.uuid4())


def test_events_get_time_ordered_ids() -> None:
    """An event's id keys the inbox and the outbox: it is made by new_id, so it sorts by time."""
    first, second = (
        Envelope.wrap(
            plan_created(), org="o", occurred_at=datetime.now(UTC), actor=ACTOR, case_id=None
        )
        for _ in range(2)
    )
    assert first.id.version == second.id.version == 7
    assert first.id < second.id
