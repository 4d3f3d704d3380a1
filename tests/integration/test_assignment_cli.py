"""``kenett assignment ...`` against a running system: a KE user's session, in bokmål."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import timedelta

import pytest

from shared.contracts import consent, intake
from tests.conftest import System
from tests.helpers import kenett_cli, oslo_today, plain, record_consent, report_need

pytestmark = [pytest.mark.nats, pytest.mark.kenett_settings(auto_appoint=False)]


async def run(system: System, *args: str) -> subprocess.CompletedProcess[str]:
    return await kenett_cli(system, "assignment", *args, actor="ke-leder-kari")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_r9_r18_the_ke_registers_suggests_appoints_hands_over_and_sees_caseloads(
    system: System,
) -> None:
    ids = []
    for staff, limit in (("ola", "1"), ("kari", "5")):
        done = await run(
            system,
            "register",
            "--staff-id",
            staff,
            "--name",
            f"Synthetic {staff}",
            "--unit",
            "Helse og omsorg",
            "--trained-on",
            "2025-02-01",
            "--limit",
            limit,
            "--json",
        )
        assert done.returncode == 0, done.stderr
        ids.append(json.loads(done.stdout)["coordinator_id"])
    case = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    await system.client.command(
        "consent",
        record_consent(
            case.case_id,
            consent.ConsentKind.COORDINATOR,
            given_at=system.host.clock.now() - timedelta(minutes=1),
        ),
    )
    ev = system.events
    await ev.wait_until(
        lambda: ev.matching("assignment.case_awaiting_coordinator", case.case_id), 15
    )

    done = await run(system, "needing")
    assert done.returncode == 0 and case.case_ref in done.stdout
    assert "nytt samtykke" in done.stdout

    done = await run(system, "suggest", str(case.case_id))
    assert done.returncode == 0, done.stderr
    assert "Forslag til koordinator" in done.stdout and "Ledig kapasitet" in done.stdout

    # The registry table shows staff ids; the KE appoints by one (or by coordinator id).
    done = await run(system, "appoint", str(case.case_id), "per")
    assert done.returncode == 2 and "ingen koordinator 'per' i registeret" in plain(done.stderr)
    assert "COORDINATOR" in done.stderr and "Traceback" not in done.stderr
    done = await run(system, "appoint", str(case.case_id), "ola")
    assert done.returncode == 0, done.stderr
    assert "3 oppgaver med frist" in done.stdout

    # Bad input: an overlap that ends before it starts is refused with the field named.
    done = await run(
        system,
        "handover",
        str(case.case_id),
        "--to",
        ids[1],
        "--start",
        "2030-01-10",
        "--until",
        "2030-01-01",
    )
    assert done.returncode == 1
    assert "overlap_end" in done.stderr

    done = await run(
        system,
        "handover",
        str(case.case_id),
        "--to",
        "kari",
        "--until",
        "2030-01-01",
    )
    assert done.returncode == 0, done.stderr
    assert "Overtakelse planlagt" in done.stdout
    # The overlap lasts the whole of its last day (R11; "til og med").
    assert "overlapp t.o.m. 01.01.2030" in " ".join(done.stdout.split()), done.stdout

    done = await run(system, "show-case", str(case.case_id))
    assert done.returncode == 0, done.stderr
    assert "overlater" in done.stdout and "koordinator" in done.stdout

    done = await run(system, "caseload", "--json")
    overview = json.loads(done.stdout)
    loads = {c["staff_id"]: c["caseload"] for c in overview["coordinators"]}
    assert loads == {"ola": 1, "kari": 1}  # ola still works with the case during the overlap
    done = await run(system, "caseload")
    assert "Saksmengde per enhet" in done.stdout and "Helse og omsorg" in done.stdout

    done = await run(system, "coordinators", "--limit", "1")
    assert done.returncode == 0, done.stderr
    assert (
        "Koordinatorer" in done.stdout and "Viser 1–1 av 2; neste side: --offset 1" in done.stdout
    )
    done = await run(system, "coordinators", "--json", "--offset", "1")
    last = json.loads(done.stdout)
    assert (len(last["coordinators"]), last["total"], last["next_offset"]) == (1, 2, None)
    # The duties that follow the appointment, and mapping children done with its facts (R12).
    # From the overlap's start kari is primary (R11): the duties are hers, by her staff id.
    done = await run(system, "duties", "--coordinator", "kari", "--json")
    assert {d["case_id"] for d in json.loads(done.stdout)["duties"]} == {str(case.case_id)}
    done = await run(system, "duties", "--coordinator", "ola", "--json")
    assert json.loads(done.stdout)["duties"] == []
    done = await run(system, "duties", "--case", str(case.case_id), "--json")
    open_duties = {d["kind"]: d["duty_id"] for d in json.loads(done.stdout)["duties"]}
    assert set(open_duties) == {"map_children", "inform_rights", "first_meeting"}
    mapping = open_duties["map_children"]
    done = await run(system, "duty-done", mapping, "--children", "ja")
    assert (
        done.returncode == 2
        and "--siblings" in plain(done.stderr)
        and "mangler" in plain(done.stderr)
    )
    done = await run(system, "duty-done", mapping, "--children", "ja", "--siblings", "nei")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "R12" in done.stderr  # --followed-up is missing where there are children
    done = await run(
        system,
        "duty-done",
        open_duties["map_children"],
        "--children",
        "ja",
        "--siblings",
        "nei",
        "--followed-up",
        "nei",
    )
    assert done.returncode == 0, done.stderr
    done = await run(system, "duties", "--case", str(case.case_id), "--all", "--json")
    found = {d["kind"]: d["children"] for d in json.loads(done.stdout)["duties"]}
    assert found["map_children"] == {
        "minor_children": True,
        "siblings_need_follow_up": False,
        "follow_up_arranged": False,
    }
    done = await run(system, "duties", "--case", str(case.case_id), "--all")
    assert "Oppgaver" in done.stdout and "ivaretatt" in done.stdout.replace("\n", "")
    done = await run(system, "needing", "--limit", "0", "--offset", "-1")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "ugyldig verdi: limit:" in plain(done.stderr) and "ugyldig verdi: offset:" in plain(
        done.stderr
    )

    done = await run(system, "deactivate", str(uuid.uuid4()), "--reason", "slutter")
    assert done.returncode == 1 and "coordinator_id" in done.stderr
    # A mistyped case id: the case is unknown, not "no consent".
    done = await run(system, "appoint", str(uuid.uuid4()), "ola")
    assert done.returncode == 1 and "not_found" in done.stderr and "case_id" in done.stderr
    # Training not yet done is not recorded as done (it would rank them as trained, R9).
    ahead = (oslo_today() + timedelta(days=30)).isoformat()
    done = await run(
        system,
        "register",
        *("--staff-id", "per", "--name", "Synthetic per", "--unit", "Helse og omsorg"),
        *("--trained-on", ahead),
    )
    assert done.returncode == 1, done.stdout
    shown = " ".join(done.stderr.split())
    assert "training_completed_on: er fram i tid" in shown
