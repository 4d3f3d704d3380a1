"""Every service's migrations produce exactly its models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData

from shared.db.engine import Database
from shared.db.kernel import kernel_registry
from shared.db.migrate import current_heads
from shared.plugins import discover

SERVICES = sorted(discover())


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_models(database_url: str, service: str) -> None:
    plugin = discover()[service].plugin
    db = Database(database_url, service)
    metadata = [kernel_registry.metadata, plugin.metadata]
    try:
        await db.prepare([plugin.migrations], metadata)
        await db.prepare([plugin.migrations], metadata)  # idempotent: a restart migrates nothing

        def diff(conn) -> list:
            merged = MetaData()
            for md in metadata:
                for table in md.tables.values():
                    table.to_metadata(merged)
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, merged)

        async with db.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
            applied, available = await conn.run_sync(current_heads, [plugin.migrations])
        assert applied == available
        assert len(available) == 2  # the kernel's branch and the service's own
    finally:
        await db.dispose()
