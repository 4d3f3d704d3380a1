"""Notices through channels, against real local servers: e-mail over SMTP (aiosmtpd), a signed
webhook (an HTTP server), the development SMS log, and a third-party channel installed for the
test. Quiet hours and digests on a fake clock; retries, the dead-letter stream and re-sending;
never twice, even when a process dies mid-send or an event comes again."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.notifications import domain
from services.notifications.channels.sms import read_dev_log
from services.notifications.channels.webhook import verify
from services.notifications.handlers import runtime_of
from shared.bus.deadletter import read_dead_letters, resend_dead_letter
from shared.client import RequestFailed
from shared.clock import OSLO, FixedClock
from shared.contracts import assignment as a
from shared.contracts import consent as c
from shared.contracts import intake
from shared.contracts import notifications as n
from tests.channel_servers import SmtpServer, WebhookServer, smtp_server, webhook_server
from tests.conftest import System
from tests.helpers import STAFF, register_coordinator, report_need
from tests.integration.test_consent_flows import consent

pytestmark = pytest.mark.nats
WAIT = 15.0
SECRET = "test-webhook-secret-synthetic"
LOGIN = "https://kenett.testorg.example.no"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 23, 10, 0, tzinfo=OSLO))


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    async with smtp_server() as server:
        yield server


@pytest.fixture
def hook() -> Iterator[WebhookServer]:
    with webhook_server(status=200) as server:
        yield server


@pytest.fixture
def extra_settings(smtp: SmtpServer, tmp_path: Path) -> dict[str, Any]:
    return {
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_from": "kenett@testorg.example.no",
        "webhook_secret": SECRET,
        "sms_dev_log": str(tmp_path / "sms.jsonl"),
        "login_url": LOGIN,
    }


async def coordinator_with(system: System, **prefs: Any) -> uuid.UUID:
    who = uuid.UUID(
        (await system.client.command("assignment", register_coordinator()))["coordinator_id"]
    )
    await system.client.command(
        "notifications",
        n.SetPreferences(
            actor=STAFF, recipient=n.RecipientRef(kind="coordinator", id=who), **prefs
        ),
    )
    return who


async def appointed_case(
    system: System, clock: FixedClock, to: uuid.UUID | None = None
) -> intake.ReportNeedResult:
    """A case, coordinator consent, and an appointment (by kenett, or by the KE to ``to``):
    the coordinator is told."""
    report = intake.ReportNeedResult.model_validate(
        await system.client.command("intake", report_need())
    )
    await consent(system, report.case_id, c.ConsentKind.COORDINATOR, clock)
    ev = system.events
    if to is not None:
        await ev.wait_until(
            lambda: ev.matching("assignment.case_awaiting_coordinator", report.case_id), WAIT
        )
        await system.client.command(
            "assignment",
            a.AppointCoordinator(actor=STAFF, case_id=report.case_id, coordinator_id=to),
        )
    await ev.wait_until(
        lambda: [
            e
            for e in ev.matching("notifications.notification_created", report.case_id)
            if e.payload["kind"] == "coordinator_appointed"
        ],
        WAIT,
    )
    return report


async def sweep(system: System) -> n.SweepResult:
    return n.SweepResult.model_validate(
        await system.client.command("notifications", n.SweepNotifications(actor=STAFF))
    )


async def deliveries(system: System, **kw: Any) -> list[n.DeliveryView]:
    return n.Deliveries.model_validate(
        await system.client.query("notifications", n.ListDeliveries(actor=STAFF, **kw))
    ).deliveries


async def test_email_webhook_and_sms_carry_only_that_something_waits_and_where_to_log_in(
    smtp: SmtpServer,
    hook: WebhookServer,
    extra_settings: dict[str, Any],
    system: System,
    clock: FixedClock,
) -> None:
    who = await coordinator_with(
        system,
        addresses={
            "email": "koordinator@testorg.example.no",
            "webhook": hook.url,
            "sms": "91234567",
        },
        channels=["email", "webhook", "sms"],
    )
    report = await appointed_case(system, clock)
    await sweep(system)
    sent = await deliveries(system, recipient_id=who)
    assert sorted((d.channel, d.status) for d in sent) == [
        ("email", "sent"),
        ("sms", "sent"),
        ("webhook", "sent"),
    ]
    by_channel = {d.channel: d for d in sent}
    # E-mail, from a real SMTP server.
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    body = mail.get_content()
    assert (
        mail["To"] == "koordinator@testorg.example.no" and mail["Subject"] == "Ny melding i kenett"
    )
    assert LOGIN in body and mail["Message-ID"].startswith(f"<{by_channel['email'].delivery_id}@")
    # A signed webhook, to a real HTTP server.
    assert len(hook.requests) == 1
    request = hook.requests[0]
    assert verify(SECRET.encode(), dict(request.headers), request.body, now=time.time())
    posted = json.loads(request.body)
    assert posted["kind"] == "coordinator_appointed" and posted["login_url"] == LOGIN
    assert request.headers["Kenett-Delivery-Id"] == posted["delivery_id"]
    # The development SMS log.
    texts = read_dev_log(extra_settings["sms_dev_log"])
    assert [t["to"] for t in texts] == ["+4791234567"]
    # Nothing of the case or the person leaves: no case reference, no identity number.
    national_id = report_need().national_id  # any synthetic number: none may appear
    for text in (body, mail["Subject"], request.body.decode(), texts[0]["text"]):
        assert report.case_ref not in text
        assert national_id not in text
        assert "Synthetic Koordinator" not in text
    assert (await sweep(system)).sent == 0  # never twice


@pytest.mark.kenett_settings(auto_appoint=False)
async def test_quiet_hours_hold_e_mail_until_morning_and_a_digest_counts_the_unread(
    smtp: SmtpServer, extra_settings: dict[str, Any], system: System, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 11, 23, 22, 30, tzinfo=OSLO))
    night = await coordinator_with(
        system, addresses={"email": "natt@testorg.example.no"}, channels=["email"]
    )
    await appointed_case(system, clock, to=night)
    await sweep(system)
    assert smtp.messages == []  # 21-07 is quiet by the org's default
    [held] = await deliveries(system, recipient_id=night)
    assert held.status == "pending" and held.next_attempt_at == datetime(
        2026, 11, 24, 7, 0, tzinfo=OSLO
    )
    clock.set(datetime(2026, 11, 24, 7, 1, tzinfo=OSLO))
    await sweep(system)
    assert [m["To"] for m in smtp.messages] == ["natt@testorg.example.no"]

    # A coordinator who chose a daily digest: three notices, one read, one e-mail at 07:30.
    digest = await coordinator_with(
        system, addresses={"email": "samlet@testorg.example.no"}, channels=["email"], digest=True
    )
    for _ in range(3):
        await appointed_case(system, clock, to=digest)
    box = n.Inbox.model_validate(
        await system.client.query("notifications", n.ListInbox(actor=STAFF, recipient_id=digest))
    )
    assert len(box.notifications) == 3 and box.unread == 3
    await system.client.command(
        "notifications",
        n.MarkRead(
            actor=STAFF,
            recipient_id=digest,
            notification_ids=[box.notifications[0].notification_id],
            by="koord-x",
        ),
    )
    await sweep(system)
    assert [m["To"] for m in smtp.messages] == ["natt@testorg.example.no"]  # held for the digest
    clock.set(datetime(2026, 11, 24, 7, 31, tzinfo=OSLO))
    assert (await sweep(system)).digests == 1
    digests = [m for m in smtp.messages if m["To"] == "samlet@testorg.example.no"]
    assert len(digests) == 1 and "Du har 2 nye meldinger i kenett" in digests[0].get_content()
    assert (await sweep(system)).digests == 0  # once a day
    clock.advance(timedelta(days=1))
    assert (await sweep(system)).digests == 0  # nothing new to count


async def test_a_failing_webhook_is_retried_with_backoff_then_dead_lettered_and_can_be_resent(
    hook: WebhookServer, extra_settings: dict[str, Any], system: System, clock: FixedClock
) -> None:
    hook.status = 503
    who = await coordinator_with(system, addresses={"webhook": hook.url}, channels=["webhook"])
    await appointed_case(system, clock)
    await sweep(system)
    [d] = await deliveries(system, recipient_id=who)
    assert d.status == "pending" and d.attempts == 1 and "503" in (d.last_error or "")
    assert d.next_attempt_at == clock.now() + timedelta(seconds=10)  # the webhook's first backoff
    for wait in (10, 60, 300, 1800):
        clock.advance(timedelta(seconds=wait))
        await sweep(system)
    [d] = await deliveries(system, recipient_id=who)
    assert d.status == "dead" and d.attempts == 5
    dead = await system.events.wait_until(
        lambda: system.events.matching("notifications.delivery_dead"), WAIT
    )
    await system.settled("notifications", dead[0])  # copied to the dead-letter stream
    letters = list(await read_dead_letters(system.nc.jetstream(), "testorg"))
    assert len(letters) == 1
    assert letters[0].consumer == "notifications-delivery-webhook"
    assert "gave up after 5 attempts" in letters[0].reason and "503" in letters[0].reason
    assert len({r.headers["Kenett-Delivery-Id"] for r in hook.requests}) == 1

    hook.status = 204  # the org's system is back
    what = await resend_dead_letter(system.nc, letters[0].seq, STAFF)
    assert "notifications.resend" in what
    await sweep(system)
    [d] = await deliveries(system, recipient_id=who)
    assert d.status == "sent"
    assert await read_dead_letters(system.nc.jetstream(), "testorg") == []
    assert len(hook.requests) == 6
    assert len({r.headers["Kenett-Delivery-Id"] for r in hook.requests}) == 1  # one key


async def test_never_twice_when_a_process_dies_mid_send_or_the_event_comes_again(
    hook: WebhookServer, extra_settings: dict[str, Any], system: System, clock: FixedClock
) -> None:
    who = await coordinator_with(system, addresses={"webhook": hook.url}, channels=["webhook"])
    rt = runtime_of(system.host.contexts["notifications"])
    # Hold the dispatcher's lock while the notice is made, so the claim below is ours.
    async with rt.dispatcher._running:
        report = await appointed_case(system, clock)
        claimed = await rt.dispatcher._claim()  # claimed, then the process "dies"
    assert len(claimed) == 1
    await sweep(system)
    assert hook.requests == []  # the claim still holds
    clock.advance(timedelta(minutes=3))  # ... until its lease runs out
    await sweep(system)
    assert len(hook.requests) == 1
    [d] = await deliveries(system, recipient_id=who)
    assert d.status == "sent" and d.attempts == 2
    assert hook.requests[0].headers["Kenett-Delivery-Id"] == str(d.delivery_id)

    # The trigger comes again (a redelivery, a replay): nobody is told twice.
    ev = system.events
    appointed = ev.matching("assignment.coordinator_appointed", report.case_id)[0]
    await system.nc.jetstream().publish(
        appointed.subject,
        appointed.model_dump_json().encode(),
        headers={"Nats-Msg-Id": f"replay-{uuid.uuid4()}"},
    )
    seen = system.handled["notifications"]
    await seen.wait_until(lambda: sum(1 for e in seen.events if e.id == appointed.id) >= 2, WAIT)
    box = n.Inbox.model_validate(
        await system.client.query("notifications", n.ListInbox(actor=STAFF, recipient_id=who))
    )
    assert [x.kind for x in box.notifications] == ["coordinator_appointed"]
    await sweep(system)
    assert len(hook.requests) == 1 and len(await deliveries(system, recipient_id=who)) == 1


@pytest.mark.kenett_settings(auto_appoint=False)
async def test_bad_input_is_recorded_against_its_notice_while_others_flow(
    smtp: SmtpServer,
    extra_settings: dict[str, Any],
    system: System,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = await coordinator_with(
        system, addresses={"email": "avvist@testorg.example.no"}, channels=["email"]
    )
    no_address = await coordinator_with(system, channels=["email"])
    fine = await coordinator_with(
        system, addresses={"email": "ok@testorg.example.no"}, channels=["email"]
    )
    smtp.rcpt_reply = "550 5.1.1 no such mailbox"  # before: the dispatcher sends at once
    await appointed_case(system, clock, to=refused)
    await sweep(system)
    smtp.rcpt_reply = None
    [dead] = await deliveries(system, recipient_id=refused)
    assert dead.status == "dead" and dead.attempts == 1  # retrying cannot help
    assert "refused the recipient" in (dead.last_error or "") and "550" in (dead.last_error or "")
    assert "avvist" not in (dead.last_error or "")  # the address is not repeated

    await appointed_case(system, clock, to=no_address)
    [told] = n.Inbox.model_validate(
        await system.client.query(
            "notifications", n.ListInbox(actor=STAFF, recipient_id=no_address)
        )
    ).notifications
    assert told.problem and "no address registered for email" in told.problem
    assert await deliveries(system, recipient_id=no_address) == []

    # A template that cannot be rendered: the notice is still made, with the reason.
    monkeypatch.setitem(
        domain.TEMPLATES, domain.NoticeKind.COORDINATOR_APPOINTED, "Hei {navn}, sak {case_ref}"
    )
    await appointed_case(system, clock, to=fine)
    [broken] = n.Inbox.model_validate(
        await system.client.query("notifications", n.ListInbox(actor=STAFF, recipient_id=fine))
    ).notifications
    assert broken.text == "Du har et nytt varsel i kenett. Logg inn for å se det."
    assert broken.problem and "could not be made" in broken.problem and "navn" in broken.problem
    await sweep(system)
    assert [m["To"] for m in smtp.messages] == ["ok@testorg.example.no"]  # the others flow
    [ok] = await deliveries(system, recipient_id=fine)
    assert ok.status == "sent"


PIGEON = """
from shared.channels import Channel, ChannelPlugin, AddressInvalid

SENT = []


class Pigeon(Channel):
    name = "pigeon"
    title = "Brevdue"

    def validate_address(self, address):
        if not address.startswith("due-"):
            raise AddressInvalid("a pigeon address starts with due-")
        return address

    async def send(self, message):
        SENT.append(message)


plugin = ChannelPlugin(name="pigeon", description="Brevdue (test)", factory=lambda s: Pigeon())
"""


@pytest.fixture
def pigeon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A third-party channel, installed (as far as Python can tell) for this test only."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "kenett_pigeon.py").write_text(PIGEON)
    dist = site / "kenett_pigeon-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kenett-pigeon\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[kenett.channels]\npigeon = kenett_pigeon:plugin\n")
    monkeypatch.syspath_prepend(str(site))
    return site


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_third_party_channel_is_picked_up_without_changing_kenett(
    pigeon: Path, system: System, clock: FixedClock
) -> None:
    import kenett_pigeon  # type: ignore[import-not-found]

    channels = n.Channels.model_validate(
        await system.client.query("notifications", n.ListChannels(actor=STAFF))
    )
    assert "pigeon" in [ch.name for ch in channels.channels]
    who = await coordinator_with(system, addresses={"pigeon": "due-7"}, channels=["pigeon"])
    await appointed_case(system, clock)
    await sweep(system)
    assert [m.recipient_id for m in kenett_pigeon.SENT] == [who]
    assert kenett_pigeon.SENT[0].text.startswith("Du har en ny melding i kenett")
    listed = await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).parent / "kenett"), "plugins", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(pigeon)},
        check=True,
    )
    rows = {r["name"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows["pigeon"]["kind"] == "channel"
    assert rows["pigeon"]["distribution"] == "kenett-pigeon"
    assert rows["email"]["kind"] == "channel" and rows["planning"]["kind"] == "service"


async def test_a_malformed_webhook_url_or_e_mail_address_is_refused_with_the_field(
    extra_settings: dict[str, Any], system: System
) -> None:
    who = n.RecipientRef(kind="staff", id=uuid.uuid4())
    for channel, address, hint in (
        ("webhook", "ftp://hooks.example.no/x", "https"),
        ("webhook", "https://bruker:hemmelig@hooks.example.no/x", "credentials"),
        ("webhook", "http://hooks.example.no/x", "https"),
        ("email", "ola.testesen@", ""),
        ("email", "ikke en adresse", ""),
    ):
        with pytest.raises(RequestFailed) as info:
            await system.client.command(
                "notifications",
                n.SetPreferences(actor=STAFF, recipient=who, addresses={channel: address}),
            )
        error = info.value.error
        assert error.code == "validation_failed"
        assert error.fields[0].field == f"addresses.{channel}"
        assert hint in error.fields[0].reason
        assert address not in error.message + error.fields[0].reason  # never echoed
        assert "hemmelig" not in error.fields[0].reason and "testesen" not in error.fields[0].reason
    stored = n.Preferences.model_validate(
        await system.client.query("notifications", n.GetPreferences(actor=STAFF, recipient=who))
    )
    assert stored.addresses == {}  # nothing was stored
