"""Notifications registers itself as a kenett service plugin."""

from pathlib import Path

from shared.plugins import ServicePlugin

from .bench import reminders
from .cli import app as cli
from .handlers import build_router, on_start, on_stop
from .store import registry

plugin = ServicePlugin(
    name="notifications",
    description="Inbox, reminders on the clock and channels (e-mail, SMS, webhook): notices "
    "carry a case reference, never personal data",
    build_router=build_router,
    migrations=Path(__file__).parent / "migrations" / "versions",
    metadata=registry.metadata,
    on_start=on_start,
    on_stop=on_stop,
    cli=cli,
    benchmarks={"reminders": reminders},
)
