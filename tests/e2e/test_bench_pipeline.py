"""``kenett bench pipeline`` runs whole cases through the five services and the bare bus, and
reports its figures (whether they meet the targets is read from the figures, not tested here)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.conftest import KENETT

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.nats]


def test_bench_pipeline_takes_every_case_to_its_plan_notice_and_prints_one_json_line() -> None:
    done = subprocess.run(
        [
            KENETT,
            "bench",
            "pipeline",
            "--cases",
            "30",
            "--rate",
            "5",
            "--seconds",
            "2",
            "--concurrency",
            "4",
            "--bare-seconds",
            "1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "pipeline" and figures["database"] == "sqlite"
    assert figures["cases"] == 30 and figures["errors"] == 0
    assert figures["latency_cases"] == 10
    assert figures["cases_per_s"] > 0 and figures["bare_hops_per_s"] > 0
    # Every case: its case, two consents, the appointment, the plan and notices at least.
    assert figures["events_per_case"] >= 6
    assert figures["deliveries_per_case"] >= figures["events_per_case"]
    # Each case's deliveries took transactions (from the services' own count): no more than
    # one a delivery, and each groups at least one event.
    assert 0 < figures["event_transactions_per_case"] <= figures["deliveries_per_case"]
    assert figures["mean_event_group"] >= 1
    assert figures["command_transactions_per_case"] > 0
    assert 0 < figures["outbox_batches_per_case"] <= figures["events_per_case"]
    assert figures["efficiency"] == pytest.approx(
        figures["cases_per_s"] * figures["events_per_case"] / figures["bare_hops_per_s"], abs=0.002
    )
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert figures["notice_p50_ms"] >= figures["p50_ms"] * 0.5
    # The latency phase's own cost: CPU per case at the offered rate, its groups, and the share
    # of one core that rate takes (rate x CPU per case).
    assert figures["latency_cpu_ms_per_case"] > 0 and figures["latency_mean_event_group"] >= 1
    assert figures["latency_load"] == pytest.approx(
        5 * figures["latency_cpu_ms_per_case"] / 1000, abs=0.006
    )
    assert 50 < figures["rss_mb"] < 2000
    assert figures["mode"] == "all-in-one" and figures["processes"] == 1
    # The whole CPU budget of a case: the services' process, nats-server and the clients.
    assert set(figures["cpu_ms_per_case_by_process"]) == {"services", "nats-server", "clients"}
    assert figures["cpu_ms_per_case"] == figures["cpu_ms_per_case_by_process"]["services"] > 0


def test_bench_pipeline_split_runs_each_service_in_a_process_of_its_own() -> None:
    """As when services are scaled separately: five processes, each with its CPU and memory."""
    done = subprocess.run(
        [
            KENETT,
            "bench",
            "pipeline",
            "--split",
            "--cases",
            "20",
            "--rate",
            "5",
            "--seconds",
            "1",
            "--concurrency",
            "4",
            "--bare-seconds",
            "1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["mode"] == "split" and figures["processes"] == 5
    assert figures["cases"] == 20 and figures["errors"] == 0 and figures["latency_cases"] == 5
    services = ["intake", "consent", "assignment", "planning", "notifications"]
    assert sorted(figures["rss_mb_by_process"]) == sorted(services)
    assert figures["rss_mb"] == pytest.approx(sum(figures["rss_mb_by_process"].values()), abs=0.2)
    by_process = figures["cpu_ms_per_case_by_process"]
    assert all(by_process[name] > 0 for name in services)
    assert figures["cpu_ms_per_case"] == pytest.approx(
        sum(by_process[name] for name in services), abs=0.05
    )


def test_bench_pipeline_refuses_nonsense_options_with_the_option_named() -> None:
    done = subprocess.run(
        [KENETT, "bench", "pipeline", "--rate", "0"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "--rate" in done.stderr
