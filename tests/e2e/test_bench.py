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


def test_bench_scale_prints_its_figures_as_one_json_line() -> None:
    done = subprocess.run(
        [KENETT, "bench", "scale", "--cases", "2000", "--queries", "20", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "scale" and figures["database"] == "sqlite"
    assert figures["cases"] == sum(figures["by_status"].values()) == 2000
    assert {"intake", "assignment", "planning"} <= set(figures["services"])
    assert 0 < figures["plans_overdue"] < figures["plans"] < figures["cases"]
    assert figures["queries"] == 20
    overview = figures["overview"]
    assert set(overview) == {"case_counts", "cases_by_status", "caseload", "overdue_evaluations"}
    for name, query in overview.items():
        assert 0 < query["p50_ms"] <= query["p95_ms"] <= query["max_ms"], name
    assert overview["case_counts"]["total_max"] == 2000
    assert overview["cases_by_status"]["rows"] > 0 and overview["caseload"]["rows"] > 0
    assert 0 < overview["overdue_evaluations"]["total_max"] <= figures["plans"]
    assert figures["load_s"] > 0 and figures["database_mb"] > 0
    assert 0 < figures["rss_started_mb"] <= figures["rss_mb"]  # the peak, after all queries
    assert isinstance(figures["targets_met"], bool)
