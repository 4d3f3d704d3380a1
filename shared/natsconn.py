"""NATS connections as kenett makes them: services retry forever, one-shot commands fail fast."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import nats
from nats.aio.client import Client

from shared.logging import get_logger

log = get_logger(__name__)


def safe_url(url: str) -> str:
    """The URL without user name, password or token, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


async def _log_error(exc: Exception) -> None:
    # nats-py's default prints a traceback per attempt; one line is enough.
    log.warning("NATS connection error", error=f"{type(exc).__name__}: {exc}")


async def _quiet(_exc: Exception) -> None:
    return None


async def connect_service(url: str, name: str) -> Client:
    """For long-running services: wait for NATS, reconnect forever."""
    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        error_cb=_log_error,
    )


async def connect_once(url: str, name: str, **extra: Any) -> Client:
    """For one-shot commands: two quick attempts, then ``nats.errors.NoServersError``."""
    return await nats.connect(
        url,
        name=name,
        connect_timeout=3,
        allow_reconnect=False,
        max_reconnect_attempts=1,  # 0 would mean "unlimited" to nats-py's server pool
        reconnect_time_wait=0.2,
        error_cb=_quiet,
        **extra,
    )
