"""The KE hears of federation's events (R17) on a real nats-server, SQLite and PostgreSQL: a
message refused or without a receipt in time, a handover proposed by another organisation or
answered by it. The events are published here as federation publishes them."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

import pytest

from shared.clock import OSLO, FixedClock
from shared.contracts import federation as f
from shared.contracts import notifications as n
from shared.contracts.envelope import Actor, Envelope, Event
from tests.conftest import System
from tests.helpers import STAFF, national_id

pytestmark = pytest.mark.nats
KE = n.ke_inbox("testorg")
OTHER = "lund"


@pytest.fixture
def clock() -> FixedClock:
    """Daytime in Norway, so that quiet hours (21-07 by default) hold nothing back."""
    return FixedClock(datetime(2026, 11, 23, 10, 0, tzinfo=OSLO))


async def publish(
    system: System, event: Event, case_id: uuid.UUID | None, env: Envelope | None = None
) -> Envelope:
    """Publish as federation does, and wait until notifications has handled it."""
    env = env or Envelope.wrap(
        event,
        org=system.settings.org,
        occurred_at=datetime.now(OSLO),
        actor=Actor(kind="service", id="federation"),
        case_id=case_id,
    )
    seen = system.handled["notifications"]
    before = sum(1 for e in seen.events if e.id == env.id)
    js = system.nc.jetstream()
    # A fresh Nats-Msg-Id lets a test publish the same envelope twice (a redelivery).
    await js.publish(
        env.subject, env.model_dump_json().encode(), headers={"Nats-Msg-Id": str(uuid.uuid4())}
    )
    await seen.wait_until(lambda: sum(1 for e in seen.events if e.id == env.id) > before, 15.0)
    return env


async def told(system: System, env: Envelope) -> list[n.NotificationView]:
    """The KE's notices this envelope made."""
    notices = n.Inbox.model_validate(
        await system.client.query("notifications", n.ListInbox(actor=STAFF, recipient_id=KE))
    ).notifications
    created = {
        e.payload["notification_id"]
        for e in system.events.matching(
            "notifications.notification_created", trigger_event_id=str(env.id)
        )
    }
    return [x for x in notices if str(x.notification_id) in created]


def no_personal_data(text: str, *forbidden: str) -> None:
    assert not re.search(r"\d{11}", text)
    assert "Testesen" not in text
    assert OTHER not in text.lower()
    for word in forbidden:
        assert word not in text


async def wait_told(system: System, env: Envelope) -> list[n.NotificationView]:
    await system.events.wait_until(
        lambda: system.events.matching(
            "notifications.notification_created", trigger_event_id=str(env.id)
        ),
        15.0,
    )
    return await told(system, env)


async def test_r17_the_ke_hears_of_refusals_overdue_receipts_and_handovers(
    system: System, clock: FixedClock
) -> None:
    case_id = uuid.uuid4()
    fnr = national_id(date(2010, 5, 17))
    link_id = uuid.uuid4()

    # A refusal of a need report: the hospital side has no case of its own.
    refused = await publish(
        system,
        f.MessageRefused(
            link_id=link_id,
            message_id=uuid.uuid4(),
            to_org=OTHER,
            message_type="need_report",
            code="unknown_person",
        ),
        None,
    )
    sent_at = datetime(2026, 11, 20, 14, 30, tzinfo=OSLO)
    overdue = await publish(
        system,
        f.ReceiptOverdue(
            link_id=link_id,
            message_id=uuid.uuid4(),
            to_org=OTHER,
            message_type="need_report",
            sent_at=sent_at,
        ),
        case_id,
    )
    proposed = await publish(
        system,
        f.HandoverProposed(
            link_id=link_id, proposal_id=uuid.uuid4(), from_org=OTHER, start=date(2026, 12, 1)
        ),
        case_id,
    )
    answered = await publish(
        system,
        f.HandoverAnswered(
            link_id=link_id,
            proposal_id=uuid.uuid4(),
            by_org=OTHER,
            accepted=True,
            start=date(2026, 12, 1),
            overlap_until=date(2026, 12, 8),
        ),
        case_id,
    )

    expected = [
        (refused, "xorg_message_refused", True, None, "ble avvist"),
        (overdue, "xorg_receipt_overdue", True, case_id, "20. november 2026"),
        (proposed, "xorg_handover_proposed", True, case_id, "fra 1. desember 2026"),
        (answered, "xorg_handover_answered", False, case_id, "har svart på forslaget"),
    ]
    for env, kind, important, case, words in expected:
        notices = await wait_told(system, env)
        assert len(notices) == 1, kind
        notice = notices[0]
        assert notice.kind == kind
        assert notice.important is important
        assert notice.case_id == case
        assert notice.problem is None, notice.problem  # the text was made, the KE has it
        assert words in notice.text
        assert "Logg inn i kenett" in notice.text
        no_personal_data(notice.text, fnr, str(case_id), str(link_id))

    # The important ones are in the KE's list of unread important notices at once.
    unread = n.UnreadImportant.model_validate(
        await system.client.query(
            "notifications", n.ListUnreadImportant(actor=STAFF, older_than_hours=0)
        )
    )
    kinds = {x.kind for x in unread.notices if x.recipient_id == KE}
    assert {"xorg_message_refused", "xorg_receipt_overdue", "xorg_handover_proposed"} <= kinds
    assert "xorg_handover_answered" not in kinds


async def test_r17_a_redelivered_federation_event_tells_the_ke_once(system: System) -> None:
    event = f.HandoverProposed(
        link_id=uuid.uuid4(), proposal_id=uuid.uuid4(), from_org=OTHER, start=date(2026, 12, 1)
    )
    case_id = uuid.uuid4()
    env = await publish(system, event, case_id)
    assert len(await wait_told(system, env)) == 1
    await publish(system, event, case_id, env=env)  # the same envelope again
    box = n.Inbox.model_validate(
        await system.client.query("notifications", n.ListInbox(actor=STAFF, recipient_id=KE))
    )
    assert [x.kind for x in box.notifications if x.case_id == case_id] == ["xorg_handover_proposed"]


async def test_r17_a_refused_answer_is_told_too(system: System) -> None:
    """A refusal carries no dates; the KE still hears that the answer came."""
    env = await publish(
        system,
        f.HandoverAnswered(
            link_id=uuid.uuid4(), proposal_id=uuid.uuid4(), by_org=OTHER, accepted=False
        ),
        None,
    )
    notices = await wait_told(system, env)
    assert [x.kind for x in notices] == ["xorg_handover_answered"]
    assert notices[0].case_id is None and notices[0].problem is None
    assert notices[0].important is False
