"""The skeleton's flow through all five services on a real nats-server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import nats
import pytest
from sqlalchemy import func, text
from sqlmodel import select

from services.intake.domain import parse_national_id
from services.intake.store import Person
from shared.client import KenettClient, RequestFailed
from shared.config import Settings
from shared.contracts import assignment, consent, intake, notifications, planning
from shared.db.kernel import AuditRecord
from shared.plugins import select as select_plugins
from shared.runtime.host import ServiceHost
from tests.conftest import System
from tests.helpers import (
    STAFF,
    national_id,
    oslo_today,
    record_consent,
    register_coordinator,
    report_need,
)

pytestmark = pytest.mark.nats
WAIT = 15.0


async def _report(system: System, **kw) -> intake.ReportNeedResult:
    return intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need(**kw))
    )


async def _consents(system: System, case_id: uuid.UUID) -> None:
    for kind in (consent.ConsentKind.COORDINATOR, consent.ConsentKind.IP):
        await system.client.command("consent", record_consent(case_id, kind))


async def test_a_reported_need_becomes_a_plan_and_a_notification(system: System) -> None:
    reg = assignment.RegisterCoordinatorResult.model_validate(
        await system.client.command("assignment", register_coordinator())
    )
    case = await _report(system)
    assert case.case_ref.count("-") == 1 and not case.attached_to_open_case
    await _consents(system, case.case_id)

    ev = system.events
    plan_evt = await ev.wait_until(lambda: ev.matching("planning.plan_created", case.case_id), WAIT)
    notes = await ev.wait_until(
        lambda: ev.matching(
            "notifications.notification_created", case.case_id, kind="plan_created"
        ),
        WAIT,
    )
    assert plan_evt[0].payload["coordinator_id"] == str(reg.coordinator_id)

    plan = planning.PlanView.model_validate(
        await system.client.query("planning", planning.GetPlan(actor=STAFF, case_id=case.case_id))
    )
    assert plan.status == "draft" and plan.coordinator_id == reg.coordinator_id
    inbox = notifications.Inbox.model_validate(
        await system.client.query(
            "notifications", notifications.ListInbox(actor=STAFF, recipient_id=reg.coordinator_id)
        )
    )
    texts = {n.notification_id: n.text for n in inbox.notifications}
    assert str(notes[0].payload["notification_id"]) in {str(k) for k in texts}
    for t in texts.values():  # a case reference, no personal data
        assert case.case_ref in t
    # Correlation: everything downstream traces back to the report of need.
    case_events = [e for e in ev.events if e.case_id == case.case_id]
    assert {e.type for e in case_events} >= {
        "intake.case_opened",
        "consent.consent_recorded",
        "assignment.coordinator_appointed",
        "planning.plan_created",
        "notifications.notification_created",
    }


async def test_commands_are_audited_with_actor_action_case_and_time(system: System) -> None:
    await system.client.command("assignment", register_coordinator())
    case = await _report(system)
    await _consents(system, case.case_id)
    ctx = system.host.contexts["intake"]
    async with ctx.uow() as uow:
        trail = [
            (a.action, a.actor_id, a.outcome, a.at) for a in await uow.audit_trail(case.case_id)
        ]
    assert trail[0][:3] == ("intake.report_need", STAFF.id, "ok")
    assert trail[0][3].tzinfo is not None
    # Consent may have read the case directly when its projection lagged: a read, also audited.
    assert {t[:3] for t in trail[1:]} <= {("intake.get_case", "consent", "ok")}
    async with system.host.contexts["consent"].uow() as uow:
        actions = [a.action for a in await uow.audit_trail(case.case_id)]
    assert actions == ["consent.record", "consent.record"]


async def test_the_audit_log_is_append_only(system: System) -> None:
    await _report(system)
    ctx = system.host.contexts["intake"]
    for sql in ("UPDATE kernel_audit SET actor_id = 'someone-else'", "DELETE FROM kernel_audit"):
        async with ctx.uow() as uow:
            with pytest.raises(Exception, match="append-only"):
                await uow.session.exec(text(sql))
    async with ctx.uow() as uow:
        actors = [r.actor_id for r in await uow.session.exec(select(AuditRecord))]
    assert actors == [STAFF.id]


async def _stored_counts(system: System) -> dict[str, int]:
    ctx = system.host.contexts["intake"]
    counts = {}
    async with ctx.uow() as uow:
        for table in ("intake_person", "intake_case", "intake_report", "kernel_outbox"):
            counts[table] = (await uow.session.exec(text(f"SELECT count(*) FROM {table}"))).one()[0]
    return counts


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"national_id": "12345678901"}, "national_id", "check digits"),
        ({"national_id": "1234"}, "national_id", "11 digits"),
        ({"reporter": {"kind": "neighbour"}}, "reporter.kind", "Input should be"),
        ({"reporter": {"kind": "employee"}}, "reporter.unit", "is required"),
        ({"needs": []}, "needs", "at least 1"),
        ({"form": None}, "form", "is required"),
    ],
)
async def test_invalid_reports_name_the_field_and_store_nothing(
    system: System, change: dict, field: str, reason: str
) -> None:
    good = await _report(system)  # something already stored must stay as it was
    before = await _stored_counts(system)
    body = report_need().model_dump(mode="json")
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    msg = await system.nc.request(
        "kenett.testorg.cmd.intake.report_need",
        __import__("json").dumps(body).encode(),
        timeout=5,
    )
    reply = __import__("json").loads(msg.data)
    assert reply["ok"] is False
    fields = {f["field"]: f["reason"] for f in reply["error"]["fields"]}
    assert field in fields and reason in fields[field], fields
    assert (
        body.get("national_id", "") not in msg.data.decode() or len(body.get("national_id", "")) < 6
    )
    assert await _stored_counts(system) == before
    assert (await _report(system, national_id=national_id())).case_id != good.case_id


async def test_a_second_report_for_a_person_attaches_to_the_open_case(system: System) -> None:
    number = national_id()
    first = await _report(system, national_id=number)
    second = await _report(
        system,
        national_id=number,
        reporter=intake.Reporter(kind=intake.ReporterKind.NEXT_OF_KIN, relation="datter"),
    )
    assert second.attached_to_open_case and second.case_id == first.case_id
    assert second.report_id != first.report_id


async def test_a_retried_command_with_the_same_request_id_has_one_effect(system: System) -> None:
    cmd = report_need(request_id=uuid.uuid4())
    first = await system.client.command("intake", cmd)
    again = await system.client.command("intake", cmd)
    assert first == again
    assert (await _stored_counts(system))["intake_case"] == 1


async def test_consent_for_an_unknown_case_is_refused(system: System) -> None:
    with pytest.raises(RequestFailed) as exc:
        await system.client.command("consent", record_consent(uuid.uuid4(), consent.ConsentKind.IP))
    assert exc.value.error.code == "not_found"
    assert exc.value.error.fields[0].field == "case_id"


async def test_r6_parents_cannot_consent_for_a_person_of_16_or_more(system: System) -> None:
    case = await _report(system)  # synthetic adults
    with pytest.raises(RequestFailed) as exc:
        await system.client.command(
            "consent",
            record_consent(
                case.case_id,
                consent.ConsentKind.IP,
                given_by=consent.GivenBy(role=consent.GiverRole.PARENT),
            ),
        )
    assert exc.value.error.fields[0].field == "given_by.role"
    assert "R6" in exc.value.error.fields[0].reason


async def test_r10_r11_a_full_caseload_makes_the_case_wait_for_the_next_coordinator(
    system: System,
) -> None:
    first = assignment.RegisterCoordinatorResult.model_validate(
        await system.client.command("assignment", register_coordinator(caseload_limit=1))
    )
    ev = system.events
    a = await _report(system)
    await system.client.command(
        "consent", record_consent(a.case_id, consent.ConsentKind.COORDINATOR)
    )
    await ev.wait_until(lambda: ev.matching("assignment.coordinator_appointed", a.case_id), WAIT)
    b = await _report(system)
    await system.client.command(
        "consent", record_consent(b.case_id, consent.ConsentKind.COORDINATOR)
    )
    waiting = await ev.wait_until(
        lambda: ev.matching("assignment.case_awaiting_coordinator", b.case_id), WAIT
    )
    assert "R10" in waiting[0].payload["reason"]
    second = assignment.RegisterCoordinatorResult.model_validate(
        await system.client.command("assignment", register_coordinator())
    )
    assert second.appointed_case_ids == [b.case_id]
    listed = assignment.CoordinatorList.model_validate(
        await system.client.query("assignment", assignment.ListCoordinators(actor=STAFF))
    )
    loads = {c.coordinator_id: (c.caseload, c.caseload_limit) for c in listed.coordinators}
    assert loads == {first.coordinator_id: (1, 1), second.coordinator_id: (1, 5)}


async def test_registering_the_same_staff_member_twice_is_refused(system: System) -> None:
    await system.client.command("assignment", register_coordinator("k-1"))
    with pytest.raises(RequestFailed) as exc:
        await system.client.command("assignment", register_coordinator("k-1"))
    assert exc.value.error.code == "conflict"
    async with system.host.contexts["assignment"].uow() as uow:
        n = (await uow.session.exec(text("SELECT count(*) FROM assignment_coordinator"))).one()[0]
    assert n == 1
    _ = func


async def test_concurrent_reports_for_one_person_open_one_case_across_instances(
    system: System,
) -> None:
    """Two intake instances (a queue group) answer concurrently; still one open case (R2).

    The person is known already but has no open case (as after a closed one): then nothing but
    the per-person lock and the one-open-case index stand between two concurrent reports.
    """
    await _report(system)  # someone else's case: the year's case counter exists
    number = national_id()
    async with system.host.contexts["intake"].uow() as uow:
        uow.session.add(
            Person(
                id=uuid.uuid4(),
                org="testorg",
                national_id=number,
                birth_date=parse_national_id(number, oslo_today()).birth_date,
                created_at=datetime.now(UTC),
            )
        )
        await uow.commit()
    second = ServiceHost(system.settings, select_plugins(["intake"]))
    await second.start()
    try:
        replies = await asyncio.gather(
            *(system.client.command("intake", report_need(national_id=number)) for _ in range(8))
        )
    finally:
        await second.stop()
    results = [intake.ReportNeedResult.model_validate(r) for r in replies]
    assert len({r.case_id for r in results}) == 1
    assert sum(not r.attached_to_open_case for r in results) == 1
    counts = await _stored_counts(system)
    assert (counts["intake_person"], counts["intake_case"], counts["intake_report"]) == (2, 2, 9)


async def test_a_refused_read_is_audited_too(system: System) -> None:
    unknown = uuid.uuid4()
    with pytest.raises(RequestFailed):
        await system.client.query("planning", planning.GetPlan(actor=STAFF, case_id=unknown))
    async with system.host.contexts["planning"].uow() as uow:
        trail = [(a.action, a.outcome) for a in await uow.audit_trail(unknown)]
    assert trail == [("planning.get_plan", "refused:not_found")]


async def test_a_whole_case_runs_its_hot_statements_on_sqlites_driver(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline's hot path stays on the fast path (docs/benchmarks.md "pipeline", changes
    10–17): on SQLite, no ``FastStatement`` met during a whole case (report, the consents that
    gate appointment and plan (R5), the appointment (R9), plan, notice, the outbox relay) falls
    back to SQLAlchemy's execution. A
    change that makes one fall back (a Python-side default, an expanding IN) fails here,
    instead of quietly costing CPU per case."""
    if not system.settings.database_url.startswith("sqlite"):
        pytest.skip("the fast path is SQLite's; on PostgreSQL every statement is SQLAlchemy's")
    from shared.db.fast import FastStatement
    from shared.db.sqlite_inline import SQLiteDialect_inline

    original = FastStatement._for
    used: list[str] = []
    fell_back: list[str] = []

    def watched(self: FastStatement, conn: Any, keys: tuple[str, ...], alone: bool = False) -> Any:
        found = original(self, conn, keys, alone)
        name = " ".join(str(self.statement).split())[:120]
        used.append(name)
        if found is None and isinstance(conn.dialect, SQLiteDialect_inline):
            fell_back.append(name)
        return found

    monkeypatch.setattr(FastStatement, "_for", watched)
    await system.client.command("assignment", register_coordinator())
    case = await _report(system)
    await _consents(system, case.case_id)
    ev = system.events
    await ev.wait_until(
        lambda: ev.matching(
            "notifications.notification_created", case.case_id, kind="plan_created"
        ),
        WAIT,
    )
    assert len(set(used)) >= 20, sorted(set(used))  # the watch saw the hot path
    assert fell_back == []


async def test_a_graceful_stop_finishes_the_events_in_hand_that_ask_this_process(
    nats_server: Any, database_url: str
) -> None:
    """Stopped right after the consents, with the appointment, the plan and the notices in
    flight: the event handlers in hand still get the consent gate's answers from this very
    process, so they are handled and committed, not cancelled at the stop's time limit
    (before, every such stop took its full 15 s and left the work to be done again)."""
    settings = Settings(
        org="testorg",
        nats_url=nats_server.url,
        database_url=database_url,
        auto_appoint=True,
        relay_poll_s=0.5,
        ack_wait_s=5,
        notify_sweep_s=3600,
    )
    host = ServiceHost(settings, select_plugins(None))
    await host.start()
    try:
        nc = await nats.connect(nats_server.url)
        try:
            client = KenettClient(nc, "testorg")
            await client.command("assignment", register_coordinator())
            case = intake.ReportNeedResult.model_validate(
                await client.command("intake", report_need())
            )
            for kind in (consent.ConsentKind.COORDINATOR, consent.ConsentKind.IP):
                await client.command("consent", record_consent(case.case_id, kind))
        finally:
            await nc.close()
    finally:
        await host.stop()
    assert host.cancelled_at_stop == 0
