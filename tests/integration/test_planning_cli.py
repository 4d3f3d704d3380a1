"""``kenett planning ...`` against a running system: a coordinator's session, in bokmål."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from shared.clock import OSLO, FixedClock
from tests.conftest import System
from tests.helpers import kenett_cli, oslo_today, plain
from tests.integration.test_consent_flows import case_with_plan
from tests.integration.test_planning_flows import full_content

pytestmark = pytest.mark.nats


async def run(
    system: System, *args: str, staff: str = "koordinator-ola"
) -> subprocess.CompletedProcess[str]:
    return await kenett_cli(system, "planning", *args, actor=staff, columns=200)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_r14_r16_a_coordinator_edits_versions_compares_and_prints_the_plan(
    system: System, tmp_path: Path
) -> None:
    case_id = str(await case_with_plan(system, staff_id="koordinator-ola"))
    plan_file = tmp_path / "plan.json"
    done = await run(system, "export", case_id, "--out", str(plan_file))
    assert done.returncode == 0, done.stderr
    exported = json.loads(plan_file.read_text(encoding="utf-8"))
    assert exported["version"] == 1
    exported["content"] = full_content(oslo_today()).model_dump(mode="json")
    plan_file.write_text(json.dumps(exported), encoding="utf-8")
    done = await run(system, "save", case_id, str(plan_file), "--note", "Første utkast")
    assert done.returncode == 0, done.stderr
    assert "Lagret som versjon 2" in done.stdout

    # A parent cannot choose the tool for an adult (R6): the reason is said once, on its field.
    done = await run(system, "tool", case_id, "meetings", "--chosen-by", "parent")
    assert done.returncode == 1
    shown = " ".join(done.stderr.split())  # in bokmål (shared.runtime.nb), however wrapped
    assert "avvist, ingen tilgang (forbidden): chosen_by: personen er 16 år eller eldre" in shown
    assert shown.count("16 år eller eldre") == 1

    # The same file again: it was made against version 1, so it is refused, not overwritten.
    done = await run(system, "save", case_id, str(plan_file))
    assert done.returncode == 1
    shown = " ".join(done.stderr.split())
    assert "konflikt (conflict)" in shown and "planen er nå på versjon 2" in shown

    # A bad file: an unknown life area is named, nothing is sent.
    exported["content"]["goals"][0]["life_area"] = "hobby"
    plan_file.write_text(json.dumps(exported), encoding="utf-8")
    done = await run(system, "save", case_id, str(plan_file))
    assert done.returncode == 2 and "goals.0.life_area" in done.stderr

    done = await run(system, "status", case_id, "active", "--version", "2")
    assert done.returncode == 0 and "aktiv" in done.stdout
    done = await run(system, "versions", case_id)
    assert "Første utkast" in done.stdout and "tatt i bruk" in done.stdout
    # Another staff member sees the versions, not the notes: free text (R7).
    done = await run(system, "versions", case_id, staff="saksbehandler-kari")
    assert done.returncode == 0, done.stderr
    assert "tatt i bruk" in done.stdout and "Første utkast" not in done.stdout
    assert "vises bare for den som kan lese hele planen" in done.stdout
    done = await run(system, "diff", case_id, "1", "2")
    assert "Lagt til: mål G1" in done.stdout
    done = await run(system, "list", "--status", "active", "--json")
    listing = json.loads(done.stdout.strip().splitlines()[-1])
    assert [p["case_id"] for p in listing["plans"]] == [case_id]
    pdf = tmp_path / "plan.pdf"
    done = await run(system, "pdf", case_id, "--out", str(pdf))
    assert done.returncode == 0, done.stderr
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Tiltak" in text and "Hjemmesykepleie" in text
    done = await run(system, "show", case_id, "--as", "provider:skolen")
    assert done.returncode == 1 and "forbidden" in done.stderr
    assert "Jeg vil" not in done.stderr
    # Someone else reads as the coordinator only by saying so (and the trail records it).
    done = await run(system, "show", case_id, staff="saksbehandler-kari")
    assert done.returncode == 2 and "not this case's coordinator" in done.stderr
    assert "--as" in done.stderr and "Jeg vil" not in done.stdout + done.stderr
    done = await run(system, "show", case_id)  # the coordinator, by their staff id
    assert done.returncode == 0 and "Jeg vil" in done.stdout, done.stderr
    # --as coordinator takes the staff id, and only your own (the whole plan is the
    # coordinator's, R9): claiming another's role is refused before anything is read.
    done = await run(system, "show", case_id, "--as", "coordinator:koordinator-ola")
    assert done.returncode == 0 and "Jeg vil" in done.stdout, done.stderr
    done = await run(
        system, "show", case_id, "--as", "coordinator:koordinator-ola", staff="saksbehandler-kari"
    )
    assert done.returncode == 2 and "er ikke koordinator koordinator-ola" in plain(done.stderr)
    assert "Jeg vil" not in done.stdout


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_r13_the_responsibility_group_meets_from_the_command_line(
    system: System, clock: FixedClock
) -> None:
    """The meetings-with-minutes tool (R13) end to end in the CLI: members, a meeting called and
    cancelled, another held with minutes and a task, the task done, a member leaving."""
    case_id = str(await case_with_plan(system, clock, staff_id="koordinator-ola"))
    done = await run(
        system, "add-member", case_id, "service:hjemmesykepleien", "--role", "sykepleier", "--json"
    )
    assert done.returncode == 0, done.stderr
    member = json.loads(done.stdout)["id"]

    def at(hours: int) -> str:
        return (clock.now() + timedelta(hours=hours)).astimezone(OSLO).strftime("%Y-%m-%dT%H:%M")

    done = await run(system, "meeting", case_id, "--at", at(48), "--place", "Rådhuset", "--json")
    first = json.loads(done.stdout)["id"]
    done = await run(system, "cancel-meeting", case_id, first, "--reason", "Syk")
    assert done.returncode == 0 and "Møtet er avlyst" in done.stdout, done.stderr
    done = await run(system, "meeting", case_id, "--at", at(2), "--place", "Rådhuset", "--json")
    held = json.loads(done.stdout)["id"]
    # Not JSON: a usage error, nothing sent.
    done = await kenett_cli(
        system, "planning", "minutes", case_id, held, actor="koordinator-ola", stdin="Vi møttes."
    )
    assert done.returncode == 2 and "ikke et referat i JSON" in plain(done.stderr)
    clock.advance(timedelta(hours=3))
    minutes = {
        "attended": [member],
        "summary": "Gjennomgang av tiltak.",
        "decisions": ["Søke avlastning"],
        "tasks": [{"member_id": member, "text": "Sende søknad", "deadline": "2030-01-31"}],
    }
    done = await kenett_cli(
        system,
        "planning",
        "minutes",
        case_id,
        held,
        actor="koordinator-ola",
        stdin=json.dumps(minutes),
    )
    assert done.returncode == 0 and "Referatet er lagret" in done.stdout, done.stderr
    done = await run(system, "group", case_id)
    assert done.returncode == 0, done.stderr
    assert "avlyst" in done.stdout and "holdt" in done.stdout and member in done.stdout
    assert "Vedtatt: Søke avlastning" in done.stdout
    group = json.loads((await run(system, "group", case_id, "--json")).stdout)
    (task,) = group["tasks"]
    done = await run(system, "task-done", case_id, task["task_id"])
    assert done.returncode == 0 and "Oppgaven er utført" in done.stdout, done.stderr
    done = await run(system, "end-member", case_id, member)
    assert done.returncode == 0 and "Medlemskapet er avsluttet" in done.stdout, done.stderr
    group = json.loads((await run(system, "group", case_id, "--json")).stdout)
    assert group["tasks"][0]["done_at"] and group["members"][0]["to_date"]
