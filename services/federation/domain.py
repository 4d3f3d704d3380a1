"""Federation's rules, pure: ordering per case link, who is a party, which coordinators are
listed on a day, when a receipt is overdue, and the national identity check before anything
leaves (R17)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from enum import StrEnum

from stdnum.no import fodselsnummer

LINK_OPENING = frozenset({"need_report", "case_transfer"})
"""Message types that may start a case link at the receiver (sequence number 1)."""

WAIT_FOR_PREDECESSOR_S = 1.0
WAIT_DELIVERIES = 60
"""A message whose predecessor on its link has not been applied yet waits (it is redelivered
after WAIT_FOR_PREDECESSOR_S); after WAIT_DELIVERIES deliveries it is refused as out of order."""


class Order(StrEnum):
    APPLY = "apply"
    DUPLICATE = "duplicate"
    WAIT = "wait"


def order(seq: int, last_applied: int) -> Order:
    """In order per (sender, link): the next number is applied, an older one is a duplicate,
    a later one waits for the ones before it."""
    if seq == 0:
        return Order.APPLY
    if seq <= last_applied:
        return Order.DUPLICATE
    if seq == last_applied + 1:
        return Order.APPLY
    return Order.WAIT


def parties(text: str) -> list[str]:
    return list(json.loads(text))


def parties_text(orgs: list[str]) -> str:
    return json.dumps(sorted(set(orgs)))


def references(text: str) -> dict[str, str]:
    return dict(json.loads(text or "{}"))


def with_reference(text: str, org: str, ref: str | None) -> str:
    refs = references(text)
    if ref:
        refs[org] = ref
    return json.dumps(refs, sort_keys=True)


def active_on(since: date | None, until: date | None, day: date) -> bool:
    """Listed on ``day``: from ``since`` (or always) through ``until`` (or open)."""
    return (since is None or since <= day) and (until is None or day <= until)


def overlap_until(start: date, overlap_days: int) -> date:
    """The last day both coordinators are listed: the overlap counts from the start day."""
    return start + timedelta(days=overlap_days)


def is_overdue(sent_at: datetime, now: datetime, timeout_s: float) -> bool:
    return now - sent_at >= timedelta(seconds=timeout_s)


def national_id_problem(value: str) -> str | None:
    """Why an identity number cannot be sent, or None. Never echoes the number."""
    number = value.strip().replace(" ", "")
    if len(number) != 11 or not number.isdigit():
        return "must be 11 digits (fødselsnummer or D-nummer)"
    try:
        fodselsnummer.validate(number)
    except Exception:
        return "is not a valid fødselsnummer or D-nummer (check digits or date)"
    return None


STATUS_TEXT = {
    "sent": "sendt, venter på kvittering",
    "accepted": "mottatt",
    "refused": "avvist",
    "pending": "venter på svar her",
    "answered": "besvart",
}


def responsible_for(party_kind: str | None, party_ref: str | None, org: str) -> bool:
    """Is organisation ``org`` the responsible party of a measure? A plan names a linked
    organisation as a service by its code (e.g. ``sykehuset``), any case."""
    return party_kind == "service" and (party_ref or "").strip().casefold() == org.casefold()
