"""``kenett notifications ...`` against a running system: the KE's follow-up list, in bokmål."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta

import pytest

from shared.clock import FixedClock
from shared.contracts import consent as c
from shared.contracts import intake
from tests.conftest import System
from tests.helpers import kenett_cli, plain, report_need
from tests.integration.test_consent_flows import consent
from tests.integration.test_notification_flows import clock, handled  # noqa: F401 (fixture)

pytestmark = [pytest.mark.nats, pytest.mark.kenett_settings(auto_appoint=False)]


async def run(system: System, *args: str) -> subprocess.CompletedProcess[str]:
    return await kenett_cli(system, "notifications", *args, actor="ke-leder-kari")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_r11_the_ke_pages_through_unread_important_notices(
    system: System,
    clock: FixedClock,  # noqa: F811
) -> None:
    for _ in range(3):
        report = intake.ReportNeedResult.model_validate(
            await system.client.command("intake", report_need())
        )
        await consent(system, report.case_id, c.ConsentKind.COORDINATOR, clock)
        await handled(system, "assignment.case_awaiting_coordinator", report.case_id)
        clock.advance(timedelta(minutes=5))

    done = await run(system, "unread-important", "--hours", "0", "--limit", "2")
    assert done.returncode == 0, done.stderr
    assert "Viktige varsler som ikke er lest (3)" in done.stdout
    assert "Viser 1–2 av 3; neste side: --offset 2" in done.stdout
    done = await run(system, "unread-important", "--hours", "0", "--offset", "2", "--json")
    last = json.loads(done.stdout)
    assert (len(last["notices"]), last["total"], last["next_offset"]) == (1, 3, None)
    done = await run(system, "unread-important", "--limit", "501")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "ugyldig verdi: limit:" in plain(done.stderr)
