"""Assignment's consumers run the real handlers on a real SQLite database, with events
in the order separate durable consumers may deliver them (no NATS: the gate's answer is given)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlmodel import select

from services.assignment.handlers.cases import make_on_consent, on_case_opened, on_case_status
from services.assignment.handlers.registry import make_register
from services.assignment.store import AssignmentCase, Episode, registry
from shared.bus.handlers import CommandProcessor
from shared.clock import FixedClock
from shared.config import Settings
from shared.contracts import assignment as a
from shared.contracts import consent, intake
from shared.contracts.envelope import Actor, Envelope, Event
from shared.db.engine import Database
from shared.db.kernel import kernel_registry
from shared.plugins import discover
from shared.service import ServiceContext

KE = Actor(kind="user", id="ke-leder")
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class _NoRelay:
    def wake(self) -> None:
        return None


def _env(event: Event, case_id: uuid.UUID, at: datetime) -> Envelope:
    return Envelope.wrap(event, org="testorg", occurred_at=at, actor=KE, case_id=case_id)


async def test_r10_r18_a_case_closed_before_assignment_knew_it_stays_closed(tmp_path: Path) -> None:
    """Intake opens a case, consent records a coordinator consent, intake closes the case.
    Assignment's case-status consumer happens to handle the close before its case-opened and
    consent-recorded consumers have created the case row. The close is then forgotten and the
    consent starts coordination of a closed case."""
    url = f"sqlite+aiosqlite:///{tmp_path}/{{service}}.db"
    db = Database(url, "assignment")
    await db.prepare(
        [discover()["assignment"].plugin.migrations],
        [kernel_registry.metadata, registry.metadata],
    )
    clock = FixedClock(T0)
    ctx = ServiceContext(
        "assignment",
        Settings(org="testorg", auto_appoint=True),
        db,
        clock,
        cast(Any, None),
        cast(Any, None),
        cast(Any, _NoRelay()),
    )
    try:
        reply = await CommandProcessor(ctx, a.RegisterCoordinator, make_register(ctx)).process(
            a.RegisterCoordinator(actor=KE, staff_id="k1", display_name="K", unit="Helse")
            .model_dump_json()
            .encode()
        )
        assert reply.ok
        case_id, consent_id = uuid.uuid4(), uuid.uuid4()
        opened = intake.CaseOpened(
            case_id=case_id,
            case_ref="2026-000001",
            person_id=uuid.uuid4(),
            birth_date=date(1980, 5, 4),
            needs=[intake.Need.COORDINATOR],
            reporter_kind=intake.ReporterKind.EMPLOYEE,
        )
        recorded = consent.ConsentRecorded(
            consent_id=consent_id,
            case_id=case_id,
            case_ref="2026-000001",
            kind=consent.ConsentKind.COORDINATOR,
            given_by_role=consent.GiverRole.PERSON,
            form="oral",
            given_at=T0,
        )
        closed = intake.CaseStatusChanged(
            case_id=case_id,
            case_ref="2026-000001",
            previous="received",
            status="closed",
            reason="no_longer_needed",
        )
        on_consent, _ = make_on_consent(ctx)
        in_force = consent.GateDecision(allow=True, reason="in force", consent_id=consent_id)

        clock.advance(timedelta(minutes=5))
        async with ctx.uow() as uow:  # the close, first to be handled
            await on_case_status(uow, _env(closed, case_id, T0 + timedelta(minutes=2)), closed)
            await uow.commit()
        async with ctx.uow() as uow:
            await on_case_opened(uow, _env(opened, case_id, T0), opened)
            await uow.commit()
        async with ctx.uow() as uow:  # the gate still says "in force": consent knows no close
            await on_consent(
                uow, _env(recorded, case_id, T0 + timedelta(minutes=1)), recorded, in_force
            )
            await uow.commit()

        async with db.sessions() as s:
            case = (
                await s.exec(select(AssignmentCase).where(AssignmentCase.case_id == case_id))
            ).one()
            episodes = list(await s.exec(select(Episode).where(Episode.case_id == case_id)))
        assert episodes == [], "a coordinator was appointed to a case intake has closed"
        assert case.closed_at is not None
    finally:
        await db.dispose()
