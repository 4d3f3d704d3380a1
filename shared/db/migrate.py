"""Alembic, run programmatically: the kernel's branch and the service's branch, to all heads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

ALEMBIC_DIR = Path(__file__).parent / "alembic"
KERNEL_VERSIONS = ALEMBIC_DIR / "versions"


def alembic_config(version_dirs: list[Path], connection: Connection | None = None) -> Config:
    """A Config without an ini file; ``connection`` is handed to env.py."""
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("path_separator", "os")
    dirs = [KERNEL_VERSIONS, *version_dirs]
    cfg.set_main_option("version_locations", os.pathsep.join(str(d) for d in dirs))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, version_dirs: list[Path], metadata: list[Any]) -> None:
    """Upgrade this connection's database to every head."""
    cfg = alembic_config(version_dirs, connection)
    cfg.attributes["target_metadata"] = metadata
    command.upgrade(cfg, "heads")


def current_heads(connection: Connection, version_dirs: list[Path]) -> tuple[set[str], set[str]]:
    """(revisions applied, revisions available): equal when the database is up to date."""
    script = ScriptDirectory.from_config(alembic_config(version_dirs))
    ctx = MigrationContext.configure(connection)
    return set(ctx.get_current_heads()), set(script.get_heads())


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render kenett's column types so generated migrations import nothing private."""
    from sqlmodel.sql.sqltypes import AutoString

    from .types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("from shared.db.types import UTCDateTime")
        return "UTCDateTime()"
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def autogenerate(
    connection: Connection,
    version_dir: Path,
    metadata: list[Any],
    *,
    message: str,
    rev_id: str,
    branch_label: str | None,
) -> None:
    """Write a new migration for one service's branch from the difference to its models."""
    cfg = alembic_config([version_dir], connection)
    cfg.attributes["target_metadata"] = metadata
    command.upgrade(cfg, "heads")
    script = ScriptDirectory.from_config(cfg)
    service_heads = [
        h for h in script.get_heads() if Path(script.get_revision(h).path).parent == version_dir
    ]
    command.revision(
        cfg,
        message=message,
        autogenerate=True,
        head=service_heads[0] if service_heads else "base",
        branch_label=branch_label if not service_heads else None,
        version_path=str(version_dir),
        rev_id=rev_id,
    )
