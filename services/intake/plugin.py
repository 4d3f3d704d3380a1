"""Intake registers itself as a kenett service plugin."""

from pathlib import Path

from shared.plugins import ServicePlugin

from .cli import app as cli
from .handlers import build_router
from .store import registry

plugin = ServicePlugin(
    name="intake",
    description="Reports of need (R2), identity, and the cases they open",
    build_router=build_router,
    migrations=Path(__file__).parent / "migrations" / "versions",
    metadata=registry.metadata,
    cli=cli,
)
