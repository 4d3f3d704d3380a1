"""The benchmarks run and report their figures (speed is judged from the figures, not here)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.conftest import KENETT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_bench_gate_prints_its_figures_as_one_json_line() -> None:
    done = subprocess.run(
        [KENETT, "bench", "gate", "--rate", "100", "--seconds", "1", "--cases", "5", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["queries"] == 100
    assert figures["errors"] == 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert 0.3 < figures["allow_ratio"] < 0.7  # half the questions fall outside the scope


def test_bench_suggestions_prints_its_figures_as_one_json_line() -> None:
    done = subprocess.run(
        [
            KENETT,
            "bench",
            "suggestions",
            "--coordinators",
            "200",
            "--cases",
            "600",
            "--queries",
            "30",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["coordinators"] == 200 and figures["active_cases"] == 600
    assert figures["queries"] == 30
    assert figures["mean_candidates"] >= 10  # ten ranked, plus the wished one where shown
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]


def test_bench_plans_prints_its_figures_as_one_json_line() -> None:
    done = subprocess.run(
        [KENETT, "bench", "plans", "--plans", "500", "--views", "5", "--lists", "5", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "plans" and figures["plans"] == 500
    big = figures["big_plan"]
    assert (big["goals"], big["measures"], big["versions"]) == (50, 300, 100)
    assert 0 < big["p50_ms"] <= big["p95_ms"] <= big["max_ms"]
    for name in ("by_coordinator", "by_status", "overdue", "all"):
        assert 0 < figures["list"][name]["p50_ms"] <= figures["list"][name]["max_ms"]
    assert 0 < figures["list"]["overdue"]["total"] < figures["list"]["all"]["total"]


def test_bench_reminders_prints_its_figures_as_one_json_line() -> None:
    done = subprocess.run(
        [
            KENETT,
            "bench",
            "reminders",
            "--reminders",
            "500",
            "--coordinators",
            "50",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "reminders" and figures["database"] == "sqlite"
    assert figures["reminders"] == figures["notices"] == 500
    assert figures["duplicates"] == 0
    assert figures["events"] == figures["events_in_stream"] == 500  # every event published
    assert figures["second_sweep_notices"] == 0
    assert figures["seconds"] > 0 and figures["events_seconds"] > 0
