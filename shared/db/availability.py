"""Is the database away? Telling a lost connection from every other error, and waiting for it.

An event consumer whose handler fails because the database cannot be reached (connections
refused or cut, the server shutting down or not accepting connections yet) must not spend the
message's deliveries on it: that is no fault of the message. ``shared.bus.handlers`` asks
``is_connectivity_error`` and, if so, waits here until a cheap ``SELECT 1`` answers, then tries
the same delivery again.

Contention is not an outage: SQLite's "database is locked", a deadlock, a serialization failure
or an exhausted pool stay ordinary transient failures (retried with a delay, bounded).

One ``DatabaseWaiter`` per database (``waiter_for``): however many handlers are waiting, one of
them probes at a time (exponential backoff up to ``MAX_BACKOFF_S``), and an outage is logged
once at WARNING ("database unavailable, waiting") and its end once at INFO.
"""

from __future__ import annotations

import asyncio
import time
import weakref

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.logging import get_logger

from .engine import Database

log = get_logger(__name__)

# SQLSTATEs that mean "no connection", not "this statement is wrong": class 08 (connection
# exception), admin/crash shutdown, cannot connect now (starting up), too many connections.
_CONNECTION_CLASS = "08"
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})

FIRST_BACKOFF_S = 0.2
MAX_BACKOFF_S = 3.0
PROBE_TIMEOUT_S = 5.0


def _is_connectivity(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if isinstance(state, str) and (
        state.startswith(_CONNECTION_CLASS) or state in _UNAVAILABLE_SQLSTATES
    ):
        return True
    # Refused, reset, unreachable; a connect that timed out (asyncpg raises the builtin
    # TimeoutError). NATS's request timeout is an OSError too, and is not the database.
    return isinstance(exc, OSError) and not type(exc).__module__.startswith("nats")


def is_connectivity_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) says the database cannot be reached."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_connectivity(current):
            return True
        current = current.__cause__ or current.__context__
    return False


class DatabaseWaiter:
    """Waits until one service's database answers again."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        self._answered_at = 0.0  # time.monotonic() of the last probe that got an answer
        self._away_since: float | None = None

    async def probe(self) -> bool:
        """Does the database answer ``SELECT 1`` now? (A read: no SQLite write lock.)"""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S), self._db.read_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def wait(self, failed_at: float) -> bool:
        """Return once the database answers, after a failure at ``failed_at`` (monotonic).

        Returns whether it was away: False if it answered the first probe (the failure was
        perhaps not an outage after all; the caller decides how often to believe that).
        """
        async with self._lock:
            if self._answered_at > failed_at:
                return True  # another waiter saw it come back after this failure
            delay = FIRST_BACKOFF_S
            while not await self.probe():
                if self._away_since is None:
                    self._away_since = time.monotonic()
                    log.warning("database unavailable, waiting", service=self._db.service)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
            self._answered_at = time.monotonic()
            if self._away_since is None:
                return False
            log.info(
                "database available again",
                service=self._db.service,
                waited_s=round(self._answered_at - self._away_since, 1),
            )
            self._away_since = None
            return True


_WAITERS: weakref.WeakKeyDictionary[Database, DatabaseWaiter] = weakref.WeakKeyDictionary()


def waiter_for(db: Database) -> DatabaseWaiter:
    """The one waiter of ``db`` in this process."""
    waiter = _WAITERS.get(db)
    if waiter is None:
        waiter = _WAITERS[db] = DatabaseWaiter(db)
    return waiter
