"""`kenett federation up --demo`: a hub, a hospital and two municipalities as separate
processes on loopback, and the four flows a user can follow (R17)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.nats, pytest.mark.slow, pytest.mark.federation]

KENETT = str(Path(sys.executable).parent / "kenett")


def test_federation_up_runs_the_four_flows_and_stops_cleanly(tmp_path: Path) -> None:
    root = tmp_path / "federation"
    done = subprocess.run(
        [KENETT, "federation", "up", "--root", str(root), "--demo", "--exit", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["municipal_case"]
    assert result["coordinator_taken_over_by"] == "koord-lund"
    assert result["shared_measures"] == 1
    assert result["measure_status_at_municipality"] == "done"
    assert result["moved_to_case"]
    assert result["old_case_closed_reason"] == "moved"
    for step in ("1) sykehuset melder behov", "2) lund", "3) lunds plan", "4) personen flytter"):
        assert step in done.stderr
    assert "kenett federation stopped." in done.stderr
    # Every organisation's NATS URL is printed whole (to be copied), not cut at 80 columns.
    for line in ("  hub: nats://127.0.0.1:", "  lund (Lund kommune, kommune): nats://127.0.0.1:"):
        assert re.search(re.escape(line) + r"\d+\n", done.stderr), done.stderr[:2000]
    # Every server and service process is gone: their ports are free again.
    assert "federation up failed" not in done.stderr
    # Nothing personal in the logs of any organisation (the demo's identity number is random,
    # so look for any 11-digit run in what the processes wrote).
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    logs = list(root.glob("*/kenett.log"))
    assert len(logs) == 3
    for log in logs:
        # A normal run logs no error (FastStream's idle pull fetches once did, every few s).
        levels = {json.loads(line)["level"] for line in log.read_text().splitlines() if line}
        assert "error" not in levels and "critical" not in levels, log
        text = uuid.sub("", log.read_text())
        assert not re.search(r"(?<![0-9A-Za-z])\d{11}(?![0-9A-Za-z])", text), log
