"""Planning registers itself as a kenett service plugin."""

from pathlib import Path

from shared.plugins import ServicePlugin

from .handlers import build_router
from .store import registry

plugin = ServicePlugin(
    name="planning",
    description="The individual plan: a draft once IP consent and a coordinator exist (R5, R14)",
    build_router=build_router,
    migrations=Path(__file__).parent / "migrations" / "versions",
    metadata=registry.metadata,
)
