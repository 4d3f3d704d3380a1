"""Assignment registers itself as a kenett service plugin."""

from pathlib import Path

from shared.plugins import ServicePlugin

from .handlers import build_router
from .store import registry

plugin = ServicePlugin(
    name="assignment",
    description="Coordinator registry and appointment with caseload limits (R9-R11)",
    build_router=build_router,
    migrations=Path(__file__).parent / "migrations" / "versions",
    metadata=registry.metadata,
)
