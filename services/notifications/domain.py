"""Notification texts and the rule that they carry no personal data.

Texts are Norwegian (bokmål): users read them. They name a case reference, never a person,
an identity number or a health detail (domain.md, "Identifiers and data").
"""

from __future__ import annotations

import re
from enum import StrEnum


class NoticeKind(StrEnum):
    """What a notice is about."""

    COORDINATOR_APPOINTED = "coordinator_appointed"
    PLAN_CREATED = "plan_created"
    CONSENT_RENEWAL_COORDINATOR = "consent_renewal_coordinator"
    CONSENT_RENEWAL_PERSON = "consent_renewal_person"
    CASE_NEEDS_COORDINATOR = "case_needs_coordinator"
    DUTY_OVERDUE = "duty_overdue"
    EVALUATION_OVERDUE = "evaluation_overdue"
    MEETING_SCHEDULED = "meeting_scheduled"


TEMPLATES: dict[NoticeKind, str] = {
    NoticeKind.COORDINATOR_APPOINTED: (
        "Du er oppnevnt som koordinator i sak {case_ref}. Logg inn i kenett for å se saken."
    ),
    NoticeKind.PLAN_CREATED: (
        "Et utkast til individuell plan er opprettet i sak {case_ref}. "
        "Logg inn i kenett for å arbeide videre med planen."
    ),
    NoticeKind.CONSENT_RENEWAL_COORDINATOR: (
        "Samtykket i sak {case_ref} må fornyes: det ble gitt av foreldrene og gjelder ikke "
        "lenger etter 16-årsdagen. Logg inn i kenett for å se saken."
    ),
    NoticeKind.CONSENT_RENEWAL_PERSON: (
        "Fra du fyller 16 år bestemmer du selv over planen og koordinatoren din. "
        "Samtykket i sak {case_ref} må derfor gis av deg. Logg inn i kenett for å se saken."
    ),
    NoticeKind.CASE_NEEDS_COORDINATOR: (
        "Sak {case_ref} trenger koordinator. Logg inn i kenett og se listen over saker som "
        "venter på koordinator."
    ),
    NoticeKind.DUTY_OVERDUE: (
        "En oppgave som koordinator i sak {case_ref} har passert fristen. "
        "Logg inn i kenett for å se oppgaven."
    ),
    NoticeKind.EVALUATION_OVERDUE: (
        "Et mål eller tiltak i planen i sak {case_ref} skulle vært evaluert. "
        "Logg inn i kenett for å se planen."
    ),
    NoticeKind.MEETING_SCHEDULED: (
        "Det er kalt inn til ansvarsgruppemøte i sak {case_ref}. "
        "Logg inn i kenett for å se tid og sted."
    ),
}

_CASE_REF = re.compile(r"^\d{4}-\d{6}$")
_ELEVEN_DIGITS = re.compile(r"\d{11}")


class UnsafeNotice(ValueError):
    """A text would carry something that is not allowed in a notice."""


def render(kind: NoticeKind, case_ref: str) -> str:
    """The notice text for ``kind``; refuses anything but a case reference as its parameter."""
    if not _CASE_REF.match(case_ref):
        raise UnsafeNotice("a notice may carry only a case reference (YYYY-NNNNNN)")
    text = TEMPLATES[kind].format(case_ref=case_ref)
    if _ELEVEN_DIGITS.search(text):
        raise UnsafeNotice("a notice text must not contain an identity number")
    return text
