"""What the access log reads back out of an audit record (domain.md: the person sees who had
access; never a reason a user wrote, whatever it begins with)."""

from __future__ import annotations

from shared.bus.access_log import _access, _recipient, _role

READS = frozenset({"planning.view_plan"})


def test_the_role_is_read_only_from_what_the_kernel_writes() -> None:
    assert _role("as coordinator 01a2492d-71b2-711f-9fb4-3a95e5476e13") is not None
    assert _role("as provider hjemmesykepleien") == "as provider hjemmesykepleien"
    assert _role("as person") == "as person"
    # A release reason a coordinator wrote is never shown, even when it looks like a role.
    assert _role("as discussed with her GP, she moves to a nursing home") is None
    assert _role("as provider Lund legekontor (dr. Hansen)") is None
    assert _role(None) is None


NONE = (None, None)


def test_a_disclosure_names_its_recipient_only_for_federations_records() -> None:
    assert _recipient("federation.sent.plan_share", "to iveland") == ("iveland", None)
    assert _access("federation.sent.plan_share", READS) == "disclose"
    # The same words in another action's detail are not a disclosure.
    assert _recipient("assignment.release", "to the hospital, after the operation") == NONE
    assert _recipient("assignment.release", "to iveland") == NONE
    assert _access("assignment.release", READS) == "change"
    assert _access("planning.view_plan", READS) == "read"
    assert _recipient("federation.sent.plan_share", "to Iveland kommune") == NONE


def test_r17_a_report_of_need_names_the_basis_it_was_passed_on() -> None:
    """The hospital states why it may pass the person's identity on (consent, or told and did
    not object); the access log shows it, and nothing else that follows the recipient."""
    sent = "federation.sent.need_report"
    assert _recipient(sent, "to lund on consent") == ("lund", "consent")
    assert _recipient(sent, "to lund on no_objection") == ("lund", "no_objection")
    assert _recipient(sent, "to lund on her request") == NONE
    assert _recipient(sent, "to lund on consent, see note") == NONE
