"""``kenett bench handover`` runs small and reports its figures (speed is judged from the
figures, not here): handovers through the hub, and catch-up after the hub was down."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.conftest import KENETT

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.nats, pytest.mark.federation]


def test_bench_handover_prints_its_figures_as_one_json_line() -> None:
    done = subprocess.run(
        [
            KENETT,
            "bench",
            "handover",
            "--handovers",
            "10",
            "--queued",
            "50",
            "--outage-s",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "handover" and figures["database"] == "sqlite"
    assert figures["handovers"] == 10 and figures["queued"] == 50
    for key in (
        "rate",
        "oneway_p50_ms",
        "oneway_p95_ms",
        "oneway_p99_ms",
        "roundtrip_p50_ms",
        "roundtrip_p99_ms",
        "burst_per_s",
        "outage_s",
        "first_after_restart_s",
        "catchup_s",
        "receipts_s",
        "rss_mb",
    ):
        assert figures[key] is not None, key
    assert 0 < figures["oneway_p50_ms"] <= figures["oneway_p99_ms"]
    assert figures["oneway_p50_ms"] < figures["roundtrip_p50_ms"]
    assert figures["arrived_during_outage"] == 0  # queued at home while the hub was down
    assert figures["outage_actual_s"] >= 2
    assert 0 < figures["first_after_restart_s"] <= figures["catchup_s"]
    assert figures["arrived"] == 50
    assert figures["duplicates"] == 0 and figures["stream_duplicates"] == 0
    assert figures["missing"] == 0
    assert figures["receipts_missing"] == 0
    assert figures["dead_lettered"] == 0
    assert figures["rss_mb"] > 0
