"""The KE's overview queries on a real nats-server, SQLite and PostgreSQL: cases by status
(counts, and a page at a time, audited), and caseloads a page of coordinators at a time."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from shared.client import RequestFailed
from shared.contracts import assignment as a
from shared.contracts import intake
from shared.db.kernel import AuditRecord
from tests.conftest import System
from tests.helpers import STAFF, register_coordinator, report_need

pytestmark = pytest.mark.nats
KENETT = str(Path(sys.executable).parent / "kenett")


async def _case(system: System, received_at: datetime) -> uuid.UUID:
    result = await system.client.command("intake", report_need(received_at=received_at))
    return uuid.UUID(result["case_id"])


async def _five_cases(system: System) -> list[uuid.UUID]:
    """Two received, one under assessment, one decided, one closed; oldest report first."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    ids = [await _case(system, start + timedelta(days=n)) for n in range(5)]
    for case_id in ids[2:4]:
        await system.client.command(
            "intake",
            intake.AssessEligibility(
                actor=STAFF, case_id=case_id, expected_duration="year_or_more"
            ),
        )
    await system.client.command(
        "intake",
        intake.MakeDecision(
            actor=STAFF, case_id=ids[3], kind="ip", granted=True, grounds="Vilkårene er oppfylt."
        ),
    )
    await system.client.command(
        "intake", intake.CloseCase(actor=STAFF, case_id=ids[4], reason="moved")
    )
    return ids


async def _audited(system: System, action: str) -> list[str]:
    """Who the audit log says did ``action``, in order."""
    async with system.host.contexts["intake"].uow() as uow:
        return list(
            await uow.session.exec(select(AuditRecord.actor_id).where(AuditRecord.action == action))
        )


async def test_r18_the_ke_sees_how_many_cases_are_in_each_status(system: System) -> None:
    await _five_cases(system)
    counts = intake.CaseCounts.model_validate(
        await system.client.query("intake", intake.CountCases(actor=STAFF))
    )
    assert counts.total == 5
    assert [(s.status, s.cases) for s in counts.by_status] == [
        ("received", 2),
        ("under_assessment", 1),
        ("decided", 1),
        ("active", 0),
        ("closed", 1),
    ]
    assert await _audited(system, "intake.case_counts") == []  # counts show no one


async def test_r18_the_cases_of_a_status_come_a_page_at_a_time_longest_waiting_first(
    system: System,
) -> None:
    ids = await _five_cases(system)
    query = intake.ListCases(actor=STAFF, status=["received"], limit=1)
    first = intake.CaseListing.model_validate(await system.client.query("intake", query))
    assert first.total == 2 and [c.case_id for c in first.cases] == [ids[0]]
    assert first.cases[0].status == "received" and first.cases[0].needs == [
        intake.Need.IP,
        intake.Need.COORDINATOR,
    ]
    assert first.next is not None
    second = intake.CaseListing.model_validate(
        await system.client.query("intake", query.model_copy(update={"after": first.next}))
    )
    assert [c.case_id for c in second.cases] == [ids[1]] and second.next is None

    several = intake.CaseListing.model_validate(
        await system.client.query(
            "intake", intake.ListCases(actor=STAFF, status=["decided", "closed"])
        )
    )
    assert several.total == 2 and [c.case_id for c in several.cases] == [ids[3], ids[4]]
    everything = intake.CaseListing.model_validate(
        await system.client.query("intake", intake.ListCases(actor=STAFF))
    )
    assert [c.case_id for c in everything.cases] == ids and everything.next is None

    # A list of cases is personal data: each read is audited, with who asked.
    trail = await _audited(system, "intake.cases")
    assert trail == [STAFF.id] * 4


async def test_a_cursor_that_is_not_one_the_list_gave_is_refused(system: System) -> None:
    with pytest.raises(RequestFailed) as refused:
        await system.client.query(
            "intake", intake.ListCases(actor=STAFF, after="yesterday|not-a-case")
        )
    assert refused.value.error.code == "validation_failed"
    assert refused.value.error.fields[0].field == "after"


async def test_r10_caseloads_come_a_page_of_coordinators_at_a_time_with_every_units_totals(
    system: System,
) -> None:
    for n, unit in enumerate(["Helse og omsorg", "Helse og omsorg", "NAV"]):
        await system.client.command(
            "assignment", register_coordinator(f"k{n}", unit=unit, caseload_limit=3)
        )
    page = a.Caseload.model_validate(
        await system.client.query("assignment", a.CaseloadOverview(actor=STAFF, limit=2))
    )
    assert page.total == 3 and len(page.coordinators) == 2 and page.next_offset == 2
    assert [(u.unit, u.coordinators, u.capacity) for u in page.units] == [
        ("Helse og omsorg", 2, 6),
        ("NAV", 1, 3),
    ]
    rest = a.Caseload.model_validate(
        await system.client.query(
            "assignment", a.CaseloadOverview(actor=STAFF, limit=2, offset=page.next_offset)
        )
    )
    assert [c.staff_id for c in rest.coordinators] == ["k2"] and rest.next_offset is None
    assert [c.staff_id for c in page.coordinators] == ["k0", "k1"]  # by unit, then staff id
    one_unit = a.Caseload.model_validate(
        await system.client.query("assignment", a.CaseloadOverview(actor=STAFF, unit="NAV"))
    )
    assert one_unit.total == 1 and [u.unit for u in one_unit.units] == ["NAV"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_overview_from_the_command_line(system: System) -> None:
    await _five_cases(system)
    env = {
        **os.environ,
        "KENETT_NATS_URL": system.settings.nats_url,
        "KENETT_ORG": "testorg",
        "KENETT_ACTOR": "saksbehandler-kari",
    }

    async def run(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [KENETT, "intake", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    done = await run("overview")
    assert done.returncode == 0, done.stderr
    assert "mottatt" in done.stdout and "i alt" in done.stdout
    done = await run("cases", "--status", "received", "--limit", "1", "--json")
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    assert listing["total"] == 2 and len(listing["cases"]) == 1 and listing["next"]
    done = await run("cases", "--status", "received", "--after", listing["next"])
    assert done.returncode == 0, done.stderr
    assert "Neste side" not in done.stdout
