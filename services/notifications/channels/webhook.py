"""The webhook channel: a signed JSON POST to the organisation's own systems.

The body says that a notice waits and where to log in, nothing more (no subject, no case data)::

    {"type": "kenett.notice", "delivery_id": "…", "notification_id": "…" | null, "org": "…",
     "recipient_id": "…", "kind": "…", "text": "…", "login_url": "…",
     "created_at": "2026-01-02T03:04:05+00:00", "count": 1}

Headers: ``Kenett-Delivery-Id`` (the same on every retry: the receiver's idempotency key),
``Kenett-Timestamp`` (unix seconds) and ``Kenett-Signature: sha256=<hex>``, an HMAC-SHA256 with
``KENETT_WEBHOOK_SECRET`` over ``f"{timestamp}.".encode() + body``. A receiver checks it with
:func:`verify` (or the same few lines in its own language) and drops stale timestamps, so a
captured request cannot be replayed later.

Redirects are not followed: a signed notice goes to the configured URL or nowhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from shared.channels import AddressInvalid, Channel, ChannelPlugin, DeliveryError, OutgoingMessage
from shared.config import Settings
from shared.logging import get_logger

log = get_logger(__name__)

NO_SECRET = "no webhook secret configured (KENETT_WEBHOOK_SECRET)"  # noqa: S105 - a reason
TIMESTAMP_HEADER = "Kenett-Timestamp"
SIGNATURE_HEADER = "Kenett-Signature"
DELIVERY_HEADER = "Kenett-Delivery-Id"
DEFAULT_TOLERANCE_S = 300.0
# Bytes of a response body read (and thrown away) so the connection can be reused.
_DRAIN_LIMIT = 64 * 1024

_MALFORMED = "webhook URL is malformed"
_NEEDS_HTTPS = "webhook URL must use https (http only for localhost)"
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")
_RETRYABLE_4XX = frozenset({408, 425, 429})


# --- signatures ------------------------------------------------------------------------------


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The ``Kenett-Signature`` header value: ``sha256=`` and the hex HMAC-SHA256 of
    ``f"{timestamp}.".encode() + body`` with ``secret``."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: bytes,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """Whether ``headers`` carry a valid signature of ``body`` made within ``tolerance_s`` of
    ``now`` (unix seconds). Header names are matched without regard to case; the signature is
    compared in constant time."""
    if not secret:
        return False
    lowered = {key.lower(): value for key, value in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "").strip()
    signature = lowered.get(SIGNATURE_HEADER.lower(), "").strip()
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 15):
        return False
    if abs(now - int(timestamp)) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


# --- the body --------------------------------------------------------------------------------


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _str_or_none(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def payload(message: OutgoingMessage) -> dict[str, Any]:
    """What a webhook receives, as a dict; exactly these keys."""
    return {
        "type": "kenett.notice",
        "delivery_id": str(message.delivery_id),
        "notification_id": None
        if message.notification_id is None
        else str(message.notification_id),
        "org": message.org,
        "recipient_id": str(message.recipient_id),
        "kind": message.kind,
        "text": message.text,
        "login_url": message.login_url,
        "created_at": _iso(message.created_at),
        "count": message.count,
    }


def encode_body(message: OutgoingMessage) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are signed and sent."""
    return json.dumps(payload(message), separators=(",", ":"), ensure_ascii=False).encode()


# --- addresses -------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return len(ascii_host) <= 253 and bool(_HOSTNAME.match(ascii_host.lower()))


def validate_url(address: str) -> str:
    """The URL in normal form, or raise :class:`AddressInvalid` (never repeating the URL)."""
    url = address.strip()
    if not url:
        raise AddressInvalid("webhook URL is empty")
    if any(char.isspace() or not char.isprintable() for char in url):
        raise AddressInvalid(f"{_MALFORMED} (it contains spaces or control characters)")
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port out of range or not a number raises ValueError
    except ValueError:
        raise AddressInvalid(_MALFORMED) from None
    if not parts.scheme or not url.lower().startswith(f"{parts.scheme.lower()}://"):
        raise AddressInvalid("webhook URL must be absolute (https://host/path)")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise AddressInvalid(_NEEDS_HTTPS)
    if "@" in parts.netloc:
        raise AddressInvalid("webhook URL must not contain credentials")
    if "#" in url:
        raise AddressInvalid("webhook URL must not contain a fragment (#)")
    host = (parts.hostname or "").lower()
    if not host:
        raise AddressInvalid("webhook URL has no host")
    if not _valid_host(host):
        raise AddressInvalid(f"{_MALFORMED} (the host is not a valid name or IP address)")
    if scheme == "http" and not _is_loopback(host):
        raise AddressInvalid(_NEEDS_HTTPS)
    try:
        normal = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise AddressInvalid(_MALFORMED) from None
    return str(normal)


# --- the channel -----------------------------------------------------------------------------


class WebhookChannel(Channel):
    """Signed JSON POSTs. The address of a recipient is the URL to post to."""

    name: ClassVar[str] = "webhook"
    title: ClassVar[str] = "Webhook"
    respects_quiet_hours: ClassVar[bool] = False
    backoff_s: ClassVar[tuple[float, ...]] = (10.0, 60.0, 300.0, 1800.0)

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self._secret = settings.webhook_secret.get_secret_value().encode()
        self.timeout_s = settings.webhook_timeout_s
        self._clock = clock
        self._client: httpx.AsyncClient | None = None

    def validate_address(self, address: str) -> str:
        return validate_url(address)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_s),
                follow_redirects=False,
                headers={"User-Agent": "kenett"},
            )
        return self._client

    def request_headers(self, message: OutgoingMessage, body: bytes) -> dict[str, str]:
        timestamp = str(int(self._clock()))
        return {
            "Content-Type": "application/json",
            "User-Agent": "kenett",
            DELIVERY_HEADER: str(message.delivery_id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }

    async def send(self, message: OutgoingMessage) -> None:
        try:
            await self._post(message)
        except DeliveryError as exc:
            log.debug(
                "webhook_delivery_failed",
                delivery_id=str(message.delivery_id),
                reason=exc.reason,
                permanent=exc.permanent,
            )
            raise

    async def _post(self, message: OutgoingMessage) -> None:
        if not self._secret:
            raise DeliveryError(NO_SECRET, permanent=True)
        try:
            url = self.validate_address(message.address)
        except AddressInvalid as exc:
            raise DeliveryError(str(exc), permanent=True) from None
        body = encode_body(message)
        headers = self.request_headers(message, body)
        # Exceptions are raised ``from None``: httpx's carry the URL, which is personal data.
        try:
            async with self._http().stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code
                with contextlib.suppress(httpx.HTTPError):
                    await _drain(response)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise DeliveryError(f"webhook unreachable ({type(exc).__name__})") from None
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"webhook did not answer in time ({type(exc).__name__})") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            raise DeliveryError(_MALFORMED, permanent=True) from None
        except httpx.TransportError as exc:
            raise DeliveryError(f"webhook connection failed ({type(exc).__name__})") from None
        _check_status(status)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _check_status(status: int) -> None:
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        raise DeliveryError(
            f"webhook answered {status} (redirects are not followed)", permanent=True
        )
    if status in _RETRYABLE_4XX or 500 <= status < 600:
        raise DeliveryError(f"webhook answered {status}", permanent=False)
    if 400 <= status < 500:
        raise DeliveryError(f"webhook answered {status}", permanent=True)
    raise DeliveryError(f"webhook answered {status}", permanent=False)


async def _drain(response: httpx.Response) -> None:
    """Read a little of the body so the connection can be reused; a long one is cut off."""
    received = 0
    async for chunk in response.aiter_raw():
        received += len(chunk)
        if received > _DRAIN_LIMIT:
            break


def _build(settings: Settings) -> Channel:
    return WebhookChannel(settings)


plugin = ChannelPlugin(
    name="webhook",
    description="Signed JSON POST (HMAC-SHA256) to the organisation's own systems",
    factory=_build,
    configured=lambda s: bool(s.webhook_secret.get_secret_value()),
)
