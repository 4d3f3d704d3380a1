"""``kenett consent ...`` against a running system: record, read and withdraw (R5-R8)."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, date, datetime

import pytest

from shared.contracts import intake
from tests.conftest import System
from tests.helpers import kenett_cli, national_id, oslo_today, report_need

pytestmark = pytest.mark.nats
WAIT = 15.0


async def run(system: System, *args: str) -> subprocess.CompletedProcess[str]:
    return await kenett_cli(system, "consent", *args, actor="ke-kari", columns=200)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_r5_r7_the_ke_records_reads_and_withdraws_consent_from_the_command_line(
    system: System,
) -> None:
    number = national_id()
    case_id = str(
        intake.ReportNeedResult.model_validate(
            await system.client.command("intake", report_need(national_id=number))
        ).case_id
    )
    done = await run(system, "record", case_id, "coordinator", "--given-by", "person", "--json")
    assert done.returncode == 0, done.stderr
    coordinator = json.loads(done.stdout)["consent_id"]
    done = await run(
        system,
        "record",
        case_id,
        "sharing",
        *("--given-by", "person", "--form", "written", "--to", "hjemmesykepleien"),
        *("--life-area", "bolig", "--content", "measures", "--until", "2030-06-30"),
    )
    assert done.returncode == 0, done.stderr
    assert "Samtykke til deling med tjenester registrert" in done.stdout
    # The consent is announced to the services that wait for it (R5).
    ev = system.events
    recorded = await ev.wait_until(
        lambda: ev.matching("consent.consent_recorded", uuid.UUID(case_id)), WAIT
    )
    assert {e.payload["kind"] for e in recorded} >= {"coordinator"}

    done = await run(system, "list", case_id)
    assert done.returncode == 0, done.stderr
    assert "koordinator" in done.stdout and "gjeldende" in done.stdout
    assert "hjemmesykepleien" in done.stdout and "personen selv" in done.stdout
    # Limited in time "til og med" 30 June (R7): the whole of that day, Norwegian summer time.
    assert "t.o.m. 30.06.2030" in done.stdout, done.stdout
    assert number not in done.stdout + done.stderr

    done = await run(system, "withdraw", coordinator)
    assert done.returncode == 0, done.stderr
    assert "trukket" in done.stdout
    history = json.loads((await run(system, "list", case_id, "--json")).stdout)
    statuses = {v["consent_id"]: v["status"] for v in history["consents"]}
    assert statuses[coordinator] == "withdrawn"
    (sharing,) = [v for v in history["consents"] if v["kind"] == "sharing"]
    assert datetime.fromisoformat(sharing["valid_until"]) == datetime(2030, 6, 30, 22, tzinfo=UTC)
    assert history["consents"][0]["recorded_by"] == "ke-kari"  # the caller, never a name

    # Bad input: clear errors, nothing stored.
    adult_parent = await run(system, "record", case_id, "ip", "--given-by", "parent")
    assert adult_parent.returncode == 1 and "(R6)" in adult_parent.stderr
    no_scope = await run(system, "record", case_id, "sharing", "--given-by", "person")
    assert no_scope.returncode == 1 and "sharing" in no_scope.stderr
    bad_day = await run(
        system, "record", case_id, "ip", "--given-by", "person", "--until", "neste år"
    )
    assert bad_day.returncode == 2 and "--until" in bad_day.stderr
    assert "Traceback" not in adult_parent.stderr + no_scope.stderr + bad_day.stderr
    after = json.loads((await run(system, "list", case_id, "--json")).stdout)
    assert len(after["consents"]) == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_r6_the_ke_records_that_a_child_of_12_or_over_was_heard(system: System) -> None:
    birth = date(oslo_today().year - 13, 1, 1)  # 13 all year: heard (R6), not yet 16
    case_id = str(
        intake.ReportNeedResult.model_validate(
            await system.client.command("intake", report_need(national_id=national_id(birth)))
        ).case_id
    )
    parent = ("--given-by", "parent", "--parental-responsibility", "one")
    done = await run(system, "record", case_id, "ip", *parent)
    assert done.returncode == 1
    assert "child_heard" in done.stderr and "12 år eller eldre" in " ".join(done.stderr.split())
    done = await run(system, "record", case_id, "ip", *parent, "--child-heard", "sometimes")
    assert done.returncode == 2 and "--child-heard" in done.stderr
    done = await run(system, "record", case_id, "ip", *parent, "--child-heard", "heard")
    assert done.returncode == 0, done.stderr
    done = await run(system, "list", case_id)
    assert done.returncode == 0 and "barnet er hørt" in done.stdout
