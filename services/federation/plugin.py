"""Federation registers itself as a kenett service plugin."""

from pathlib import Path

from shared.plugins import ServicePlugin

from .bench import handover
from .cli import app as cli
from .handlers import build_router, on_start, on_stop, prepare
from .store import registry

plugin = ServicePlugin(
    name="federation",
    description="Linked organisations: reports of need, coordinator handover, shared plans and "
    "moves between hospital and municipalities, signed and sealed, with receipts (R17)",
    build_router=build_router,
    migrations=Path(__file__).parent / "migrations" / "versions",
    metadata=registry.metadata,
    prepare=prepare,
    on_start=on_start,
    on_stop=on_stop,
    cli=cli,
    benchmarks={"handover": handover},
)
