"""KENETT_DURABILITY: what a commit, and a stored message, survives.

``crash`` (the default): SQLite synchronous=NORMAL and nats-server's two-minute sync; nothing
acked is lost when kenett or nats-server crashes (tests/failure). ``power``: every SQLite
commit is synced before it returns, with the wait on a worker thread rather than the event
loop, and the embedded nats-server syncs every write (``sync_interval: always``). A power cut
cannot be made in a test; what is checked is that each part is set as promised and that the
whole flow runs so.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from shared.config import Settings
from shared.contracts import consent, intake
from shared.db import sqlite_inline
from shared.db.engine import Database
from shared.runtime.natsserver import NatsServer, free_port
from tests.conftest import System
from tests.helpers import record_consent, register_coordinator, report_need

WAIT = 15.0


class _Recording(ThreadPoolExecutor):
    """The commit pool, counting what it is given and on which threads it runs."""

    def __init__(self) -> None:
        super().__init__(max_workers=2, thread_name_prefix="kenett-sqlite-commit")
        self.submitted = 0
        self.threads: set[str] = set()
        self.loop_thread = threading.current_thread().name

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1

        def run() -> Any:
            self.threads.add(threading.current_thread().name)
            return fn(*args, **kwargs)

        return super().submit(run)


@pytest.fixture
def commits(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Recording]:
    pool = _Recording()
    monkeypatch.setattr(sqlite_inline, "_COMMITS", pool)
    yield pool
    pool.shutdown(wait=True)


async def _write_and_read(db: Database) -> tuple[int, int]:
    """One committed row; the writer's and a reader's synchronous pragma."""
    await db.prepare([], [])
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS t (a INTEGER PRIMARY KEY, b TEXT)"))
    async with db.engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (b) VALUES ('x')"))
        writer = (await conn.execute(text("PRAGMA synchronous"))).scalar_one()
    async with db.read_engine.connect() as conn:
        reader = (await conn.execute(text("PRAGMA synchronous"))).scalar_one()
    return int(writer), int(reader)


async def test_power_durability_syncs_each_sqlite_commit_on_a_worker_thread(
    tmp_path: Path, commits: _Recording
) -> None:
    db = Database(
        f"sqlite+aiosqlite:///{tmp_path}/{{service}}.db", "svc", sqlite_synchronous="full"
    )
    try:
        writer, reader = await _write_and_read(db)
    finally:
        await db.engine.dispose()
        await db.read_engine.dispose()
    assert (writer, reader) == (2, 1)  # FULL for the writer; a reader writes nothing
    assert commits.submitted >= 2  # the table and the row, each synced off the loop
    assert commits.threads and all(t.startswith("kenett-sqlite-commit") for t in commits.threads)
    assert commits.loop_thread not in commits.threads
    # Committed: another connection, outside kenett, sees the row.
    with sqlite3.connect(tmp_path / "svc.db") as other:
        assert other.execute("SELECT count(*) FROM t").fetchone() == (1,)


class _Held(ThreadPoolExecutor):
    """A commit pool whose commits wait until the test lets them go."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="kenett-sqlite-commit")
        self.release = threading.Event()
        self.submitted = threading.Event()
        self.committed = threading.Event()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def run() -> Any:
            self.submitted.set()
            self.release.wait(30)
            try:
                return fn(*args, **kwargs)
            finally:
                self.committed.set()

        return super().submit(run)


async def test_a_durable_commit_cancelled_while_the_disk_syncs_keeps_its_connection_till_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shutdown cancels sweeps and late handlers: a commit on the worker thread must end
    before its connection goes back (or is closed), and the next writer finds it whole."""
    pool = _Held()
    monkeypatch.setattr(sqlite_inline, "_COMMITS", pool)
    db = Database(
        f"sqlite+aiosqlite:///{tmp_path}/{{service}}.db", "svc", sqlite_synchronous="full"
    )
    pool.release.set()  # the set-up's commits go straight through
    try:
        await db.prepare([], [])
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)"))
        pool.release.clear()
        pool.submitted.clear()
        pool.committed.clear()

        async def write() -> None:
            async with db.engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (b) VALUES ('cancelled')"))

        # The commit is let go only once the cancelled task has either ended (the connection
        # handed back mid-commit: wrong) or is waiting for the commit to end (right).
        waiting, ended = threading.Event(), threading.Event()
        wait_out = sqlite_inline._wait_out

        def waits(done: Any) -> None:
            waiting.set()
            wait_out(done)

        monkeypatch.setattr(sqlite_inline, "_wait_out", waits)

        def let_go() -> None:
            while not (waiting.wait(0.01) or ended.is_set()):
                pass
            pool.release.set()

        task = asyncio.create_task(write())
        task.add_done_callback(lambda _: ended.set())
        await asyncio.get_running_loop().run_in_executor(None, pool.submitted.wait, 30)
        threading.Thread(target=let_go, daemon=True).start()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pool.committed.is_set()  # not handed back before the commit was through
        async with db.engine.begin() as conn:  # the next writer: a whole connection
            await conn.execute(text("INSERT INTO t (b) VALUES ('next')"))
    finally:
        await db.engine.dispose()
        await db.read_engine.dispose()
        pool.shutdown(wait=True)
    with sqlite3.connect(tmp_path / "svc.db") as other:
        assert [b for (b,) in other.execute("SELECT b FROM t ORDER BY a")] == ["cancelled", "next"]


async def test_crash_durability_commits_on_the_loop_as_before(
    tmp_path: Path, commits: _Recording
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/{{service}}.db", "svc")
    try:
        writer, reader = await _write_and_read(db)
    finally:
        await db.engine.dispose()
        await db.read_engine.dispose()
    assert (writer, reader) == (1, 1)  # NORMAL
    assert commits.submitted == 0


def test_an_unknown_durability_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValidationError, match="'crash' or 'power'"):
        Settings(durability="sometimes")
    with pytest.raises(ValueError, match="full, normal"):
        Database("sqlite+aiosqlite:///x/{service}.db", "svc", sqlite_synchronous="always")


@pytest.mark.nats
def test_the_embedded_nats_server_syncs_every_write_when_asked(tmp_path: Path) -> None:
    def sync_always(server_dir: Path, **kw: Any) -> bool:
        port = free_port()
        server = NatsServer(server_dir, extra_args=("-m", str(port)), **kw).start()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/varz", timeout=5) as reply:
                return bool(json.load(reply)["jetstream"]["config"].get("sync_always"))
        finally:
            server.stop()

    assert sync_always(tmp_path / "durable", sync_always=True) is True
    assert sync_always(tmp_path / "default") is False
    with pytest.raises(ValueError, match="sync_interval"):
        NatsServer(tmp_path / "x", config_file=tmp_path / "x.conf", sync_always=True)


@pytest.mark.nats
@pytest.mark.kenett_settings(durability="power")
async def test_the_whole_flow_runs_with_power_durability(
    system: System, commits: _Recording
) -> None:
    await system.client.command("assignment", register_coordinator())
    case = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    for kind in (consent.ConsentKind.COORDINATOR, consent.ConsentKind.IP):
        await system.client.command("consent", record_consent(case.case_id, kind))
    ev = system.events
    await ev.wait_until(
        lambda: ev.matching(
            "notifications.notification_created", case.case_id, kind="plan_created"
        ),
        WAIT,
    )
    (one,) = await system.client.status(wait=10, expect=1)
    if system.settings.resolved_database_url().startswith("sqlite"):
        assert commits.submitted > 0  # the services' commits were synced off the loop
        assert one.durability == "power"  # and kenett status says so
    else:
        assert commits.submitted == 0  # PostgreSQL keeps its own synchronous_commit
        assert one.durability == "postgresql"
