"""The SMS channel: validation of mobile numbers in front of an exchangeable sender.

:class:`SmsChannel` checks the number and the length, then hands the message to an
:class:`SmsSender`. A real gateway (a provider's HTTP API) is a sender; the one installed here,
:class:`DevSmsSender`, writes what it would send to a JSON-lines file for development and tests.
The delivery id is passed on as the provider's reference (idempotency key), so a retry of a
message that did go out is not sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import threading
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from shared.channels import AddressInvalid, Channel, ChannelPlugin, DeliveryError, OutgoingMessage
from shared.config import Settings
from shared.logging import get_logger

log = get_logger(__name__)

NOT_MOBILE = "not a mobile number in E.164 form (+47…)"
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_NORWEGIAN_MOBILE = re.compile(r"[49][0-9]{7}")


def normalise_number(number: str) -> str:
    """``+`` and 8 to 15 digits (E.164), or an 8-digit Norwegian mobile number (starting with 4
    or 9) as ``+47…``; spaces are ignored. Raises :class:`AddressInvalid` without the number."""
    compact = "".join(number.split())
    if not compact:
        raise AddressInvalid("no mobile number given")
    if _E164.fullmatch(compact):
        return compact
    if _NORWEGIAN_MOBILE.fullmatch(compact):
        return f"+47{compact}"
    raise AddressInvalid(NOT_MOBILE)


class SmsSender(ABC):
    """Hands one SMS to a gateway. ``reference`` is the same on every retry of one delivery;
    a gateway that knows it must not send again."""

    @abstractmethod
    async def send_sms(self, number: str, text: str, reference: str) -> None:
        """Send, or raise :class:`DeliveryError` (with no number or text in the reason)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class SmsChannel(Channel):
    """Mobile numbers, texts of at most 160 characters, and a sender behind."""

    name: ClassVar[str] = "sms"
    title: ClassVar[str] = "SMS"
    max_text: ClassVar[int] = 160
    backoff_s: ClassVar[tuple[float, ...]] = (30.0, 120.0, 600.0, 1800.0)

    def __init__(self, sender: SmsSender) -> None:
        self.sender = sender

    def validate_address(self, address: str) -> str:
        return normalise_number(address)

    async def send(self, message: OutgoingMessage) -> None:
        try:
            number = self.validate_address(message.address)
        except AddressInvalid as exc:
            raise DeliveryError(str(exc), permanent=True) from None
        if len(message.text) > self.max_text:
            raise DeliveryError(
                f"text is {len(message.text)} characters; an SMS carries at most {self.max_text}",
                permanent=True,
            )
        try:
            await self.sender.send_sms(number, message.text, str(message.delivery_id))
        except DeliveryError as exc:
            log.debug(
                "sms_delivery_failed",
                delivery_id=str(message.delivery_id),
                reason=exc.reason,
                permanent=exc.permanent,
            )
            raise

    async def close(self) -> None:
        await self.sender.close()


# --- the development sender ------------------------------------------------------------------


def dev_log_path(settings: Settings) -> Path:
    """Where :class:`DevSmsSender` writes: ``KENETT_SMS_DEV_LOG`` or var_dir/sms-outbox.jsonl."""
    return settings.sms_dev_log or settings.var_dir / "sms-outbox.jsonl"


def read_dev_log(path: Path | str) -> list[dict[str, Any]]:
    """Every record in a development SMS log (none if the file does not exist). A last line
    cut short by a crash is skipped."""
    records: list[dict[str, Any]] = []
    try:
        content = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return records
    for line in content.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


class DevSmsSender(SmsSender):
    """Sends nothing: appends ``{"reference", "to", "text", "at"}`` as a JSON line to ``path``
    and to :attr:`sent`. A reference already in the file (written by this instance, an earlier
    one or another process) is not written again, as a provider drops a repeated reference."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.sent: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._known: set[str] = set()
        self._read_upto = 0

    async def send_sms(self, number: str, text: str, reference: str) -> None:
        try:
            await asyncio.to_thread(self._record, number, text, reference)
        except OSError as exc:
            raise DeliveryError(
                f"development SMS log could not be written ({type(exc).__name__})"
            ) from None

    def _record(self, number: str, text: str, reference: str) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "r+b") as file:
                _lock_file(fd)  # against another process between our check and our write
                if os.fstat(fd).st_size < self._read_upto:  # the file was emptied or replaced
                    self._known.clear()
                    self._read_upto = 0
                self._catch_up(file)
                if reference in self._known:
                    return
                record = {
                    "reference": reference,
                    "to": number,
                    "text": text,
                    "at": datetime.now(UTC).isoformat(),
                }
                line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
                file.seek(0, os.SEEK_END)
                file.write(line)
                file.flush()
                self._read_upto = file.tell()
                self._known.add(reference)
                self.sent.append(record)

    def _catch_up(self, file: Any) -> None:
        """Learn the references written since the last look (by anyone)."""
        file.seek(self._read_upto)
        for raw in file:
            if not raw.endswith(b"\n"):
                break  # a line still being written; read it next time
            self._read_upto += len(raw)
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("reference"), str):
                self._known.add(record["reference"])


def _lock_file(fd: int) -> None:
    """An exclusive lock until the file is closed, where the platform has ``flock``."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the thread lock must do
        return
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_EX)


def _build(settings: Settings) -> Channel:
    path = dev_log_path(settings)
    log.warning("sms_channel_is_development_only", outbox=str(path))
    return SmsChannel(DevSmsSender(path))


plugin = ChannelPlugin(
    name="sms",
    description="SMS (development: written to KENETT_SMS_DEV_LOG, not sent)",
    factory=_build,
)
