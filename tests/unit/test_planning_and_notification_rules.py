"""Planning's and notifications' pure rules (R5, R9, no personal data in notices)."""

from __future__ import annotations

import re
import string
import uuid
from datetime import date

import pytest

from services.notifications.domain import TEMPLATES, NoticeKind, UnsafeNotice, render
from services.planning.domain import ready_for_plan


def test_r5_no_plan_without_ip_consent() -> None:
    assert not ready_for_plan(None, uuid.uuid4())


def test_r9_r14_no_plan_without_a_coordinator_to_drive_it() -> None:
    assert not ready_for_plan(uuid.uuid4(), None)
    assert ready_for_plan(uuid.uuid4(), uuid.uuid4())


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_notice_template_carries_only_a_case_reference(kind: NoticeKind) -> None:
    """No personal data in notices: a template may use only a case reference, a date and a
    count, and the text is exactly the template with those three filled in."""
    on = date(2026, 11, 22)
    text = render(kind, "2026-000123", on=on, count=7)
    fields = {name for _, name, _, _ in string.Formatter().parse(TEMPLATES[kind]) if name}
    assert fields <= {"case_ref", "on", "count"}
    if "case_ref" in fields:
        assert "2026-000123" in text
    assert not re.search(r"\d{11}", text)
    # Nothing but the three values gets in: the text is the template, filled in.
    assert text == TEMPLATES[kind].format(case_ref="2026-000123", on="22. november 2026", count=7)


@pytest.mark.parametrize("bad", ["12345678901", "Ola Nordmann", "2026-000123 diagnose"])
def test_a_notice_refuses_anything_but_a_case_reference(bad: str) -> None:
    with pytest.raises(UnsafeNotice):
        render(NoticeKind.PLAN_CREATED, bad)
