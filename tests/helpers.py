"""Builders of synthetic commands for tests. Every identity number is generated at run time."""

from __future__ import annotations

import asyncio
import os
import random
import re
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.clock import OSLO
from shared.contracts import assignment, consent, intake
from shared.contracts.envelope import Actor
from shared.synthetic import synthetic_national_id

STAFF = Actor(kind="user", id="saksbehandler-1")
RNG = random.Random(20261122)


def clock_start() -> datetime:
    """Where a test's FixedClock starts: now, or the time of day (UTC, today) given as ``HH:MM``
    in ``KENETT_TEST_CLOCK_START``. ``KENETT_TEST_CLOCK_START=23:30`` runs the suite in the hour
    when Norway's date is a day ahead of UTC's, where a date taken in UTC shows up."""
    now = datetime.now(UTC).replace(microsecond=0)
    start = os.environ.get("KENETT_TEST_CLOCK_START")
    if not start:
        return now
    hour, _, minute = start.partition(":")
    return now.replace(hour=int(hour), minute=int(minute or 0), second=0)


def oslo_today() -> date:
    """Today in Norway, as kenett judges dates (``local_today``); not the machine's date, which
    is a day behind between midnight in Oslo and midnight UTC."""
    return datetime.now(OSLO).date()


def national_id(birth: date | None = None, *, d_number: bool = False) -> str:
    return synthetic_national_id(RNG, birth, d_number=d_number)


def report_need(**overrides: Any) -> intake.ReportNeed:
    data: dict[str, Any] = {
        "actor": STAFF,
        "national_id": national_id(),
        "reporter": intake.Reporter(kind=intake.ReporterKind.EMPLOYEE, unit="Hjemmetjenesten"),
        "needs": [intake.Need.IP, intake.Need.COORDINATOR],
        "services": ["hjemmesykepleie", "fysioterapi"],
        "form": "oral",
    }
    data.update(overrides)
    return intake.ReportNeed(**data)


def record_consent(
    case_id: uuid.UUID, kind: consent.ConsentKind, **overrides: Any
) -> consent.RecordConsent:
    data: dict[str, Any] = {
        "actor": STAFF,
        "case_id": case_id,
        "kind": kind,
        "given_by": consent.GivenBy(role=consent.GiverRole.PERSON),
        "form": "written",
        "recorded_by": STAFF.id,
        "given_at": datetime.now(UTC) - timedelta(minutes=5),
    }
    data.update(overrides)
    return consent.RecordConsent(**data)


def register_coordinator(
    staff_id: str | None = None, **overrides: Any
) -> assignment.RegisterCoordinator:
    data: dict[str, Any] = {
        "actor": STAFF,
        "staff_id": staff_id or f"koord-{uuid.uuid4().hex[:6]}",
        "display_name": "Synthetic Koordinator",
        "unit": "Helse og omsorg",
    }
    data.update(overrides)
    return assignment.RegisterCoordinator(**data)


async def read_stream(js: Any, stream: str, subject: str) -> list[Any]:
    """Every message of ``stream`` on ``subject`` from the start (an ordered consumer)."""
    from nats.js.api import DeliverPolicy

    info = await js.stream_info(stream, subjects_filter=subject)
    total = sum((info.state.subjects or {}).values())
    if total == 0:
        return []
    sub = await js.subscribe(
        subject, stream=stream, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    out = []
    try:
        while len(out) < total:
            out.append(await sub.next_msg(timeout=10))
    finally:
        await sub.unsubscribe()
    return out


async def until_settled(js: Any, stream: str, consumer: str, timeout: float = 10.0) -> Any:
    """The consumer's info once nothing is pending or unacknowledged.

    A consumer acks with a plain publish after its commit, and JetStream applies acks on its
    own queue, so a test that has seen the commit may still read the ack as pending: there is
    no event for "the server applied the ack", so its state is read again until it shows it.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        info = await js.consumer_info(stream, consumer)
        if info.num_ack_pending == 0 and info.num_pending == 0:
            return info
        if asyncio.get_running_loop().time() > deadline:
            return info  # the caller's assertion says what is still pending
        await asyncio.sleep(0.02)  # polling the server's state: see above


_GROUNDS = {
    "ip": "Vurdert etter pasient- og brukerrettighetsloven § 2-5.",
    "coordinator": "Vurdert av koordinerende enhet.",
}


async def decide(system: Any, case_id: uuid.UUID, kind: str, granted: bool, *, by: str) -> Any:
    """Assess (again) and decide on IP (R3) or a coordinator (R4); the decision once service
    ``by`` has handled it."""
    await system.client.command(
        "intake",
        intake.AssessEligibility(actor=STAFF, case_id=case_id, expected_duration="year_or_more"),
    )
    decided = await system.client.command(
        "intake",
        intake.MakeDecision(
            actor=STAFF, case_id=case_id, kind=kind, granted=granted, grounds=_GROUNDS[kind]
        ),
    )
    ev = system.events
    found = await ev.wait_until(
        lambda: ev.matching("intake.decision_made", case_id, decision_id=decided["decision_id"]),
        15.0,
    )
    await system.settled(by, found[0])
    return decided


KENETT = os.path.join(os.path.dirname(sys.executable), "kenett")


def plain(shown: str) -> str:
    """What the terminal showed, without the error panel's frame and the line breaks that the
    terminal's width put in (so that an assertion does not depend on where a text wraps)."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", shown).split())


async def kenett_cli(
    system: Any, *args: str, actor: str, stdin: str = "", columns: int | None = None
) -> subprocess.CompletedProcess[str]:
    """``kenett ARGS`` in a process of its own against ``system``, as staff member ``actor``
    (``columns``: the terminal's width, so tables are not wrapped)."""
    env = {
        **os.environ,
        "KENETT_NATS_URL": system.settings.nats_url,
        "KENETT_ORG": "testorg",
        "KENETT_ACTOR": actor,
        **({"COLUMNS": str(columns)} if columns else {}),
    }
    return await asyncio.to_thread(
        subprocess.run,
        [KENETT, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
