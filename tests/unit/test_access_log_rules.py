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


def test_every_action_a_user_can_meet_in_the_log_has_a_name_in_bokmal() -> None:
    """The person reads their access log (pasientjournalloven § 18): every command and query of
    every service, and every action a service records itself, is named in bokmål, so a new
    one cannot ship showing only its code."""
    import re
    from pathlib import Path

    from shared.contracts.audit import ACTION_TEXT, ANY_SERVICE_TEXT, action_text
    from shared.plugins import select
    from shared.runtime.asyncapi import _catalog

    asked = {
        ".".join(subject.split(".")[3:5])
        for plugin in select(None)
        for _kind, subject, _model in _catalog(plugin)
        if subject.split(".")[2] in ("cmd", "qry")
    }
    assert len(asked) > 80  # the catalogue was read
    root = Path(__file__).resolve().parents[2] / "services"
    recorded = {
        m.group(1)
        for path in root.rglob("*.py")
        for m in re.finditer(r'action="(\w+\.\w+)"', path.read_text(encoding="utf-8"))
    }
    assert "assignment.override_limit" in recorded  # the scan found the services' own
    unnamed = sorted(a for a in asked | recorded if action_text(a) == a)
    assert unnamed == [], f"give these a bokmål text in ACTION_TEXT: {unnamed}"
    assert not set(ACTION_TEXT) - asked - recorded, "texts for actions that no longer exist"
    assert action_text("planning.access_log") == ANY_SERVICE_TEXT["access_log"]
    # Messages to and from other organisations by their titles.
    assert action_text("federation.sent.need_report") == "sendt: melding om behov"
    assert action_text("federation.receive.receipt") == "mottatt: kvittering"
    # Something unknown (a record from a newer version) is shown as its code, not hidden.
    assert action_text("planning.something_new") == "planning.something_new"
