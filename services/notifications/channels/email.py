"""The e-mail channel: one plain-text message per notice, over SMTP.

``smtplib`` is blocking, so each send runs in a worker thread (``asyncio.to_thread``) with its
own connection: notices are few, and a fresh connection per message keeps failures separate.

The Message-ID is derived from the delivery id, so a retry carries the same Message-ID as the
first attempt and a mail system (or the recipient's client) can drop the repeat.

Privacy: neither the address nor the text goes into a log line or an error reason. Errors are
raised ``from None``: the SMTP exceptions carry the recipient address and the server's reply
(which often repeats it), and a chained traceback would carry them into the logs.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import ClassVar

from email_validator import EmailNotValidError, validate_email

from shared.channels import AddressInvalid, Channel, ChannelPlugin, DeliveryError, OutgoingMessage
from shared.config import Settings
from shared.logging import get_logger

log = get_logger(__name__)

NO_SERVER = "no SMTP server configured (KENETT_SMTP_HOST)"

# email_validator's messages may quote characters of the address; map them to fixed reasons.
# The first entry whose fragment occurs in the library's message wins.
_REASONS: tuple[tuple[str, str], ...] = (
    ("display name", "e-mail address must be a bare address, without a name or angle brackets"),
    ("angle bracket", "e-mail address must be a bare address, without a name or angle brackets"),
    ("anything after the email address", "e-mail address has extra text after it"),
    ("instead of a regular at-sign", "e-mail address has a look-alike character instead of @"),
    ("must have an @-sign", "e-mail address must have an @ sign"),
    ("something before the @-sign", "e-mail address has nothing before the @ sign"),
    ("something after the @-sign", "e-mail address has no domain after the @ sign"),
    ("too long", "e-mail address is too long"),
    ("Quoting", "e-mail address must not use quotes"),
    ("quotes", "e-mail address must not use quotes"),
    ("bracket", "e-mail domain must be a name, not an address in brackets"),
    ("special-use or reserved", "e-mail domain is a reserved name that cannot receive mail"),
    ("should have a period", "e-mail domain is incomplete (it has no period)"),
    ("top-level domain", "e-mail domain has no valid top-level domain"),
    ("period", "e-mail address has a misplaced period"),
    ("hyphen", "e-mail address has a misplaced hyphen"),
    ("before the @-sign", "e-mail address has invalid characters before the @ sign"),
    ("after the @-sign", "e-mail domain contains invalid characters"),
)


def _address_reason(library_message: str) -> str:
    for fragment, reason in _REASONS:
        if fragment in library_message:
            return reason
    return "e-mail address is not valid"


def _one_line(value: str) -> str:
    """A header value on one line: a line break in a header would be a header injection."""
    return " ".join(value.split())


class EmailChannel(Channel):
    """Plain-text e-mail through one SMTP server (smarthost)."""

    name: ClassVar[str] = "email"
    title: ClassVar[str] = "E-post"
    backoff_s: ClassVar[tuple[float, ...]] = (30.0, 120.0, 600.0, 1800.0)

    def __init__(self, settings: Settings) -> None:
        self.host = settings.smtp_host.strip()
        self.port = settings.smtp_port
        self.sender = settings.smtp_from
        self.starttls = settings.smtp_starttls
        self.username = settings.smtp_username
        self._password = settings.smtp_password
        self.timeout_s = settings.smtp_timeout_s
        self.org = settings.org

    def validate_address(self, address: str) -> str:
        candidate = address.strip()
        if not candidate:
            raise AddressInvalid("e-mail address is empty")
        if any(char.isspace() for char in candidate):
            raise AddressInvalid("e-mail address must not contain spaces")
        if candidate.count("@") > 1:
            raise AddressInvalid("e-mail address must have exactly one @ sign")
        try:
            result = validate_email(candidate, check_deliverability=False)
        except EmailNotValidError as exc:
            raise AddressInvalid(_address_reason(str(exc))) from None
        return str(result.normalized)

    def message_id(self, message: OutgoingMessage) -> str:
        return f"<{message.delivery_id}@kenett.{self.org}>"

    def build(self, message: OutgoingMessage, to: str) -> EmailMessage:
        """The e-mail for ``message`` to the (validated) address ``to``."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = to
        mail["Subject"] = _one_line(message.subject)
        # The time of this attempt: a notice held back over quiet hours would otherwise look
        # hours old, which spam filters count against it. Message-ID is what stays stable.
        mail["Date"] = format_datetime(datetime.now(UTC))
        mail["Message-ID"] = self.message_id(message)
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        mail["X-Auto-Response-Suppress"] = "All"  # the same, for Exchange
        mail.set_content(message.text, subtype="plain", charset="utf-8")
        return mail

    async def send(self, message: OutgoingMessage) -> None:
        if not self.host:
            raise DeliveryError(NO_SERVER, permanent=True)
        try:
            to = self.validate_address(message.address)
        except AddressInvalid as exc:
            raise DeliveryError(str(exc), permanent=True) from None
        try:
            mail = self.build(message, to)
        except ValueError:
            raise DeliveryError(
                "the message could not be built as e-mail", permanent=True
            ) from None
        try:
            await asyncio.to_thread(self._send_sync, mail, to)
        except DeliveryError as exc:
            log.debug(
                "email_delivery_failed",
                delivery_id=str(message.delivery_id),
                reason=exc.reason,
                permanent=exc.permanent,
            )
            raise

    def _send_sync(self, mail: EmailMessage, to: str) -> None:
        stage = "connect"
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        except smtplib.SMTPResponseException as exc:
            raise _response_error("refused the connection", exc.smtp_code) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"SMTP server unreachable ({type(exc).__name__})", permanent=False
            ) from None
        try:
            if self.starttls:
                stage = "starttls"
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                stage = "login"
                smtp.login(self.username, self._password.get_secret_value())
            stage = "send"
            smtp.send_message(mail, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _reply in exc.recipients.values()]
            raise _response_error("refused the recipient", codes[0] if codes else 0) from None
        except smtplib.SMTPSenderRefused as exc:
            raise _response_error("refused the sender", exc.smtp_code) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise _response_error("refused the login", exc.smtp_code) from None
        except smtplib.SMTPDataError as exc:
            raise _response_error("refused the message", exc.smtp_code) from None
        except smtplib.SMTPHeloError as exc:
            raise _response_error("refused the greeting", exc.smtp_code) from None
        except smtplib.SMTPResponseException as exc:
            raise _response_error(f"answered an error during {stage}", exc.smtp_code) from None
        except smtplib.SMTPNotSupportedError:
            what = {
                "starttls": "STARTTLS",
                "login": "authentication (AUTH)",
                "send": "internationalised addresses (SMTPUTF8)",
            }.get(stage, "a required extension")
            raise DeliveryError(f"SMTP server does not support {what}", permanent=True) from None
        except smtplib.SMTPServerDisconnected:
            raise DeliveryError(
                f"SMTP server closed the connection during {stage}", permanent=False
            ) from None
        except ssl.SSLError as exc:
            raise DeliveryError(
                f"TLS with the SMTP server failed ({type(exc).__name__})", permanent=False
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"SMTP connection failed during {stage} ({type(exc).__name__})", permanent=False
            ) from None
        finally:
            _quit(smtp)


def _response_error(what: str, code: int) -> DeliveryError:
    """5xx: the server will not change its mind; 4xx (and anything odd): try again later."""
    return DeliveryError(f"SMTP server {what} ({code})", permanent=500 <= code < 600)


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; a failure here must not turn a delivered message into a failed one."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _build(settings: Settings) -> Channel:
    return EmailChannel(settings)


plugin = ChannelPlugin(
    name="email",
    description="E-mail over SMTP (KENETT_SMTP_HOST): a notice waits, and where to log in",
    factory=_build,
    configured=lambda s: bool(s.smtp_host),
)
