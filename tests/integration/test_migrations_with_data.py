"""Migrations upgrade databases that hold data, not only empty ones (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from alembic import command
from sqlalchemy import text

from shared.db.engine import Database
from shared.db.kernel import kernel_registry
from shared.db.migrate import alembic_config
from shared.plugins import discover


async def test_intake_upgrades_from_the_skeleton_schema_with_reports_in_it(
    database_url: str,
) -> None:
    plugin = discover()["intake"].plugin
    db = Database(database_url, "intake")
    try:
        # The schema as the walking skeleton left it (i0002), with a case and two reports.
        if db.schema:
            async with db.engine.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
        async with db.engine.begin() as conn:

            def to_i0002(c):  # type: ignore[no-untyped-def]
                cfg = alembic_config([plugin.migrations], c)
                command.upgrade(cfg, "k0001")
                command.upgrade(cfg, "i0002")

            await conn.run_sync(to_i0002)
            person, case = uuid.uuid4(), uuid.uuid4()
            early = datetime(2026, 1, 5, 9, tzinfo=UTC)
            opened = datetime(2026, 1, 7, 9, tzinfo=UTC)
            await conn.execute(
                text(
                    "INSERT INTO intake_person (id, org, national_id, birth_date, created_at) "
                    "VALUES (:id, 'o', '00000000000', :b, :t)"
                ),
                {"id": _id(db, person), "b": date(1970, 1, 1), "t": _col(db, opened)},
            )
            await conn.execute(
                text(
                    "INSERT INTO intake_case (id, org, ref, person_id, status, needs, opened_at) "
                    "VALUES (:id, 'o', '2026-000001', :p, 'received', 'ip', :t)"
                ),
                {"id": _id(db, case), "p": _id(db, person), "t": _col(db, opened)},
            )
            for when in (opened, early):
                await conn.execute(
                    text(
                        "INSERT INTO intake_report (id, org, case_id, reporter_kind, form, "
                        "services, "
                        "received_at, recorded_by, recorded_at) VALUES (:id, 'o', :c, 'person', "
                        "'oral', '[]', :r, 's', :t)"
                    ),
                    {
                        "id": _id(db, uuid.uuid4()),
                        "c": _id(db, case),
                        "r": _col(db, when),
                        "t": _col(db, opened),
                    },
                )
        await db.prepare([plugin.migrations], [kernel_registry.metadata, plugin.metadata])
        async with db.engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT served_org, received_at FROM intake_case WHERE id = :id"),
                    {"id": _id(db, case)},
                )
            ).one()
            reports = (await conn.execute(text("SELECT count(*) FROM intake_report"))).scalar()
        assert row[0] == "o"
        received = row[1] if isinstance(row[1], datetime) else datetime.fromisoformat(str(row[1]))
        assert received.replace(tzinfo=None) == early.replace(tzinfo=None)  # the first report's
        assert reports == 2
    finally:
        await db.dispose()


def _col(db: Database, value: datetime) -> object:
    # What UTCDateTime stores: naive UTC on SQLite, aware on PostgreSQL.
    return value.replace(tzinfo=None) if db.is_sqlite else value


def _id(db: Database, value: uuid.UUID) -> object:
    # What sa.Uuid stores: 32 hex characters on SQLite, a native uuid on PostgreSQL.
    return value.hex if db.is_sqlite else value


async def test_assignment_upgrades_from_the_skeleton_schema_with_appointments_in_it(
    database_url: str,
) -> None:
    """Skeleton appointments become episodes (R11) and caseloads are counted (R10)."""
    plugin = discover()["assignment"].plugin
    db = Database(database_url, "assignment")
    try:
        if db.schema:
            async with db.engine.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
        async with db.engine.begin() as conn:

            def to_a0001(c):  # type: ignore[no-untyped-def]
                cfg = alembic_config([plugin.migrations], c)
                command.upgrade(cfg, "k0001")
                command.upgrade(cfg, "a0001")

            await conn.run_sync(to_a0001)
            coordinator, running, ended = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            t = datetime(2026, 3, 1, 9, tzinfo=UTC)
            await conn.execute(
                text(
                    "INSERT INTO assignment_coordinator (id, org, staff_id, display_name, unit, "
                    "active, registered_at) VALUES (:id, 'o', 'k1', 'Synthetic', 'Helse', "
                    "true, :t)"
                ),
                {"id": _id(db, coordinator), "t": _col(db, t)},
            )
            for case, end in ((running, None), (ended, t)):
                await conn.execute(
                    text(
                        "INSERT INTO assignment_case (case_id, org, case_ref, "
                        "primary_coordinator_id) VALUES (:c, 'o', '2026-000001', :k)"
                    ),
                    {"c": _id(db, case), "k": _id(db, coordinator) if end is None else None},
                )
                await conn.execute(
                    text(
                        "INSERT INTO assignment_appointment (id, org, case_id, coordinator_id, "
                        "role, started_at, ended_at) VALUES (:id, 'o', :c, :k, 'primary', :s, :e)"
                    ),
                    {
                        "id": _id(db, uuid.uuid4()),
                        "c": _id(db, case),
                        "k": _id(db, coordinator),
                        "s": _col(db, t - timedelta(days=3)),
                        "e": _col(db, end) if end else None,
                    },
                )
        await db.prepare([plugin.migrations], [kernel_registry.metadata, plugin.metadata])
        async with db.engine.connect() as conn:
            caseload = (
                await conn.execute(text("SELECT caseload FROM assignment_coordinator"))
            ).scalar()
            episodes = (
                await conn.execute(
                    text("SELECT case_id, closed_at FROM assignment_episode ORDER BY closed_at")
                )
            ).all()
            linked = (
                await conn.execute(
                    text("SELECT count(*) FROM assignment_case WHERE episode_id IS NOT NULL")
                )
            ).scalar()
            orphans = (
                await conn.execute(
                    text("SELECT count(*) FROM assignment_appointment WHERE episode_id IS NULL")
                )
            ).scalar()
        assert caseload == 1
        assert len(episodes) == 2 and sum(e[1] is None for e in episodes) == 1
        assert linked == 1 and orphans == 0
    finally:
        await db.dispose()


async def test_planning_upgrades_from_the_skeleton_schema_with_plans_in_it(
    database_url: str,
) -> None:
    """A skeleton plan becomes version 1 of a versioned plan (R16), readable like any other."""
    from shared.contracts.planning import PlanContent

    plugin = discover()["planning"].plugin
    db = Database(database_url, "planning")
    try:
        if db.schema:
            async with db.engine.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
        async with db.engine.begin() as conn:

            def to_p0002(c):  # type: ignore[no-untyped-def]
                cfg = alembic_config([plugin.migrations], c)
                command.upgrade(cfg, "k0001")
                command.upgrade(cfg, "p0002")

            await conn.run_sync(to_p0002)
            plan, case = uuid.uuid4(), uuid.uuid4()
            t = datetime(2026, 3, 1, 9, tzinfo=UTC)
            await conn.execute(
                text(
                    "INSERT INTO planning_case (case_id, org, case_ref, ip_consent_id, "
                    "coordinator_id) VALUES (:c, 'o', '2026-000001', :i, :k)"
                ),
                {"c": _id(db, case), "i": _id(db, uuid.uuid4()), "k": _id(db, uuid.uuid4())},
            )
            await conn.execute(
                text(
                    "INSERT INTO planning_plan (id, org, case_id, case_ref, coordinator_id, "
                    "status, frozen_from, version, created_at) VALUES (:id, 'o', :c, "
                    "'2026-000001', :k, 'frozen', 'draft', 1, :t)"
                ),
                {
                    "id": _id(db, plan),
                    "c": _id(db, case),
                    "k": _id(db, uuid.uuid4()),
                    "t": _col(db, t),
                },
            )
        await db.prepare([plugin.migrations], [kernel_registry.metadata, plugin.metadata])
        async with db.engine.connect() as conn:
            version = (
                await conn.execute(
                    text("SELECT version, status, change, content FROM planning_plan_version")
                )
            ).one()
            head = (
                await conn.execute(text("SELECT updated_at, items_numbered FROM planning_plan"))
            ).one()
            tool = (await conn.execute(text("SELECT tool FROM planning_case"))).scalar()
        assert version[0] == 1 and version[1] == "draft" and version[2] == "created"
        assert PlanContent.model_validate_json(version[3]) == PlanContent()
        assert head[0] is not None and head[1] == 0
        assert tool == "ip"
    finally:
        await db.dispose()
