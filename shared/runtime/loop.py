"""The event loop of kenett's long-running processes (``Settings.event_loop``).

uvloop (libuv) takes less CPU per message than the standard loop: roughly 5-10 % of the
all-in-one process's CPU per case in the pipeline benchmark, within run-to-run noise
(docs/benchmarks.md, change 23). Where it is
not installed (it has no Windows build), the standard loop runs and nothing else changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")

EventLoop = Literal["uvloop", "asyncio"]


def loop_in_use(wanted: EventLoop) -> EventLoop:
    """The loop ``run`` will use for ``wanted``: uvloop only where it can be imported."""
    if wanted == "uvloop":
        try:
            import uvloop  # noqa: F401
        except ImportError:
            return "asyncio"
    return wanted


def run(main: Coroutine[Any, Any, T], wanted: EventLoop) -> T:
    """``asyncio.run`` on the wanted loop (or the standard one where uvloop is missing)."""
    if loop_in_use(wanted) == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)
