"""The gate (R5-R8) and the consent rules around it (R6 at 16, R7 scope and time)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.consent.domain import (
    lapses_at_sixteen,
    parents_refusal,
    scope_refusal,
    sixteenth_birthday,
    validity_refusal,
)
from services.consent.gate import ConsentFacts, decide
from shared.contracts.consent import GiverRole

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def facts(
    kind: str,
    status: str = "active",
    grantees=(),
    areas=(),
    kinds=(),
    start: datetime = NOW - DAY,
    end: datetime | None = None,
) -> ConsentFacts:
    return ConsentFacts(
        uuid.uuid4(),
        kind,
        status,
        start,
        end,
        frozenset(grantees),
        frozenset(areas),
        frozenset(kinds),
    )


def ask(
    consents,
    who_kind="provider",
    who_id="hjemmesykepleien",
    action="read_plan",
    area="forebygging_helse_omsorg",
    kind="measures",
    now=NOW,
):
    return decide(
        consents,
        who_kind=who_kind,
        who_id=who_id,
        action=action,
        life_area=area,
        content_kind=kind,
        now=now,
    )


IP = facts("ip")
SHARE = facts(
    "sharing",
    grantees={"hjemmesykepleien"},
    areas={"forebygging_helse_omsorg"},
    kinds={"measures", "goals"},
)


def test_r5_no_plan_without_ip_consent_and_no_coordination_without_coordinator_consent() -> None:
    assert not ask([], action="create_plan").allow
    assert "no consent to an individual plan (R5)" in ask([], action="create_plan").reason
    assert ask([IP], action="create_plan").consent_id == IP.consent_id
    assert not ask([IP], action="coordinate").allow
    assert ask([facts("coordinator")], action="coordinate").allow


def test_r7_r15_a_provider_sees_only_the_life_areas_and_content_its_consent_covers() -> None:
    verdict = ask([IP, SHARE])
    assert verdict.allow
    assert verdict.consent_id == SHARE.consent_id
    assert not ask([IP, SHARE], kind="health_information").allow
    assert not ask([IP, SHARE], area="okonomi").allow
    denied = ask([IP, SHARE], who_id="nav")
    assert not denied.allow
    assert "no sharing consent names nav" in denied.reason


def test_r5_without_ever_an_ip_consent_there_is_no_plan_rather_than_a_frozen_one() -> None:
    verdict = ask([SHARE], who_kind="coordinator", who_id="k1")
    assert not verdict.allow
    assert verdict.reason == "no consent to an individual plan (R5): no plan is made without it"


def test_r7_withdrawn_ip_consent_freezes_the_plan_but_the_person_still_sees_it() -> None:
    withdrawn = facts("ip", status="withdrawn")
    verdict = ask([withdrawn, SHARE])
    assert not verdict.allow
    assert "withdrawn" in verdict.reason
    assert "frozen" in verdict.reason
    assert ask([withdrawn], who_kind="person", who_id="self").allow


def test_r7_time_limited_consent_expires() -> None:
    limited = facts("sharing", grantees={"nav"}, areas={"okonomi"}, kinds={"goals"}, end=NOW + DAY)
    assert ask([IP, limited], who_id="nav", area="okonomi", kind="goals").allow
    later = ask([IP, limited], who_id="nav", area="okonomi", kind="goals", now=NOW + 2 * DAY)
    assert not later.allow


def test_r5_declining_ip_keeps_the_coordinator_when_coordinator_consent_stands() -> None:
    consents = [facts("ip", status="withdrawn"), facts("coordinator")]
    assert ask(consents, action="coordinate").allow
    assert not ask(consents, action="create_plan").allow


def test_r8_next_of_kin_see_what_the_person_allows() -> None:
    nok = facts("next_of_kin", grantees={"mor"}, areas={"fritid"}, kinds={"goals"})
    assert ask([IP, nok], who_kind="next_of_kin", who_id="mor", area="fritid", kind="goals").allow
    assert not ask(
        [IP, nok], who_kind="next_of_kin", who_id="far", area="fritid", kind="goals"
    ).allow
    assert ask([nok], who_kind="next_of_kin", who_id="mor", action="notify").allow
    assert not ask([], who_kind="next_of_kin", who_id="mor", action="notify").allow


def test_r6_parents_consent_needing_renewal_denies_with_the_reason() -> None:
    lapsed = facts("ip", status="renewal_needed")
    verdict = ask([lapsed], action="create_plan")
    assert not verdict.allow
    assert "16th birthday" in verdict.reason
    assert "(R6)" in verdict.reason


def test_r6_parents_consent_stops_counting_when_the_16th_birthday_begins_before_the_sweep() -> None:
    """The sweep marks a parents' consent ``renewal_needed`` within a minute of midnight; the
    gate does not wait for it. Midnight is Norway's (CET here: 23:00 UTC the day before)."""
    birthday = date(2026, 11, 24)
    parents = dataclasses.replace(facts("ip"), lapses_on=birthday)
    coordinator = dataclasses.replace(facts("coordinator"), lapses_on=birthday)
    just_before = datetime(2026, 11, 23, 22, 59, 59, tzinfo=UTC)
    just_after = datetime(2026, 11, 23, 23, 0, 0, tzinfo=UTC)
    assert ask([parents], action="create_plan", now=just_before).allow
    verdict = ask([parents], action="create_plan", now=just_after)
    assert not verdict.allow and "16th birthday" in verdict.reason and "(R6)" in verdict.reason
    assert not ask([parents, coordinator], who_kind="coordinator", now=just_after).allow
    # The young person's own consent, valid from the birthday, takes over without a gap.
    own = facts("ip", start=just_after)
    assert ask([parents, own], action="create_plan", now=just_after).consent_id == own.consent_id
    assert ask([parents, own], action="create_plan", now=just_before).consent_id == (
        parents.consent_id
    )
    # A sharing consent the parents gave lapses the same way, and says so.
    sharing = dataclasses.replace(
        facts("sharing", grantees=["hjemmesykepleien"], areas=[HEALTH], kinds=["measures"]),
        lapses_on=birthday,
    )
    assert ask([parents, coordinator, sharing], area=HEALTH, now=just_before).allow
    verdict = ask([parents, own, coordinator, sharing], area=HEALTH, now=just_after)
    assert not verdict.allow and "16th birthday" in verdict.reason


@pytest.mark.parametrize(
    ("birth", "sixteen"),
    [
        (date(2010, 6, 1), date(2026, 6, 1)),
        (date(2008, 2, 29), date(2024, 2, 29)),
        (date(2012, 2, 29), date(2028, 2, 29)),
        (date(2009, 2, 28), date(2025, 2, 28)),
        (date(2011, 2, 28), date(2027, 2, 28)),
    ],
)
def test_r6_sixteenth_birthday(birth: date, sixteen: date) -> None:
    assert sixteenth_birthday(birth) == sixteen


def test_r6_a_29_february_birth_turns_16_on_29_february_or_else_1_march() -> None:
    # Sixteen years after a leap year is a leap year again, except across a century rule:
    # 2100 is not a leap year, so a child born 29 February 2084 turns 16 on 1 March 2100.
    assert sixteenth_birthday(date(2008, 2, 29)) == date(2024, 2, 29)
    assert sixteenth_birthday(date(2084, 2, 29)) == date(2100, 3, 1)


def test_r6_parents_consent_lapses_at_16_the_persons_own_does_not() -> None:
    assert lapses_at_sixteen(["parent"])
    assert lapses_at_sixteen(["barnevern"])
    assert not lapses_at_sixteen(["person"])


def test_r6_where_both_parents_have_responsibility_both_consent() -> None:
    assert parents_refusal(GiverRole.PARENT, None, None)[0] == "parental_responsibility"
    assert parents_refusal(GiverRole.PARENT, None, "both")[0] == "also_given_by"
    assert parents_refusal(GiverRole.PARENT, GiverRole.PARENT, "both") is None
    assert parents_refusal(GiverRole.PARENT, None, "one") is None
    assert parents_refusal(GiverRole.PARENT, GiverRole.PARENT, "one")[0] == "also_given_by"
    assert parents_refusal(GiverRole.PERSON, GiverRole.PARENT, None)[0] == "also_given_by"


def test_r7_a_consent_cannot_end_before_it_starts_and_scope_must_fit_its_kind() -> None:
    assert validity_refusal(NOW, NOW - DAY) == ("valid_until", "ends before it starts")
    assert validity_refusal(NOW, None) is None
    assert scope_refusal("sharing", False, False)[0] == "sharing"
    assert scope_refusal("ip", True, False) == ("sharing", "applies only to a sharing consent")
    assert scope_refusal("next_of_kin", False, True) is None


# --- R7 parts: what a provider or relative may read of the plan ---------------------------

HEALTH = "forebygging_helse_omsorg"
SHARE_HEALTH = facts(
    "sharing", grantees={"hjemmesykepleien"}, areas={HEALTH}, kinds={"measures", "goals"}
)
SHARE_LEISURE = facts(
    "sharing",
    grantees={"hjemmesykepleien", "nav"},
    areas={"fritid", "bolig"},
    kinds={"contacts"},
    start=NOW - 2 * DAY,
)


def test_r7_parts_are_the_union_of_the_providers_sharing_consents_in_force() -> None:
    verdict = ask([IP, SHARE_HEALTH, SHARE_LEISURE], area=None, kind=None)
    assert verdict.allow
    assert verdict.parts == {
        (HEALTH, "measures"),
        (HEALTH, "goals"),
        ("fritid", "contacts"),
        ("bolig", "contacts"),
    }
    # Each consent opens its own areas x kinds, never a mix of two consents.
    assert ("fritid", "measures") not in verdict.parts
    assert (HEALTH, "contacts") not in verdict.parts
    # The consent that decided is the latest in force.
    assert verdict.consent_id == SHARE_HEALTH.consent_id


def test_r7_parts_of_one_consent_are_its_areas_times_its_kinds() -> None:
    verdict = ask([IP, SHARE_LEISURE], who_id="nav", area=None, kind=None)
    assert verdict.parts == {("fritid", "contacts"), ("bolig", "contacts")}


@pytest.mark.parametrize(
    "ended",
    [
        {"status": "withdrawn"},
        {"status": "expired"},
        {"status": "renewal_needed"},
        {"end": NOW},  # time-limited, ran out just now
        {"end": NOW - DAY, "start": NOW - 2 * DAY},
        {"start": NOW + DAY},  # not yet in force
    ],
)
def test_r7_a_consent_not_in_force_adds_no_parts(ended: dict) -> None:
    gone = facts(
        "sharing", grantees={"hjemmesykepleien"}, areas={"okonomi"}, kinds={"goals"}, **ended
    )
    verdict = ask([IP, SHARE_HEALTH, gone], area=None, kind=None)
    assert verdict.allow
    assert verdict.parts == {(HEALTH, "measures"), (HEALTH, "goals")}
    assert verdict.consent_id == SHARE_HEALTH.consent_id


def test_r7_another_grantees_consent_and_a_next_of_kin_consent_add_no_parts_to_a_provider() -> None:
    for_nav = facts("sharing", grantees={"nav"}, areas={"okonomi"}, kinds={"goals"})
    relative = facts(
        "next_of_kin", grantees={"hjemmesykepleien"}, areas={"bolig"}, kinds={"meetings"}
    )
    verdict = ask([IP, SHARE_HEALTH, for_nav, relative], area=None, kind=None)
    assert verdict.parts == {(HEALTH, "measures"), (HEALTH, "goals")}


def test_r8_next_of_kin_parts_are_the_union_of_their_next_of_kin_consents_in_force() -> None:
    first = facts("next_of_kin", grantees={"mor"}, areas={"fritid"}, kinds={"goals"})
    second = facts("next_of_kin", grantees={"mor", "far"}, areas={"bolig"}, kinds={"meetings"})
    withdrawn = facts(
        "next_of_kin", status="withdrawn", grantees={"mor"}, areas={"okonomi"}, kinds={"goals"}
    )
    sharing = facts("sharing", grantees={"mor"}, areas={HEALTH}, kinds={"measures"})
    verdict = ask(
        [IP, first, second, withdrawn, sharing],
        who_kind="next_of_kin",
        who_id="mor",
        area=None,
        kind=None,
    )
    assert verdict.allow
    assert verdict.parts == {("fritid", "goals"), ("bolig", "meetings")}
    far = ask([IP, first, second], who_kind="next_of_kin", who_id="far", area=None, kind=None)
    assert far.parts == {("bolig", "meetings")}


def test_r7_the_person_and_the_coordinator_see_the_whole_plan() -> None:
    person = ask([IP, SHARE_HEALTH], who_kind="person", who_id="self", area=None, kind=None)
    assert person.allow
    assert person.parts is None
    coordinator = ask(
        [IP, facts("coordinator"), SHARE_HEALTH],
        who_kind="coordinator",
        who_id="staff-1",
        area=None,
        kind=None,
    )
    assert coordinator.allow
    assert coordinator.parts is None
    frozen_person = ask([facts("ip", status="withdrawn")], who_kind="person", who_id="self")
    assert frozen_person.allow
    assert frozen_person.parts is None


EXPIRED_NAV = facts("sharing", "expired", grantees={"nav"}, areas={"okonomi"}, kinds={"goals"})
MOR = facts("next_of_kin", grantees={"mor"}, areas={"fritid"}, kinds={"goals"})
FROZEN = facts("ip", status="withdrawn")


@pytest.mark.parametrize(
    ("consents", "who_kind", "who_id", "action"),
    [
        ([IP], "provider", "hjemmesykepleien", "read_plan"),  # no sharing consent
        ([IP, EXPIRED_NAV], "provider", "nav", "read_plan"),
        ([FROZEN, SHARE_HEALTH], "provider", "hjemmesykepleien", "read_plan"),
        ([IP, SHARE_HEALTH], "provider", "nav", "read_plan"),  # another grantee's consent
        ([IP], "coordinator", "staff-1", "read_plan"),  # no coordinator consent
        ([IP, MOR], "next_of_kin", "mor", "write_plan"),
        ([IP, SHARE_HEALTH], "person", "self", "write_plan"),
    ],
)
def test_r7_a_denied_verdict_has_no_parts(
    consents: list, who_kind: str, who_id: str, action: str
) -> None:
    verdict = ask(consents, who_kind=who_kind, who_id=who_id, action=action, area=None, kind=None)
    assert not verdict.allow
    assert verdict.parts is None


def test_r7_parts_cover_the_part_asked_about() -> None:
    verdict = ask([IP, SHARE_HEALTH], area=HEALTH, kind="goals")
    assert verdict.allow
    assert (HEALTH, "goals") in verdict.parts


def test_r7_parts_are_every_consent_in_force_even_when_one_part_is_asked_about() -> None:
    verdict = ask([IP, SHARE_HEALTH, SHARE_LEISURE], area=HEALTH, kind="measures")
    assert verdict.allow
    assert verdict.parts == {
        (HEALTH, "measures"),
        (HEALTH, "goals"),
        ("fritid", "contacts"),
        ("bolig", "contacts"),
    }
