"""Service plugins, discovered through the ``kenett.services`` entry points.

The core services register themselves exactly as a third-party service would: a distribution
declares ``[project.entry-points."kenett.services"] name = "package.module:plugin"``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from faststream.nats import NatsRouter

from shared.bus.streams import StreamSpec
from shared.service import ServiceContext

GROUP = "kenett.services"

Hook = Callable[[ServiceContext], Awaitable[None]]


@dataclass(frozen=True)
class ServicePlugin:
    """What a service declares: its router, migrations, tables, streams and start/stop hooks."""

    name: str
    description: str
    build_router: Callable[[ServiceContext], NatsRouter]
    migrations: Path
    metadata: Any
    streams: tuple[StreamSpec, ...] = ()
    prepare: Hook | None = None
    """Runs before the router is built (e.g. to declare streams that depend on settings)."""
    on_start: Hook | None = None
    on_stop: Hook | None = None
    cli: Any = None
    """A typer.Typer with the service's command-line forms, shown as ``kenett <name> ...``."""
    benchmarks: dict[str, Callable[..., None]] = field(default_factory=dict)
    """Typer command functions, shown as ``kenett bench <key>``."""
    version: str = field(default="")


class PluginError(RuntimeError):
    """A plugin could not be loaded; the message names the entry point."""


@dataclass(frozen=True)
class InstalledPlugin:
    """A discovered plugin and where it came from."""

    plugin: ServicePlugin
    entry_point: str
    distribution: str
    version: str


def _load(ep: EntryPoint) -> InstalledPlugin:
    try:
        obj = ep.load()
    except Exception as exc:
        raise PluginError(f"service plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
    if callable(obj) and not isinstance(obj, ServicePlugin):
        obj = obj()
    if not isinstance(obj, ServicePlugin):
        raise PluginError(
            f"service plugin {ep.name!r} ({ep.value}) is a {type(obj).__name__}, "
            "not a ServicePlugin"
        )
    if obj.name != ep.name:
        raise PluginError(f"entry point {ep.name!r} names a plugin called {obj.name!r}")
    dist = ep.dist.name if ep.dist else "?"
    version = ep.dist.version if ep.dist else "?"
    return InstalledPlugin(obj, ep.value, dist, version)


def discover() -> dict[str, InstalledPlugin]:
    """Every installed service plugin, by name."""
    found: dict[str, InstalledPlugin] = {}
    for ep in entry_points(group=GROUP):
        if ep.name in found:
            raise PluginError(f"two service plugins are called {ep.name!r}")
        found[ep.name] = _load(ep)
    return dict(sorted(found.items()))


def select(names: list[str] | None) -> list[ServicePlugin]:
    """The named plugins (all when None), with a clear error for an unknown name."""
    installed = discover()
    if not names:
        return [p.plugin for p in installed.values()]
    unknown = [n for n in names if n not in installed]
    if unknown:
        raise PluginError(
            f"unknown service(s): {', '.join(unknown)}; installed: {', '.join(installed)}"
        )
    return [installed[n].plugin for n in dict.fromkeys(names)]
