"""The access log of a case: who read or changed a person's data, from every service's audit
trail (domain.md, "Identifiers and data": the person can see who accessed their data)."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from datetime import datetime, timedelta

import pytest

from shared.client import RequestFailed
from shared.clock import OSLO
from shared.contracts import consent, intake, planning
from shared.contracts.audit import AccessLog, GetAccessLog, GetAuditTrail
from shared.contracts.envelope import Actor
from tests.conftest import System
from tests.helpers import (
    STAFF,
    kenett_cli,
    national_id,
    plain,
    record_consent,
    register_coordinator,
    report_need,
)

pytestmark = pytest.mark.nats
WAIT = 15.0
DOCTOR = Actor(kind="user", id="lege-ola")


async def _case_with_plan(system: System, number: str) -> uuid.UUID:
    await system.client.command("assignment", register_coordinator())
    case = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need(national_id=number))
    )
    for kind in (consent.ConsentKind.COORDINATOR, consent.ConsentKind.IP):
        await system.client.command("consent", record_consent(case.case_id, kind))
    ev = system.events
    await ev.wait_until(lambda: ev.matching("planning.plan_created", case.case_id), WAIT)
    return case.case_id


async def test_the_person_can_see_who_read_or_changed_their_case(system: System) -> None:
    number = national_id()
    case_id = await _case_with_plan(system, number)
    await system.client.query("intake", intake.GetCaseDetail(actor=DOCTOR, case_id=case_id))
    head = planning.PlanView.model_validate(
        await system.client.query("planning", planning.GetPlan(actor=STAFF, case_id=case_id))
    )
    as_coordinator = consent.GateActor(kind="coordinator", id=str(head.coordinator_id))
    await system.client.query(
        "planning", planning.ViewPlan(actor=DOCTOR, case_id=case_id, who=as_coordinator)
    )
    as_person = consent.GateActor(kind="person", id="self")
    await system.client.query(
        "planning", planning.ViewPlan(actor=DOCTOR, case_id=case_id, who=as_person)
    )

    log = await system.client.access_log(STAFF, case_id)
    assert log.unanswered == []
    seen = {(e.service, e.action, e.access, e.actor_id, e.outcome) for e in log.entries}
    assert {
        ("intake", "intake.report_need", "change", STAFF.id, "ok"),
        ("consent", "consent.record", "change", STAFF.id, "ok"),
        ("intake", "intake.case", "read", DOCTOR.id, "ok"),
        ("planning", "planning.get_plan", "read", STAFF.id, "ok"),
    } <= seen
    # A plan read says the role it was read in: the role decides what the reader sees (R7).
    views = [(e.actor_id, e.role) for e in log.entries if e.action == "planning.view_plan"]
    assert views == [
        (DOCTOR.id, f"as coordinator {head.coordinator_id}"),
        (DOCTOR.id, "as person"),  # the role alone: "self" or a relative's label is not kept
    ]
    # What the services did on their own is there too, by the service's name (R9: appointed).
    assert any(e.service == "assignment" and e.actor_kind == "service" for e in log.entries)
    assert [e.at for e in log.entries] == sorted(e.at for e in log.entries)
    assert {e.org for e in log.entries} == {"testorg"}
    assert number not in log.model_dump_json()  # staff ids and actions, no identity number

    # Reading the log is an access too, and is logged in every service that was asked (the
    # first read shows in the second).
    again = await system.client.access_log(DOCTOR, case_id)
    reads = {(e.service, e.action) for e in again.entries if e.access == "read"}
    assert not any(e.action.endswith(".access_log") for e in log.entries)
    assert {(s, f"{s}.access_log") for s in ("intake", "consent", "planning")} <= reads
    assert len(again.entries) >= len(log.entries) + 6

    # A period, and one service's log a page at a time.
    later = max(e.at for e in again.entries) + timedelta(seconds=1)
    assert (await system.client.access_log(STAFF, case_id, since=later)).entries == []
    page = AccessLog.model_validate(
        await system.client.query(
            "intake", GetAccessLog(actor=STAFF, case_id=case_id, limit=1, offset=0)
        )
    )
    assert len(page.entries) == 1 and page.next_offset == 1 and page.total >= 3
    assert page.entries[0].action == "intake.report_need"  # oldest first


async def test_a_refused_attempt_and_a_silent_service_are_shown(system: System) -> None:
    unknown = uuid.uuid4()
    with pytest.raises(RequestFailed):
        await system.client.query("planning", planning.GetPlan(actor=DOCTOR, case_id=unknown))
    log = await system.client.access_log(STAFF, unknown, services=("planning", "archive"))
    assert [(e.action, e.access, e.actor_id, e.outcome) for e in log.entries] == [
        ("planning.get_plan", "read", DOCTOR.id, "refused:not_found")
    ]
    assert log.unanswered == ["archive"]  # said, not left out in silence
    with pytest.raises(RequestFailed) as refused:
        await system.client.query(
            "intake", GetAccessLog.model_construct(actor=STAFF, case_id=unknown, limit=5000)
        )
    assert refused.value.error.code == "validation_failed"


async def _cli(system: System, *args: str) -> subprocess.CompletedProcess[str]:
    # A wide terminal: rows whole, not wrapped.
    return await kenett_cli(system, "access-log", *args, actor="ke-leder-kari", columns=160)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_ke_prints_a_cases_access_log_from_the_command_line(system: System) -> None:
    number = national_id()
    case_id = await _case_with_plan(system, number)
    as_person = consent.GateActor(kind="person", id="self")
    await system.client.query(
        "planning", planning.ViewPlan(actor=DOCTOR, case_id=case_id, who=as_person)
    )
    done = await _cli(system, str(case_id))
    assert done.returncode == 0, done.stderr
    # The action in bokmål, with the role it was made in.
    assert "planen (som personen selv)" in done.stdout
    assert "planning.view_plan" not in done.stdout
    assert "Hvem har lest eller endret saken" in done.stdout
    assert "ansatt" in done.stdout and "endret" in done.stdout and "tillatt" in done.stdout
    assert number not in done.stdout + done.stderr
    done = await _cli(system, str(case_id), "--json")
    printed = json.loads(done.stdout)
    assert printed["unanswered"] == []
    # The first run's reads, one per service, are there; read with the table they are one row.
    assert sum(e["action"].endswith(".access_log") for e in printed["entries"]) == 6
    done = await _cli(system, str(case_id))
    assert done.stdout.count("tilgangslogg for saken (6 tjenester)") == 2, done.stdout
    # The title counts the rows shown.
    shown = len(re.findall(r"^│ \d\d\.\d\d\.\d{4}", done.stdout, re.MULTILINE))
    assert f"testorg, {shown} oppføringer)" in done.stdout, done.stdout
    # The CLI's own read of the log is attributed to the user who ran it.
    log = await system.client.access_log(STAFF, case_id, services=("assignment",))
    assert ("assignment.access_log", "ke-leder-kari") in {
        (e.action, e.actor_id) for e in log.entries
    }
    done = await _cli(system, "not-a-case")
    assert done.returncode == 2 and "verken en saks-id eller et saksnummer" in plain(done.stderr)
    assert "Traceback" not in done.stderr
    done = await _cli(system, str(case_id), "--since", "i går")
    assert done.returncode == 2 and "ikke en dato" in plain(done.stderr)


SNOOP = Actor(kind="user", id="ansatt-per")
SERVICES = {"intake", "consent", "assignment", "planning", "notifications", "federation"}


async def _snooped(system: System) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """Two cases; a staff member reads both and tries a case that does not exist."""
    first = await _case_with_plan(system, national_id())
    second = await _case_with_plan(system, national_id())
    for case_id in (first, second):
        await system.client.query("intake", intake.GetCaseDetail(actor=SNOOP, case_id=case_id))
    unknown = uuid.uuid4()
    with pytest.raises(RequestFailed):
        await system.client.query("planning", planning.GetPlan(actor=SNOOP, case_id=unknown))
    return first, second, unknown


async def test_the_organisation_reviews_who_accessed_which_cases_over_a_period(
    system: System,
) -> None:
    """Regular review of access (helsepersonelloven § 21 a): every service's records of a
    period across cases, per staff id, with what was refused; for one staff id, all of it."""
    first, second, unknown = await _snooped(system)
    log = await system.client.access_log(STAFF, first)
    since = min(e.at for e in log.entries) - timedelta(seconds=1)

    review = await system.client.audit_trail(STAFF, since)
    assert review.unanswered == []
    mine = [e for e in review.entries if e.actor_id == SNOOP.id]
    assert [(e.case_id, e.action, e.outcome) for e in mine] == [
        (first, "intake.case", "ok"),
        (second, "intake.case", "ok"),
        (unknown, "planning.get_plan", "refused:not_found"),  # an attempt names what it tried
    ]
    assert {e.case_id for e in review.entries} >= {first, second}
    assert [e.at for e in review.entries] == sorted(e.at for e in review.entries)

    # One staff id; the refused only; a period that ends before anything happened.
    theirs = await system.client.audit_trail(STAFF, since, actor_id=SNOOP.id)
    assert [e.action for e in theirs.entries] == [e.action for e in mine]
    refused = await system.client.audit_trail(STAFF, since, refused_only=True)
    assert [(e.actor_id, e.outcome) for e in refused.entries] == [(SNOOP.id, "refused:not_found")]
    before = await system.client.audit_trail(STAFF, since - timedelta(hours=1), until=since)
    assert before.entries == []
    # Reading the review is an access too, logged in every service (without a case).
    again = await system.client.audit_trail(DOCTOR, since, actor_id=STAFF.id)
    read = [e for e in again.entries if e.action.endswith(".audit_trail")]
    assert {e.service for e in read} == SERVICES and {e.case_id for e in read} == {None}
    assert {e.access for e in read} == {"read"}
    with pytest.raises(ValueError, match="until must be after since"):
        GetAuditTrail(actor=STAFF, since=since, until=since)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_review_prints_per_staff_id_from_the_command_line(system: System) -> None:
    _first, _second, unknown = await _snooped(system)

    async def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return await kenett_cli(system, "audit-trail", *args, actor="ke-leder-kari", columns=160)

    # From yesterday, so that a run across midnight still sees everything.
    since = (datetime.now(OSLO).date() - timedelta(days=1)).isoformat()
    done = await cli("--since", since)
    assert done.returncode == 0, done.stderr
    assert "Tilgangskontroll" in done.stdout
    row = next(line for line in done.stdout.splitlines() if SNOOP.id in line)
    # Cases 2, read 2, changed 0, disclosed 0, refused 1.
    assert [c.strip() for c in row.split("│")[2:7]] == ["2", "2", "0", "0", "1"], row
    assert "handlinger av tjenestene selv er ikke med" in done.stdout
    done = await cli("--since", since, "--who", SNOOP.id)
    assert done.stdout.count("│ saken ") == 2 and "avvist (not_found)" in done.stdout
    assert "status for planen" in done.stdout  # the refused planning.get_plan
    assert str(unknown) in done.stdout  # the whole case id: UUIDv7s begin alike
    done = await cli("--since", since, "--refused", "--json")
    printed = json.loads(done.stdout)
    assert [e["actor_id"] for e in printed["entries"]] == [SNOOP.id]
    done = await cli("--since", since, "--until", "2020-01-01")
    assert done.returncode == 2 and "før --since" in plain(done.stderr)
    future = (datetime.now(OSLO).date() + timedelta(days=2)).isoformat()
    done = await cli("--since", future)
    assert done.returncode == 2 and "er fram i tid" in plain(done.stderr)
    done = await cli("--since", "forrige uke")
    assert done.returncode == 2 and "ikke en dato" in plain(done.stderr)
    assert "Traceback" not in done.stderr
