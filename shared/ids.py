"""New identifiers: time-ordered UUIDs (version 7, RFC 9562, section 5.7).

Every id kenett mints for a row or an event is a UUIDv7: 48 bits of Unix time in milliseconds,
then a 12-bit counter, then 62 random bits. Ids made later sort later, so a new row's key lands
at the right-hand end of its B-tree instead of on a random page. On SQLite that is what a
commit writes: with random (version 4) ids, each event's inbox mark, outbox row and the rows of
the case touched pages all over their indexes, and the services wrote about 650 KB of WAL per
case; with these, about 490 KB (docs/benchmarks.md, change 22). PostgreSQL's B-trees gain the
same way.

What such an id tells: the millisecond it was made, as ``occurred_at`` or ``received_at``
already does beside it. It is never a secret and never a pseudonym: where a key must not be
linkable to a moment (the new key of an anonymised plan), use ``uuid.uuid4()``.

Within one process the ids are strictly increasing, also when the wall clock steps back or more
than 4,096 are made in one millisecond (the time part then runs ahead of the clock for a while).
Across processes they are unique by their 62 random bits.
"""

from __future__ import annotations

import os
import time
import uuid

_VERSION = 0x7
_VARIANT = 0b10
_RAND_B_MASK = (1 << 62) - 1
_COUNTER_MAX = 0xFFF

_last_ms = 0
_counter = 0


def uuid7_from(unix_ms: int, rand_a: int, rand_b: int) -> uuid.UUID:
    """The UUIDv7 with these fields (RFC 9562, section 5.7)."""
    if not 0 <= unix_ms < 1 << 48:
        raise ValueError("unix_ms must fit in 48 bits")
    if not 0 <= rand_a <= _COUNTER_MAX:
        raise ValueError("rand_a must fit in 12 bits")
    if not 0 <= rand_b <= _RAND_B_MASK:
        raise ValueError("rand_b must fit in 62 bits")
    return _pack(unix_ms, rand_a, rand_b)


def _pack(unix_ms: int, rand_a: int, rand_b: int) -> uuid.UUID:
    return uuid.UUID(
        int=(unix_ms << 80) | (_VERSION << 76) | (rand_a << 64) | (_VARIANT << 62) | rand_b
    )


def new_id() -> uuid.UUID:
    """A new time-ordered id, greater than every id this process made before."""
    global _last_ms, _counter
    now_ms = time.time_ns() // 1_000_000
    if now_ms > _last_ms:
        _last_ms = now_ms
        # A random start within the lower half leaves room to count up in this millisecond.
        _counter = int.from_bytes(os.urandom(2), "big") & 0x7FF
    else:
        _counter += 1
        if _counter > _COUNTER_MAX:
            _last_ms += 1
            _counter = 0
    return _pack(_last_ms, _counter, int.from_bytes(os.urandom(8), "big") & _RAND_B_MASK)


def id_time_ms(value: uuid.UUID) -> int:
    """The Unix time in milliseconds a UUIDv7 carries."""
    if value.version != _VERSION:
        raise ValueError(f"not a version 7 UUID (version {value.version})")
    return value.int >> 80
