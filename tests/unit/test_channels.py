"""The e-mail, webhook and SMS channels against real servers (aiosmtpd, http.server) and files.

Only synthetic addresses and texts. Every error text is checked for not repeating the address.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.notifications.channels.email import EmailChannel
from services.notifications.channels.sms import (
    NOT_MOBILE,
    DevSmsSender,
    SmsChannel,
    read_dev_log,
)
from services.notifications.channels.webhook import WebhookChannel, sign, verify
from shared.channels import (
    AddressInvalid,
    ChannelPlugin,
    DeliveryError,
    OutgoingMessage,
    discover_channels,
)
from shared.config import Settings
from tests.channel_servers import free_port, smtp_server, webhook_server

ORG = "testkommune"
SECRET = "test-webhook-secret-not-real"
MAILBOX = "ola.testesen@eksempel.no"
TEXT = "Du har en ny melding i kenett. Logg inn for å lese den: æøå ÆØÅ."


def outgoing(address: str, **overrides: Any) -> OutgoingMessage:
    data: dict[str, Any] = {
        "delivery_id": uuid.uuid4(),
        "notification_id": uuid.uuid4(),
        "org": ORG,
        "recipient_id": uuid.uuid4(),
        "address": address,
        "kind": "evaluation_due",
        "subject": "Ny melding i kenett",
        "text": TEXT,
        "login_url": "https://kenett.eksempel.no/logg-inn",
        "created_at": datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
    }
    data.update(overrides)
    return OutgoingMessage(**data)


def assert_not_echoed(reason: str, *secrets: str) -> None:
    assert reason
    for secret in secrets:
        assert secret not in reason


# --- e-mail ----------------------------------------------------------------------------------


def email_channel(port: int, **overrides: Any) -> EmailChannel:
    settings: dict[str, Any] = {
        "org": ORG,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_from": "kenett@eksempel.no",
        "smtp_timeout_s": 5.0,
    }
    settings.update(overrides)
    return EmailChannel(Settings(**settings))


async def test_email_arrives_with_headers_and_body() -> None:
    async with smtp_server() as smtp:
        message = outgoing(MAILBOX)
        await email_channel(smtp.port).send(message)

        assert len(smtp.messages) == 1
        mail = smtp.messages[0]
        assert mail["To"] == MAILBOX
        assert mail["From"] == "kenett@eksempel.no"
        assert mail["Subject"] == "Ny melding i kenett"
        assert mail["Message-ID"] == f"<{message.delivery_id}@kenett.{ORG}>"
        assert mail["Auto-Submitted"] == "auto-generated"
        assert mail["Date"] is not None
        assert mail.get_content_type() == "text/plain"
        assert mail.get_content_charset() == "utf-8"
        assert mail.get_content().rstrip("\n") == TEXT
        assert smtp.envelopes[0].rcpt_tos == (MAILBOX,)
        assert smtp.envelopes[0].mail_from == "kenett@eksempel.no"


async def test_email_retry_carries_the_same_message_id() -> None:
    async with smtp_server() as smtp:
        channel = email_channel(smtp.port)
        message = outgoing(MAILBOX)
        other = outgoing(MAILBOX)
        await channel.send(message)
        await channel.send(message)
        await channel.send(other)

        ids = [mail["Message-ID"] for mail in smtp.messages]
        assert ids[0] == ids[1] == f"<{message.delivery_id}@kenett.{ORG}>"
        assert ids[2] != ids[0]


async def test_email_subject_line_breaks_cannot_inject_headers() -> None:
    async with smtp_server() as smtp:
        message = outgoing(MAILBOX, subject="Ny melding\r\nBcc: inntrenger@eksempel.no")
        await email_channel(smtp.port).send(message)

        mail = smtp.messages[0]
        assert mail["Bcc"] is None
        assert "\n" not in mail["Subject"]
        assert smtp.envelopes[0].rcpt_tos == (MAILBOX,)


@pytest.mark.parametrize(
    ("reply", "permanent", "code"),
    [("550 5.1.1 mailbox unavailable", True, "550"), ("451 4.3.0 try again later", False, "451")],
)
async def test_email_refused_recipient(reply: str, permanent: bool, code: str) -> None:
    async with smtp_server(rcpt_reply=reply) as smtp:
        with pytest.raises(DeliveryError) as caught:
            await email_channel(smtp.port).send(outgoing(MAILBOX))

        assert caught.value.permanent is permanent
        assert caught.value.reason == f"SMTP server refused the recipient ({code})"
        assert caught.value.__cause__ is None
        assert caught.value.__suppress_context__
        assert smtp.messages == []


async def test_email_refused_message_is_classified_by_code() -> None:
    async with smtp_server(data_reply="554 5.6.0 message refused") as smtp:
        with pytest.raises(DeliveryError) as caught:
            await email_channel(smtp.port).send(outgoing(MAILBOX))
        assert caught.value.permanent
        assert caught.value.reason == "SMTP server refused the message (554)"
        assert_not_echoed(str(caught.value), MAILBOX, TEXT, "Ny melding i kenett")


async def test_email_unreachable_server_is_transient() -> None:
    channel = email_channel(free_port())
    with pytest.raises(DeliveryError) as caught:
        await channel.send(outgoing(MAILBOX))
    assert not caught.value.permanent
    assert caught.value.reason == "SMTP server unreachable (ConnectionRefusedError)"


async def test_email_without_server_is_permanent() -> None:
    channel = EmailChannel(Settings(org=ORG, smtp_host=""))
    with pytest.raises(DeliveryError) as caught:
        await channel.send(outgoing(MAILBOX))
    assert caught.value.permanent
    assert caught.value.reason == "no SMTP server configured (KENETT_SMTP_HOST)"


async def test_email_starttls_required_but_not_offered_is_permanent() -> None:
    async with smtp_server() as smtp:
        with pytest.raises(DeliveryError) as caught:
            await email_channel(smtp.port, smtp_starttls=True).send(outgoing(MAILBOX))
        assert caught.value.permanent
        assert caught.value.reason == "SMTP server does not support STARTTLS"
        assert smtp.messages == []


async def test_email_invalid_address_at_send_is_permanent() -> None:
    async with smtp_server() as smtp:
        with pytest.raises(DeliveryError) as caught:
            await email_channel(smtp.port).send(outgoing("ola.testesen.eksempel.no"))
        assert caught.value.permanent
        assert_not_echoed(caught.value.reason, "ola.testesen")
        assert smtp.messages == []


@pytest.mark.parametrize(
    ("address", "normal"),
    [
        ("  Ola.Testesen@Eksempel.NO ", "Ola.Testesen@eksempel.no"),
        ("kari+kenett@sub.eksempel.no", "kari+kenett@sub.eksempel.no"),
        ("per@bæ.no", "per@bæ.no"),
    ],
)
def test_email_address_accepted_and_normalised(address: str, normal: str) -> None:
    assert EmailChannel(Settings()).validate_address(address) == normal


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("", "e-mail address is empty"),
        ("ola.testesen.eksempel.no", "e-mail address must have an @ sign"),
        ("ola.testesen@@eksempel.no", "e-mail address must have exactly one @ sign"),
        ("ola testesen@eksempel.no", "e-mail address must not contain spaces"),
        ("ola.testesen@eksempel", "e-mail domain is incomplete (it has no period)"),
        ("@eksempel.no", "e-mail address has nothing before the @ sign"),
        ("ola.testesen@", "e-mail address has no domain after the @ sign"),
        ("ola..testesen@eksempel.no", "e-mail address has a misplaced period"),
        ("ola,testesen@eksempel.no", "e-mail address has invalid characters before the @ sign"),
        ("ola.testesen@eks_empel.no", "e-mail domain contains invalid characters"),
        (
            "Ola<ola.testesen@eksempel.no>",
            "e-mail address must be a bare address, without a name or angle brackets",
        ),
        ("ola.testesen@eksempel.test", "e-mail domain is a reserved name that cannot receive mail"),
    ],
)
def test_email_address_refused_without_echo(address: str, reason: str) -> None:
    with pytest.raises(AddressInvalid) as caught:
        EmailChannel(Settings()).validate_address(address)
    assert str(caught.value) == reason
    for part in {address, *address.replace("@", " ").replace("<", " ").split()}:
        if len(part) > 3:
            assert part not in str(caught.value)


# --- webhook ---------------------------------------------------------------------------------


def webhook_channel(**overrides: Any) -> WebhookChannel:
    settings: dict[str, Any] = {"org": ORG, "webhook_secret": SECRET, "webhook_timeout_s": 5.0}
    settings.update(overrides)
    return WebhookChannel(Settings(**settings))


async def test_webhook_posts_exactly_the_listed_fields_signed() -> None:
    channel = webhook_channel()
    try:
        with webhook_server() as hook:
            message = outgoing(hook.url, count=3)
            before = time.time()
            await channel.send(message)

            assert len(hook.requests) == 1
            request = hook.requests[0]
    finally:
        await channel.close()

    assert request.method == "POST"
    assert request.path == "/hook"
    body = json.loads(request.body.decode("utf-8"))
    assert body == {
        "type": "kenett.notice",
        "delivery_id": str(message.delivery_id),
        "notification_id": str(message.notification_id),
        "org": ORG,
        "recipient_id": str(message.recipient_id),
        "kind": "evaluation_due",
        "text": TEXT,
        "login_url": "https://kenett.eksempel.no/logg-inn",
        "created_at": "2026-03-04T05:06:07+00:00",
        "count": 3,
    }
    assert b" " not in request.body.replace(TEXT.encode(), b"")  # compact JSON
    assert TEXT.encode("utf-8") in request.body  # UTF-8, not \u escapes
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "kenett"
    assert headers["Kenett-Delivery-Id"] == str(message.delivery_id)
    timestamp = int(headers["Kenett-Timestamp"])
    assert int(before) <= timestamp <= time.time()
    assert headers["Kenett-Signature"] == sign(SECRET.encode(), str(timestamp), request.body)

    secret = SECRET.encode()
    assert verify(secret, headers, request.body, now=time.time())
    assert verify(secret, {k.lower(): v for k, v in headers.items()}, request.body, now=timestamp)
    tampered = request.body.replace(b'"count":3', b'"count":4')
    assert tampered != request.body
    assert not verify(secret, headers, tampered, now=time.time())
    assert not verify(b"another-secret", headers, request.body, now=time.time())
    assert not verify(secret, headers, request.body, now=timestamp + 301)
    assert not verify(secret, headers, request.body, now=timestamp - 301)
    assert verify(secret, headers, request.body, now=timestamp + 299)


def test_verify_rejects_missing_or_malformed_headers() -> None:
    secret, body = b"k", b"{}"
    good = {"Kenett-Timestamp": "1700000000", "Kenett-Signature": sign(secret, "1700000000", body)}
    assert verify(secret, good, body, now=1_700_000_000)
    assert not verify(secret, {}, body, now=1_700_000_000)
    assert not verify(secret, {**good, "Kenett-Timestamp": "17e8"}, body, now=1_700_000_000)
    assert not verify(secret, {**good, "Kenett-Signature": "sha256=00"}, body, now=1_700_000_000)
    assert not verify(b"", good, body, now=1_700_000_000)


async def test_webhook_digest_has_null_notification_id() -> None:
    channel = webhook_channel()
    try:
        with webhook_server() as hook:
            await channel.send(outgoing(hook.url, notification_id=None, kind="digest"))
            body = json.loads(hook.requests[0].body)
    finally:
        await channel.close()
    assert body["notification_id"] is None
    assert body["kind"] == "digest"


@pytest.mark.parametrize(
    ("status", "permanent", "reason"),
    [
        (500, False, "webhook answered 500"),
        (503, False, "webhook answered 503"),
        (429, False, "webhook answered 429"),
        (408, False, "webhook answered 408"),
        (404, True, "webhook answered 404"),
        (400, True, "webhook answered 400"),
        (410, True, "webhook answered 410"),
        (301, True, "webhook answered 301 (redirects are not followed)"),
    ],
)
async def test_webhook_status_classification(status: int, permanent: bool, reason: str) -> None:
    channel = webhook_channel()
    try:
        with webhook_server(status=status, location="/elsewhere") as hook:
            message = outgoing(hook.url)
            with pytest.raises(DeliveryError) as caught:
                await channel.send(message)
            assert len(hook.requests) == 1  # a redirect is not followed
    finally:
        await channel.close()
    assert caught.value.permanent is permanent
    assert caught.value.reason == reason
    assert_not_echoed(caught.value.reason, hook.url, TEXT)


async def test_webhook_recovers_when_the_receiver_does() -> None:
    channel = webhook_channel()
    try:
        with webhook_server(status=503) as hook:
            message = outgoing(hook.url)
            with pytest.raises(DeliveryError):
                await channel.send(message)
            hook.status = 204
            await channel.send(message)
            ids = [r.headers["Kenett-Delivery-Id"] for r in hook.requests]
    finally:
        await channel.close()
    assert ids == [str(message.delivery_id)] * 2


async def test_webhook_unreachable_is_transient() -> None:
    channel = webhook_channel()
    url = f"http://127.0.0.1:{free_port()}/hook"
    try:
        with pytest.raises(DeliveryError) as caught:
            await channel.send(outgoing(url))
    finally:
        await channel.close()
    assert not caught.value.permanent
    assert caught.value.reason == "webhook unreachable (ConnectError)"
    assert caught.value.__cause__ is None


async def test_webhook_without_secret_is_permanent() -> None:
    channel = webhook_channel(webhook_secret="")
    with webhook_server() as hook:
        with pytest.raises(DeliveryError) as caught:
            await channel.send(outgoing(hook.url))
        assert hook.requests == []
    assert caught.value.permanent
    assert caught.value.reason == "no webhook secret configured (KENETT_WEBHOOK_SECRET)"


async def test_webhook_invalid_url_at_send_is_permanent() -> None:
    channel = webhook_channel()
    with pytest.raises(DeliveryError) as caught:
        await channel.send(outgoing("http://hooks.eksempel.no/kenett"))
    assert caught.value.permanent
    assert caught.value.reason == "webhook URL must use https (http only for localhost)"


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://hooks.eksempel.no/kenett?k=1", "https://hooks.eksempel.no/kenett?k=1"),
        ("  HTTPS://Hooks.Eksempel.NO:8443/kenett ", "https://hooks.eksempel.no:8443/kenett"),
        ("http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/hook"),
        ("http://localhost/hook", "http://localhost/hook"),
        ("http://[::1]:9000/hook", "http://[::1]:9000/hook"),
    ],
)
def test_webhook_url_accepted(url: str, normal: str) -> None:
    assert webhook_channel().validate_address(url) == normal


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.eksempel.no/kenett", "webhook URL must use https (http only for localhost)"),
        ("http://hooks.eksempel.no/kenett", "webhook URL must use https (http only for localhost)"),
        ("http://10.20.30.40/kenett", "webhook URL must use https (http only for localhost)"),
        ("https://bruker:passord@hooks.eksempel.no/", "webhook URL must not contain credentials"),
        ("https://hooks.eksempel.no/kenett#del", "webhook URL must not contain a fragment (#)"),
        ("hooks.eksempel.no/kenett", "webhook URL must be absolute (https://host/path)"),
        ("https:hooks.eksempel.no/kenett", "webhook URL must be absolute (https://host/path)"),
        ("https:///kenett", "webhook URL has no host"),
        ("https://hooks.eksempel.no:99999/", "webhook URL is malformed"),
        ("https://[hooks.eksempel.no/", "webhook URL is malformed"),
        (
            "https://hooks eksempel.no/",
            "webhook URL is malformed (it contains spaces or control characters)",
        ),
        (
            "https://hooks%20eksempel.no/",
            "webhook URL is malformed (the host is not a valid name or IP address)",
        ),
        ("", "webhook URL is empty"),
    ],
)
def test_webhook_url_refused_without_echo(url: str, reason: str) -> None:
    with pytest.raises(AddressInvalid) as caught:
        webhook_channel().validate_address(url)
    assert str(caught.value) == reason
    for part in ("eksempel", "bruker", "passord", "10.20.30.40"):
        assert part not in str(caught.value)


# --- SMS -------------------------------------------------------------------------------------


async def test_sms_dev_sender_records_once_per_reference(tmp_path: Path) -> None:
    outbox = tmp_path / "nested" / "dir" / "sms.jsonl"
    sender = DevSmsSender(outbox)
    channel = SmsChannel(sender)
    message = outgoing("912 34 567", text="Ny melding i kenett.")

    await channel.send(message)
    await channel.send(message)

    records = read_dev_log(outbox)
    assert len(records) == 1
    assert records[0]["reference"] == str(message.delivery_id)
    assert records[0]["to"] == "+4791234567"
    assert records[0]["text"] == "Ny melding i kenett."
    assert datetime.fromisoformat(records[0]["at"]).tzinfo is not None
    assert sender.sent == records

    # A new process (a new sender on the same file) still knows the reference.
    again = DevSmsSender(outbox)
    await SmsChannel(again).send(message)
    assert again.sent == []
    assert len(read_dev_log(outbox)) == 1

    other = outgoing("+46701234567", text="Ny melding.")
    await SmsChannel(again).send(other)
    assert [r["reference"] for r in read_dev_log(outbox)] == [
        str(message.delivery_id),
        str(other.delivery_id),
    ]
    assert len(again.sent) == 1


def test_read_dev_log_of_missing_file_is_empty(tmp_path: Path) -> None:
    assert read_dev_log(tmp_path / "none.jsonl") == []


@pytest.mark.parametrize(
    ("number", "normal"),
    [
        ("912 34 567", "+4791234567"),
        ("41234567", "+4741234567"),
        ("+47 912 34 567", "+4791234567"),
        ("+46701234567", "+46701234567"),
        (" +4791234567 ", "+4791234567"),
    ],
)
def test_sms_number_normalised(number: str, normal: str) -> None:
    assert SmsChannel(DevSmsSender(Path("unused.jsonl"))).validate_address(number) == normal


@pytest.mark.parametrize(
    "number",
    [
        "22334455",  # a landline
        "81234567",
        "9123456",  # 7 digits
        "912345678",  # 9 digits
        "+0791234567",
        "+47123",
        "+4791234567890123",
        "0047 912 34 567",
        "912-34-567",
        "+47 abc 34 567",
        "９１２３４５６７",  # full-width digits
    ],
)
def test_sms_bad_number_refused_without_echo(number: str) -> None:
    with pytest.raises(AddressInvalid) as caught:
        SmsChannel(DevSmsSender(Path("unused.jsonl"))).validate_address(number)
    assert str(caught.value) == NOT_MOBILE
    assert number.replace(" ", "") not in str(caught.value)


async def test_sms_longer_than_160_is_refused_permanently(tmp_path: Path) -> None:
    outbox = tmp_path / "sms.jsonl"
    channel = SmsChannel(DevSmsSender(outbox))
    with pytest.raises(DeliveryError) as caught:
        await channel.send(outgoing("91234567", text="x" * 161))
    assert caught.value.permanent
    assert "x" * 10 not in caught.value.reason
    assert read_dev_log(outbox) == []

    await channel.send(outgoing("91234567", text="x" * 160))
    assert len(read_dev_log(outbox)) == 1


async def test_sms_bad_number_at_send_is_permanent(tmp_path: Path) -> None:
    channel = SmsChannel(DevSmsSender(tmp_path / "sms.jsonl"))
    with pytest.raises(DeliveryError) as caught:
        await channel.send(outgoing("22334455"))
    assert caught.value.permanent
    assert caught.value.reason == NOT_MOBILE


# --- discovery -------------------------------------------------------------------------------


async def test_discovery_finds_the_three_channels(tmp_path: Path) -> None:
    installed = discover_channels()
    assert {"email", "webhook", "sms"} <= set(installed)
    settings = Settings(org=ORG, var_dir=tmp_path / "var", webhook_secret=SECRET)
    expected = {"email": EmailChannel, "webhook": WebhookChannel, "sms": SmsChannel}
    titles = {"email": "E-post", "webhook": "Webhook", "sms": "SMS"}
    for name, cls in expected.items():
        plugin = installed[name].plugin
        assert isinstance(plugin, ChannelPlugin)
        assert plugin.name == name
        assert plugin.description
        channel = plugin.factory(settings)
        assert type(channel) is cls
        assert channel.name == name
        assert channel.title == titles[name]
        await channel.close()
    assert WebhookChannel.respects_quiet_hours is False
    assert EmailChannel.respects_quiet_hours is True
    assert SmsChannel.max_text == 160


async def test_sms_plugin_writes_to_var_dir_by_default(tmp_path: Path) -> None:
    settings = Settings(org=ORG, var_dir=tmp_path / "var")
    channel = discover_channels()["sms"].plugin.factory(settings)
    await channel.send(outgoing("91234567"))
    assert len(read_dev_log(tmp_path / "var" / "sms-outbox.jsonl")) == 1

    explicit = tmp_path / "elsewhere" / "sms.jsonl"
    channel = discover_channels()["sms"].plugin.factory(Settings(sms_dev_log=explicit))
    await channel.send(outgoing("91234567"))
    assert len(read_dev_log(explicit)) == 1
