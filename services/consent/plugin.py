"""Consent registers itself as a kenett service plugin."""

from pathlib import Path

from shared.plugins import ServicePlugin
from shared.service import stop_tasks

from .cli import app as cli
from .handlers import build_router, start_sweeper
from .store import registry

plugin = ServicePlugin(
    name="consent",
    description="Consents to IP and coordinator, who may give them (R5-R7)",
    build_router=build_router,
    migrations=Path(__file__).parent / "migrations" / "versions",
    metadata=registry.metadata,
    on_start=start_sweeper,
    on_stop=stop_tasks,
    cli=cli,
)
