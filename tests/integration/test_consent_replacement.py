"""R7: the person decides who gets access to what, and for how long, and may change their mind.
A second sharing consent does not narrow the first (both count), so a new decision names the
consent it replaces: the earlier one stops as the new one starts, in one transaction, with no
moment where both count and none where neither does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.client import RequestFailed
from shared.clock import OSLO, FixedClock
from shared.contracts import consent as c
from tests.conftest import System
from tests.helpers import STAFF, kenett_cli, national_id, report_need
from tests.integration.test_consent_flows import HEALTH, PROVIDER, case_with_plan, consent, gate

pytestmark = pytest.mark.nats
HOUSING = c.LifeArea.HOUSING
MEASURES = c.ContentKind.MEASURES


def sharing(*areas: c.LifeArea) -> c.SharingScope:
    return c.SharingScope(
        recipients=[PROVIDER.id], life_areas=list(areas), content_kinds=[MEASURES]
    )


async def may_read(system: System, case_id: uuid.UUID, area: c.LifeArea) -> bool:
    decision = await gate(system, case_id, life_area=area, content_kind=MEASURES)
    return decision.allow


async def history(system: System, case_id: uuid.UUID) -> dict[uuid.UUID, c.ConsentView]:
    found = c.ConsentHistory.model_validate(
        await system.client.query("consent", c.ListConsents(actor=STAFF, case_id=case_id))
    )
    return {v.consent_id: v for v in found.consents}


async def test_r7_a_new_sharing_decision_replaces_the_old_one_and_narrows_at_once(
    system: System,
) -> None:
    case_id = await case_with_plan(system)
    wide = await consent(system, case_id, c.ConsentKind.SHARING, sharing=sharing(HEALTH, HOUSING))
    assert await may_read(system, case_id, HOUSING) and await may_read(system, case_id, HEALTH)

    # The person now shares only health care: the new consent names the one it replaces.
    result = await system.client.command(
        "consent",
        c.RecordConsent(
            actor=STAFF,
            case_id=case_id,
            kind=c.ConsentKind.SHARING,
            given_by=c.GivenBy(role=c.GiverRole.PERSON),
            form="written",
            recorded_by=STAFF.id,
            given_at=datetime.now(UTC) - timedelta(minutes=5),
            sharing=sharing(HEALTH),
            replaces=wide,
        ),
    )
    recorded = c.RecordConsentResult.model_validate(result)
    assert recorded.replaced == wide and recorded.replaced_ends_at is not None
    # Housing is no longer shared; health care still is, on the new consent (no gap).
    assert not await may_read(system, case_id, HOUSING)
    assert await may_read(system, case_id, HEALTH)
    consents = await history(system, case_id)
    assert consents[wide].status == "withdrawn"
    assert consents[recorded.consent_id].status == "active"
    assert [ch["change"] for ch in consents[wide].history] == ["recorded", "replaced", "withdrawn"]
    ev = system.events
    ended = await ev.wait_until(
        lambda: ev.matching("consent.consent_ended", case_id, consent_id=str(wide)), 15.0
    )
    assert ended[0].payload["cause"] == "withdrawn"
    # The KE reads it so in `kenett consent list`.
    shown = await kenett_cli(system, "consent", "list", str(case_id), actor=STAFF.id, columns=200)
    assert shown.returncode == 0, shown.stderr
    assert "trukket (erstattet)" in shown.stdout, shown.stdout


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_r7_a_replacement_counts_at_once_and_an_expired_consent_is_not_replaced(
    system: System, clock: FixedClock
) -> None:
    """A replacement that would start later is refused (it would leave the earlier consent
    half-replaced, its end told to nobody); so is one of a consent that has ended on the clock
    but that the sweep has not marked yet."""
    clock.set(datetime(2026, 12, 8, 12, tzinfo=OSLO).astimezone(UTC))
    case_id = await case_with_plan(system, clock)
    wide = await consent(
        system,
        case_id,
        c.ConsentKind.SHARING,
        clock,
        sharing=sharing(HEALTH, HOUSING),
        valid_until=datetime(2026, 12, 20, tzinfo=OSLO),
    )
    body = {
        "actor": STAFF,
        "case_id": case_id,
        "kind": c.ConsentKind.SHARING,
        "given_by": c.GivenBy(role=c.GiverRole.PERSON),
        "form": "written",
        "recorded_by": STAFF.id,
        "sharing": sharing(HEALTH),
        "replaces": wide,
    }
    with pytest.raises(RequestFailed) as later:
        await system.client.command(
            "consent",
            c.RecordConsent(
                **body,
                given_at=clock.now() - timedelta(minutes=5),
                valid_from=datetime(2026, 12, 15, tzinfo=OSLO),
            ),
        )
    assert later.value.error.fields[0].field == "valid_from"
    assert await may_read(system, case_id, HOUSING)  # nothing changed

    clock.set(datetime(2026, 12, 20, 0, 30, tzinfo=OSLO).astimezone(UTC))  # before the sweep
    with pytest.raises(RequestFailed) as expired:
        await system.client.command(
            "consent", c.RecordConsent(**body, given_at=clock.now() - timedelta(minutes=5))
        )
    assert expired.value.error.fields[0].reason == "the consent has already expired"
    consents = await history(system, case_id)
    assert [h["change"] for h in consents[wide].history] == ["recorded"]
    assert len(consents) == 3  # coordinator, IP and the sharing consent: nothing new


async def test_r7_a_replacement_that_cannot_be_made_is_refused_and_records_nothing(
    system: System,
) -> None:
    case_id = await case_with_plan(system)
    wide = await consent(system, case_id, c.ConsentKind.SHARING, sharing=sharing(HEALTH, HOUSING))
    other_case = (await system.client.command("intake", report_need(national_id=national_id())))[
        "case_id"
    ]
    before = await history(system, case_id)
    coordinator = next(k for k, v in before.items() if v.kind == "coordinator")

    async def refused(**kw: object) -> c.FieldError:
        body = {
            "actor": STAFF,
            "case_id": case_id,
            "kind": c.ConsentKind.SHARING,
            "given_by": c.GivenBy(role=c.GiverRole.PERSON),
            "form": "written",
            "recorded_by": STAFF.id,
            "given_at": datetime.now(UTC) - timedelta(minutes=5),
            "sharing": sharing(HEALTH),
            **kw,
        }
        with pytest.raises(RequestFailed) as failed:
            await system.client.command("consent", c.RecordConsent(**body))  # type: ignore[arg-type]
        assert failed.value.error.code == "rule_violation"
        return failed.value.error.fields[0]

    assert (await refused(replaces=uuid.uuid4())).reason == "unknown consent"
    assert (await refused(replaces=coordinator)).reason == (
        "the consent to replace is of another kind (coordinator)"
    )
    assert (await refused(case_id=other_case, replaces=wide)).reason == (
        "the consent to replace belongs to another case"
    )
    await system.client.command(
        "consent",
        c.WithdrawConsent(actor=STAFF, consent_id=wide, recorded_by=STAFF.id, form="oral"),
    )
    assert (await refused(replaces=wide)).reason == "the consent is already withdrawn"
    after = await history(system, case_id)
    assert set(after) == set(before)  # nothing recorded by any refusal
