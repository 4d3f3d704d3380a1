"""Notification channels as plugins, discovered through the ``kenett.channels`` entry points.

A channel carries a notice out of kenett: e-mail, SMS, a webhook to the organisation's own
systems, or anything a third party installs. The in-app inbox is not a channel here: every
notice is in the inbox first, and channels only say that something is waiting.

A distribution declares ``[project.entry-points."kenett.channels"] name = "pkg.mod:plugin"``
where ``plugin`` is a :class:`ChannelPlugin`. kenett picks it up without a code change.

What a channel is given to send (:class:`OutgoingMessage`) has already been rendered from
templates that carry no fødselsnummer, name or health detail (domain.md, "Identifiers and
data"): only that something new is waiting and where to log in. A channel must not add any.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import EntryPoint, entry_points
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from shared.config import Settings

GROUP = "kenett.channels"


class OutgoingMessage(BaseModel):
    """One message for one channel and one address. ``delivery_id`` is the idempotency key:
    it is the same on every retry, so a receiver can drop a repeat (e-mail Message-ID,
    webhook ``Kenett-Delivery-Id``, an SMS provider's reference)."""

    model_config = ConfigDict(frozen=True)

    delivery_id: uuid.UUID
    notification_id: uuid.UUID | None
    """None for a daily digest, which stands for several notices."""
    org: str
    recipient_id: uuid.UUID
    address: str
    kind: str
    """The notice kind (a code such as ``evaluation_due``), or ``digest``."""
    subject: str
    text: str
    login_url: str
    created_at: datetime
    count: int = 1


class AddressInvalid(ValueError):
    """An address a channel cannot use; the message says why without repeating the address."""


class DeliveryError(Exception):
    """A send that failed. ``permanent``: retrying cannot help (a refused address, a malformed
    URL); otherwise the notice is tried again with the channel's backoff. The message is
    stored and shown, so it must not contain the address or any text of the notice."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Channel(ABC):
    """A way out of kenett. Subclasses set ``name`` and implement ``validate_address`` and
    ``send``; they may override the class attributes below."""

    name: ClassVar[str]
    title: ClassVar[str] = ""
    """What users see, in bokmål (e.g. "E-post")."""
    respects_quiet_hours: ClassVar[bool] = True
    """False for machine receivers (a webhook), which are told at once, day or night."""
    backoff_s: ClassVar[tuple[float, ...]] = (30.0, 120.0, 600.0, 1800.0)
    """Seconds to wait before each retry; ``len(backoff_s) + 1`` attempts in all, then the
    notice goes to the dead-letter stream."""
    max_text: ClassVar[int] = 2000
    """The longest text the channel can carry."""

    @abstractmethod
    def validate_address(self, address: str) -> str:
        """The address in normal form, or raise :class:`AddressInvalid`."""

    @abstractmethod
    async def send(self, message: OutgoingMessage) -> None:
        """Send, or raise :class:`DeliveryError`. Any other exception counts as transient."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; called when the service stops."""


@dataclass(frozen=True)
class ChannelPlugin:
    """What a channel distribution registers: a name and how to build the channel."""

    name: str
    description: str
    factory: Callable[[Settings], Channel]
    configured: Callable[[Settings], bool] = lambda _settings: True
    """Whether the settings make the channel usable (an SMTP server, a webhook key): by
    default only configured channels are enabled; ``KENETT_CHANNELS`` names them outright."""


class ChannelPluginError(RuntimeError):
    """A channel plugin could not be loaded; the message names the entry point."""


@dataclass(frozen=True)
class InstalledChannel:
    plugin: ChannelPlugin
    entry_point: str
    distribution: str
    version: str


def _load(ep: EntryPoint) -> InstalledChannel:
    try:
        obj = ep.load()
    except Exception as exc:
        raise ChannelPluginError(
            f"channel plugin {ep.name!r} ({ep.value}) failed to load: {exc}"
        ) from exc
    if not isinstance(obj, ChannelPlugin):
        raise ChannelPluginError(
            f"channel plugin {ep.name!r} ({ep.value}) is a {type(obj).__name__}, "
            "not a ChannelPlugin"
        )
    if obj.name != ep.name:
        raise ChannelPluginError(f"entry point {ep.name!r} names a channel called {obj.name!r}")
    dist = ep.dist.name if ep.dist else "?"
    version = ep.dist.version if ep.dist else "?"
    return InstalledChannel(obj, ep.value, dist, version)


def discover_channels() -> dict[str, InstalledChannel]:
    """Every installed channel plugin, by name (the first of two with one name wins)."""
    found: dict[str, InstalledChannel] = {}
    for ep in entry_points(group=GROUP):
        if ep.name not in found:
            found[ep.name] = _load(ep)
    return found
