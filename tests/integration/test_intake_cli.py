"""``kenett intake ...`` against a running system: the session a KE user would have."""

from __future__ import annotations

import json
import subprocess

import pytest

from shared.contracts import intake
from tests.conftest import System
from tests.helpers import kenett_cli, national_id, plain, report_need

pytestmark = pytest.mark.nats


async def run(system: System, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return await kenett_cli(
        system, "intake", *args, actor="saksbehandler-kari", stdin=stdin, columns=200
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_report_assess_decide_letter_from_the_command_line(system: System) -> None:
    number = national_id()
    done = await run(
        system,
        "report",
        "--reporter",
        "employee",
        "--unit",
        "Hjemmetjenesten",
        "--need",
        "ip",
        "--service",
        "hjemmesykepleie",
        "--service",
        "fysioterapi",
        "--json",
        stdin=number + "\n",
    )
    assert done.returncode == 0, done.stderr
    assert number not in done.stdout + done.stderr
    case_id = json.loads(done.stdout)["case_id"]

    done = await run(system, "assess", case_id, "--duration", "permanent")
    assert done.returncode == 0, done.stderr
    assert "Forslag: oppfyller vilkårene" in done.stdout

    # Grounds come on stdin (or from a file, or $EDITOR), never as an argument.
    done = await run(
        system,
        "decide",
        case_id,
        "--kind",
        "ip",
        "--grant",
        "--json",
        stdin="Vilkårene er oppfylt – «varig behov».",
    )
    decision = json.loads(done.stdout)
    assert decision["appeal_deadline"]

    done = await run(system, "deadlines")
    assert done.returncode == 0, done.stderr
    assert "Klagefrister (1)" in done.stdout and "neste side" not in done.stdout
    done = await run(system, "deadlines", "--json", "--limit", "1")
    page = json.loads(done.stdout)
    assert [w["decision_id"] for w in page["windows"]] == [decision["decision_id"]]
    assert (page["total"], page["next_offset"]) == (1, None)
    done = await run(system, "deadlines", "--limit", "501")  # a clear error, no traceback
    assert done.returncode == 2
    assert "ugyldig verdi: limit:" in plain(done.stderr) and "Traceback" not in plain(done.stderr)

    done = await run(system, "letter", decision["decision_id"])
    assert "Vedtak om individuell plan" in done.stdout
    assert "Vilkårene er oppfylt – «varig behov»." in done.stdout
    assert "Statsforvalteren" in done.stdout

    done = await run(system, "case", case_id)
    assert "vedtak fattet" in done.stdout
    assert number not in done.stdout

    done = await run(system, "activate", case_id)
    done = await run(system, "activate", case_id)
    assert done.returncode == 1
    assert "saken har allerede status aktiv" in " ".join(done.stderr.split())
    done = await run(system, "close", case_id, "--reason", "bored")
    assert done.returncode == 2  # a usage error, not a refusal
    assert "Traceback" not in done.stderr
    done = await run(system, "waiting", "--since", "yesterday")
    assert done.returncode == 2
    assert "ikke en dato" in plain(done.stderr)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_r17_the_case_shows_the_basis_a_hospital_passed_a_report_on(system: System) -> None:
    """A report from a hospital through a case link carries why it could be passed on; one
    the KE took down from the hospital by telephone has no stated basis, and says so."""
    linked = report_need(
        reporter=intake.Reporter(
            kind=intake.ReporterKind.HOSPITAL,
            department="Medisinsk avdeling (Sykehuset Innlandet)",
            basis=intake.DisclosureBasis.NO_OBJECTION,
        )
    )
    case_id = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", linked)
    ).case_id
    done = await run(system, "case", str(case_id))
    assert done.returncode == 0, done.stderr
    assert "grunnlag: informert, har ikke motsatt seg (hpl. § 45)" in done.stdout

    phoned = report_need(
        reporter=intake.Reporter(kind=intake.ReporterKind.HOSPITAL, department="Kirurgisk"),
        form="oral",
    )
    case_id = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", phoned)
    ).case_id
    done = await run(system, "case", str(case_id))
    assert "grunnlag ikke oppgitt" in done.stdout
    assert "fra sykehuset (Kirurgisk), muntlig" in done.stdout  # bokmål, not codes
    assert "behov: individuell plan, koordinator" in done.stdout

    # Taken down by telephone, with the basis the hospital gave.
    done = await run(
        system,
        "report",
        *("--reporter", "hospital", "--department", "Kirurgisk", "--need", "coordinator"),
        *("--basis", "consent", "--json"),
        stdin=national_id() + "\n",
    )
    assert done.returncode == 0, done.stderr
    done = await run(system, "case", json.loads(done.stdout)["case_id"])
    assert "grunnlag: samtykke" in done.stdout
    done = await run(
        system,
        "report",
        *("--reporter", "person", "--need", "ip", "--basis", "consent"),
        stdin=national_id() + "\n",
    )
    assert done.returncode == 1 and "reporter.basis" in done.stderr, done.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_command_line_takes_a_case_number_wherever_it_takes_a_case(
    system: System,
) -> None:
    """KE users know a case by its number (2026-000123, in letters and notices), not its id:
    every command that takes a case takes either; the look-up is audited like any read."""
    result = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    done = await run(system, "case", result.case_ref, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["case_id"] == str(result.case_id)
    done = await kenett_cli(
        system, "consent", "list", result.case_ref, "--json", actor="saksbehandler-kari"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["case_id"] == str(result.case_id)
    done = await kenett_cli(system, "access-log", result.case_ref, actor="ke-leder", columns=200)
    assert done.returncode == 0, done.stderr
    assert "saken funnet ved saksnummeret" in done.stdout  # the look-up is on record

    year = result.case_ref.split("-")[0]
    done = await run(system, "case", f"{year}-999999")
    assert done.returncode == 1
    assert f"ingen sak {year}-999999 i testorg" in " ".join(done.stderr.split())
    done = await run(system, "case", "sak 12")
    assert done.returncode == 2
    assert "verken en saks-id eller et saksnummer (2026-000123)" in plain(done.stderr)
    # A fødselsnummer typed where the case goes is refused without being repeated.
    number = national_id()
    done = await run(system, "case", number)
    assert done.returncode == 2 and "verken en saks-id eller et saksnummer" in plain(done.stderr)
    assert number not in done.stderr + done.stdout
