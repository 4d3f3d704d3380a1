"""``kenett up``: its own nats-server on its own port, refuses a taken port, and never leaves a
nats-server behind (Ctrl-C, SIGTERM, even SIGKILL of kenett itself)."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from shared.runtime.natsserver import free_port, port_is_free
from shared.runtime.process import await_output, drain_to
from tests.e2e.conftest import KENETT

pytestmark = [pytest.mark.e2e, pytest.mark.nats, pytest.mark.slow]


def nats_children(var: Path) -> list[int]:
    """Pids of nats-server processes whose store is under ``var``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"nats-server") and str(var).encode() in b" ".join(cmd):
            pids.append(int(entry.name))
    return pids


def await_exit(pid: int, timeout: float) -> None:
    """Wait for a process that is not our child to end: a pidfd becomes readable when it does."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, f"process {pid} still running after {timeout}s"
    finally:
        os.close(fd)


def start_up(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KENETT_LOG_FORMAT": "json"}
    proc = subprocess.Popen(
        [KENETT, "up", "--nats-port", str(port), "--var-dir", str(tmp_path / "var")],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    seen = await_output(proc, proc.stderr, b"services started", 60)
    drain_to(proc.stderr, tmp_path / "up.log", seen)
    return proc


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_up_serves_the_demo_and_stops_everything_on_a_signal(tmp_path: Path, sig) -> None:
    port = free_port()
    proc = start_up(tmp_path, port)
    try:
        var = tmp_path / "var"
        servers = nats_children(var)
        assert len(servers) == 1
        done = subprocess.run(
            [KENETT, "demo", "--json", "--nats", f"nats://127.0.0.1:{port}"],
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr.decode()
        assert json.loads(done.stdout.splitlines()[-1])["plan_id"]
        assert {p.name for p in var.glob("*.db")} == {
            "intake.db",
            "consent.db",
            "assignment.db",
            "planning.db",
            "notifications.db",
            "federation.db",
        }
        proc.send_signal(sig)
        assert proc.wait(30) == 0
        await_exit(servers[0], 10)
        assert nats_children(var) == []
        assert port_is_free("127.0.0.1", port)
    finally:
        if proc.poll() is None:  # a failed check must not leave kenett running
            proc.kill()
            proc.wait()


def test_up_refuses_a_port_that_is_taken_with_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [KENETT, "up", "--nats-port", str(port), "--var-dir", str(tmp_path / "var")],
            capture_output=True,
            timeout=60,
            text=True,
        )
    assert done.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in " ".join(done.stderr.split())
    assert nats_children(tmp_path / "var") == []


def test_a_killed_kenett_takes_its_nats_server_with_it(tmp_path: Path) -> None:
    proc = start_up(tmp_path, free_port())
    (server,) = nats_children(tmp_path / "var")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    await_exit(server, 10)  # the kernel's parent-death signal stops the child
    assert nats_children(tmp_path / "var") == []


def test_run_stops_on_sigterm_while_still_waiting_for_nats(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "KENETT_NATS_URL": f"nats://127.0.0.1:{free_port()}",
        "KENETT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/{{service}}.db",
    }
    proc = subprocess.Popen(
        [KENETT, "run", "intake"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    await_output(proc, proc.stderr, b"NATS connection error", 60)  # it is retrying
    drain_to(proc.stderr, tmp_path / "run.log")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
