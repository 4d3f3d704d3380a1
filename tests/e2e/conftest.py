"""Services as separate OS processes (``kenett run``), as in distributed mode."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.runtime.process import await_output, drain_to

KENETT = str(Path(sys.executable).parent / "kenett")


class ServiceProcess:
    """``kenett run SERVICES`` in a child process; ready when it logs that services started."""

    def __init__(self, services: list[str], env: dict[str, str], log: Path) -> None:
        self.services = services
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> ServiceProcess:
        self.proc = subprocess.Popen(
            [KENETT, "run", *self.services],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.proc.stdout is not None
        seen = await_output(self.proc, self.proc.stdout, b"services started", timeout)
        drain_to(self.proc.stdout, self.log, seen)
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up, no flush, exactly like a crash."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@pytest.fixture
def e2e_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """PostgreSQL (one schema per service) when available, else one SQLite file per service."""
    try:
        return str(request.getfixturevalue("postgres_url"))
    except pytest.skip.Exception:
        return f"sqlite+aiosqlite:///{tmp_path}/db/{{service}}.db"


@pytest.fixture
def spawn(tmp_path: Path, e2e_database_url: str) -> Iterator[object]:
    procs: list[ServiceProcess] = []

    def start(services: list[str], nats_url: str, org: str = "e2e") -> ServiceProcess:
        env = {
            **os.environ,
            "KENETT_NATS_URL": nats_url,
            "KENETT_DATABASE_URL": e2e_database_url,
            "KENETT_ORG": org,
            "KENETT_LOG_FORMAT": "json",
            "KENETT_ACK_WAIT_S": "5",
            "KENETT_RELAY_POLL_S": "0.5",
            "KENETT_AUTO_APPOINT": "1",
        }
        log = tmp_path / f"{'-'.join(services)}.log"
        p = ServiceProcess(services, env, log).start()
        procs.append(p)
        return p

    try:
        yield start
    finally:
        for p in procs:
            p.stop()
