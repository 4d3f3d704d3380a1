"""Notifications registers itself as a kenett service plugin."""

from pathlib import Path

from shared.plugins import ServicePlugin

from .handlers import build_router
from .store import registry

plugin = ServicePlugin(
    name="notifications",
    description="The in-app inbox: notices that carry a case reference, never personal data",
    build_router=build_router,
    migrations=Path(__file__).parent / "migrations" / "versions",
    metadata=registry.metadata,
)
