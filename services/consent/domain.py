"""Consent's rules, pure (rule numbers from ../shared/domain.md)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from shared.contracts.consent import GiverRole

HEALTH_MAJORITY = 16  # R6: from 16 the young person decides
HEARD_FROM = 12  # R6: from 12 the child is heard (and their view carries weight)
ADULT = 18


ADVANCE_LIMIT = timedelta(days=90)
"""A consent that starts later (``valid_from``) within this long is judged by the age on the day
it starts: a young person about to turn 16 consents themself before the birthday, valid from it,
so coordination and the plan carry on when the parents' consent lapses (R6, R11)."""


def judged_on(today: date, valid_from_day: date, advance_limit_day: date) -> date:
    """The day whose age decides who may consent (R6): the first day of a consent that starts
    within the advance limit, else today."""
    return valid_from_day if today < valid_from_day <= advance_limit_day else today


def giver_refusal(role: GiverRole, legal_basis: str | None, age: int) -> str | None:
    """Why ``role`` may not give consent for a person of ``age`` (R6), or None if they may.

    From 16 the person consents themself; under 16 those with parental responsibility, or
    barnevernet where it has taken over care; for an adult who lacks capacity, a representative
    with the legal basis recorded.
    """
    refusal = decider_refusal(role, age, "consent")
    if refusal is None and role is GiverRole.REPRESENTATIVE and not legal_basis:
        return "a representative must have the legal basis recorded (R6)"
    return refusal


def decider_refusal(role: GiverRole, age: int, decides: str) -> str | None:
    """Why ``role`` may not decide for a person of ``age`` (R6), or None if they may: the same
    rule for consent and for the choice of coordination tool (R13). ``decides`` is the verb in
    the reason ("consent", "choose the tool")."""
    if age >= HEALTH_MAJORITY:
        if role is GiverRole.PERSON:
            return None
        if role is GiverRole.REPRESENTATIVE:
            if age < ADULT:
                return f"a representative may {decides} only for an adult (18 or over) (R6)"
            return None
        return (
            f"the person is 16 or over and decides themself; "
            f"parents or barnevernet cannot {decides} on their behalf (R6)"
        )
    if role in (GiverRole.PARENT, GiverRole.BARNEVERN):
        return None
    if role is GiverRole.PERSON:
        return (
            f"the person is under 16: those with parental responsibility (or barnevernet) "
            f"{decides}, and the child is heard (R6)"
        )
    return f"a representative cannot {decides} for a child under 16; the parents do (R6)"


def hearing_refusal(role: GiverRole, age: int, heard: str | None) -> str | None:
    """Why the record of the child being heard does not fit (R6), or None: from 12 a child is
    heard before parents or barnevernet consent for them, so such a consent says whether they
    were; for a consent the person gives themself (or a representative for an adult) it does
    not apply. Under 12 it may be recorded (children are heard from 7, pbrl § 4-4)."""
    on_behalf = role in (GiverRole.PARENT, GiverRole.BARNEVERN)
    if heard is not None and not on_behalf:
        return "applies only to a consent that parents or barnevernet give for a child"
    if on_behalf and HEARD_FROM <= age < HEALTH_MAJORITY and heard is None:
        return (
            "the child is 12 or over and is heard before others consent for them: say whether "
            "they were (heard, could_not_be_heard, declined) (R6)"
        )
    return None


def evidence_refusal(given_at: datetime, now: datetime) -> str | None:
    """A consent is documented with when it was given (R7), which cannot be in the future."""
    if given_at.tzinfo is None:
        return "must include a timezone offset"
    if given_at > now:
        return "is in the future"
    return None


def parents_refusal(
    role: GiverRole,
    second: GiverRole | None,
    responsibility: str | None,
) -> tuple[str, str] | None:
    """(field, reason) when parents consent without the parental responsibility rule (R6):
    where both parents have parental responsibility, both consent."""
    if role is not GiverRole.PARENT:
        if second is not None:
            return ("also_given_by", "only a second parent can give consent together with one")
        return None
    if responsibility is None:
        return (
            "parental_responsibility",
            "is required when a parent consents: one or both (R6)",
        )
    if responsibility == "both" and second is not GiverRole.PARENT:
        return (
            "also_given_by",
            "both parents have parental responsibility, so both must consent (R6)",
        )
    if responsibility == "one" and second is not None:
        return ("also_given_by", "only one parent has parental responsibility")
    return None


def validity_refusal(valid_from: datetime, valid_until: datetime | None) -> tuple[str, str] | None:
    """(field, reason) when a time-limited consent (R7) ends before it starts."""
    if valid_until is None:
        return None
    if valid_until.tzinfo is None:
        return ("valid_until", "must include a timezone offset")
    if valid_until <= valid_from:
        return ("valid_until", "ends before it starts")
    return None


def scope_refusal(kind: str, has_sharing: bool, has_next_of_kin: bool) -> tuple[str, str] | None:
    """(field, reason) when the scope does not fit the kind: sharing names recipients and parts
    (R7), next of kin names relatives and what they may see (R8); the others have no scope."""
    if kind == "sharing" and not has_sharing:
        return ("sharing", "is required for a sharing consent: recipients and parts (R7)")
    if kind == "next_of_kin" and not has_next_of_kin:
        return ("next_of_kin", "is required for a next-of-kin consent: relatives and parts (R8)")
    if has_sharing and kind != "sharing":
        return ("sharing", "applies only to a sharing consent")
    if has_next_of_kin and kind != "next_of_kin":
        return ("next_of_kin", "applies only to a next-of-kin consent")
    return None


def sixteenth_birthday(birth_date: date) -> date:
    """The day R6's majority begins; a 29 February birth turns 16 on 1 March in common years."""
    try:
        return birth_date.replace(year=birth_date.year + HEALTH_MAJORITY)
    except ValueError:
        return date(birth_date.year + HEALTH_MAJORITY, 3, 1)


def lapses_at_sixteen(giver_roles: list[str]) -> bool:
    """R6: a consent given on the child's behalf does not carry over the 16th birthday."""
    return any(r in (GiverRole.PARENT, GiverRole.BARNEVERN) for r in giver_roles)
