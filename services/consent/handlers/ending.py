"""When a consent stops counting: withdrawal (R7), expiry (R7), and the 16th birthday (R6)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlmodel import col, func, select

from services.consent.domain import lapses_at_sixteen
from services.consent.handlers.record import INSERT_CHANGE, STARTS_LATER, record
from services.consent.store import Consent, ConsentCase, ConsentChange
from shared.clock import OSLO, local_today
from shared.contracts.consent import (
    ConsentChange as ConsentChangeResult,
)
from shared.contracts.consent import (
    ConsentEnded,
    ConsentInForce,
    ConsentKind,
    EndCause,
    GiverRole,
    RecordConsent,
    RecordConsentResult,
    SweepConsents,
    SweepResult,
    WithdrawConsent,
)
from shared.contracts.envelope import Actor
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.uow import UnitOfWork

_ALREADY = {
    "withdrawn": "the consent is already withdrawn",
    "expired": "the consent has already expired",
    "renewal_needed": "the consent already lapsed at the 16th birthday; record a new one",
    "renewed": "the consent already lapsed at the 16th birthday; the young person's own "
    "consent took over",
}


async def _end(
    uow: UnitOfWork,
    consent: Consent,
    cause: EndCause,
    by: str,
    at: datetime,
    actor: Actor,
    form: str | None = None,
) -> None:
    case = await uow.session.get(ConsentCase, consent.case_id)
    assert case is not None
    consent.status = cause
    consent.status_changed_at = at
    uow.session.add(
        ConsentChange(
            consent_id=consent.id, case_id=consent.case_id, at=at, change=cause, by=by, form=form
        )
    )
    uow.emit(
        ConsentEnded(
            consent_id=consent.id,
            case_id=consent.case_id,
            case_ref=case.case_ref,
            kind=ConsentKind(consent.kind),
            cause=cause,
        ),
        actor=actor,
        case_id=consent.case_id,
    )


async def withdraw(uow: UnitOfWork, cmd: WithdrawConsent) -> ConsentChangeResult:
    """Withdraw a consent at any time (R7); the record of it stays."""
    consent = await uow.session.get(Consent, cmd.consent_id, with_for_update=True)
    if consent is None or consent.org != uow.org:
        raise CommandRejected(
            "not_found",
            "no such consent",
            [FieldError(field="consent_id", reason="unknown consent")],
        )
    if consent.status != "active":
        raise CommandRejected(
            "rule_violation",
            "nothing to withdraw",
            [
                FieldError(
                    field="consent_id",
                    reason=_ALREADY.get(consent.status, f"the consent is {consent.status}"),
                )
            ],
        )
    at = cmd.withdrawn_at or uow.clock.now()
    if at.tzinfo is None or at > uow.clock.now():
        raise CommandRejected(
            "validation_failed",
            "consent was not withdrawn",
            [FieldError(field="withdrawn_at", reason="must be a past time with a timezone offset")],
        )
    await _end(uow, consent, EndCause.WITHDRAWN, cmd.recorded_by, at, cmd.actor, cmd.form)
    return ConsentChangeResult(
        consent_id=consent.id, case_id=consent.case_id, status=consent.status
    )


REPLACED = "replaced"
"""In a consent's history: a later consent of the person replaces it (R7; ``replace``)."""


def replacement_refusal(
    old: Consent | None, org: str, case_id: uuid.UUID, kind: str, now: datetime
) -> str | None:
    """Why ``old`` cannot be replaced now by a new consent of ``kind`` for ``case_id`` (R7)."""
    if old is None or old.org != org:
        return "unknown consent"
    if old.case_id != case_id:
        return "the consent to replace belongs to another case"
    if old.kind != kind:
        return f"the consent to replace is of another kind ({old.kind})"
    if old.status != "active":
        return _ALREADY.get(old.status, f"the consent is {old.status}")
    if old.valid_until is not None and old.valid_until <= now:
        return _ALREADY["expired"]  # ended on the clock; the sweep has not marked it yet
    return None


async def record_replacing(
    uow: UnitOfWork, cmd: RecordConsent, new_case: dict[str, Any] | None = None
) -> RecordConsentResult:
    """Record a consent (``record``); with ``replaces``, the earlier consent it replaces is
    withdrawn in the same transaction (R7), so the two never both count and there is no gap.

    A replacing consent counts at once: one recorded to start later would leave the earlier one
    half-replaced (both in force, and nobody told when it ends), so it is refused; record it
    on the day, or withdraw the earlier one when the time comes. A replacement that cannot be
    made is refused whole: nothing is recorded."""
    if cmd.replaces is None:
        return await record(uow, cmd, new_case)
    now = uow.clock.now()
    old = await uow.session.get(Consent, cmd.replaces, with_for_update=True)
    reason = replacement_refusal(old, uow.org, cmd.case_id, cmd.kind, now)
    field = "replaces"
    if reason is None and cmd.valid_from is not None and cmd.valid_from > now:
        field, reason = "valid_from", "a consent that replaces another counts at once"
    if reason is not None or old is None:
        raise CommandRejected(
            "rule_violation",
            "consent was not recorded",
            [FieldError(field=field, reason=reason or "unknown consent")],
        )
    result = await record(uow, cmd, new_case)
    uow.session.add(
        ConsentChange(
            consent_id=old.id,
            case_id=old.case_id,
            at=now,
            change=REPLACED,
            by=cmd.recorded_by,
            form=cmd.form,
        )
    )
    await _end(uow, old, EndCause.WITHDRAWN, cmd.recorded_by, now, cmd.actor, cmd.form)
    return result.model_copy(update={"replaced": old.id, "replaced_ends_at": now})


async def sweep(uow: UnitOfWork, actor: Actor) -> SweepResult:
    """Expire time-limited consents (R7) and mark parents' consents for renewal once the
    young person has turned 16 (R6). Each change is an event the other services follow."""
    now = uow.clock.now()
    expired: list[uuid.UUID] = []
    renewal: list[uuid.UUID] = []
    renewed: list[uuid.UUID] = []
    due = await uow.session.exec(
        select(Consent)
        .where(
            Consent.org == uow.org,
            Consent.status == "active",
            col(Consent.valid_until).is_not(None),
            col(Consent.valid_until) <= now,
        )
        .with_for_update()
    )
    for consent in list(due):
        await _end(uow, consent, EndCause.EXPIRED, "system", now, actor)
        expired.append(consent.id)
    today = local_today(uow.clock)
    tomorrow = datetime.combine(today + timedelta(days=1), time(), OSLO).astimezone(UTC)
    turned_16 = await uow.session.exec(
        select(Consent)
        .join(ConsentCase, col(ConsentCase.case_id) == col(Consent.case_id))
        .where(
            Consent.org == uow.org,
            Consent.status == "active",
            col(ConsentCase.sixteen_on) <= today,
        )
        .with_for_update()
    )
    for consent in list(turned_16):
        roles = [g["role"] for g in json.loads(consent.givers)] or [consent.giver_role]
        if lapses_at_sixteen(roles):
            # The young person may have consented themself already, valid from the birthday
            # (``ADVANCE_LIMIT``): then theirs takes over, and nobody is asked to renew. It
            # takes over if it starts today in Norway, even at a later hour (a ``valid_from``
            # of 00:00 UTC is 01:00 in Oslo): it is given, and asking again would be wrong.
            # Until it starts the gate still says no (R6 ends the parents' consent at midnight).
            # Only for IP and coordinator: a sharing or next-of-kin consent names whom it
            # covers, and the young person's may cover less; those the young person renews.
            own = await uow.session.exec(
                select(Consent.id).where(
                    Consent.case_id == consent.case_id,
                    Consent.kind == consent.kind,
                    col(Consent.kind).in_(["ip", "coordinator"]),
                    Consent.status == "active",
                    Consent.giver_role == "person",
                    func.coalesce(Consent.valid_from, Consent.given_at) < tomorrow,
                )
            )
            cause = EndCause.RENEWED if own.first() is not None else EndCause.RENEWAL_NEEDED
            await _end(uow, consent, cause, "system", now, actor)
            (renewed if cause is EndCause.RENEWED else renewal).append(consent.id)
    in_force = await _announce_started(uow, now, actor)
    return SweepResult(expired=expired, renewal_needed=renewal, renewed=renewed, in_force=in_force)


async def _announce_started(uow: UnitOfWork, now: datetime, actor: Actor) -> list[uuid.UUID]:
    """Consents recorded to start later ("starts_later" in their history) whose start has
    come: each gets a change "in_force" in its history (R7) and a ConsentInForce event, once,
    so that the services that waited for it act now (a plan is drafted, coordination starts).
    Sweeps of several instances take turns (a named lock), so none is announced twice."""
    await uow.lock(f"consent-in-force:{uow.org}")

    def change(kind: str) -> Any:
        return (
            select(ConsentChange.consent_id)
            .where(ConsentChange.consent_id == Consent.id, ConsentChange.change == kind)
            .exists()
        )

    started = await uow.session.exec(
        select(Consent, ConsentCase.case_ref)
        .join(ConsentCase, col(ConsentCase.case_id) == col(Consent.case_id))
        .where(
            Consent.org == uow.org,
            Consent.status == "active",
            col(Consent.valid_from).is_not(None),
            col(Consent.valid_from) <= now,
            change(STARTS_LATER),
            ~change("in_force"),
        )
    )
    announced = []
    conn = await uow.connection()
    for consent, case_ref in list(started):
        # A plain insert: the session may hold change rows written earlier in this sweep.
        await INSERT_CHANGE.run(
            conn,
            {
                "consent_id": consent.id,
                "case_id": consent.case_id,
                "at": now,
                "change": "in_force",
                "by": "system",
                "form": None,
            },
        )
        uow.emit(
            ConsentInForce(
                consent_id=consent.id,
                case_id=consent.case_id,
                case_ref=case_ref,
                kind=ConsentKind(consent.kind),
                given_by_role=GiverRole(consent.giver_role),
            ),
            actor=actor,
            case_id=consent.case_id,
        )
        announced.append(consent.id)
    return announced


def make_sweep_command(actor: Actor):  # type: ignore[no-untyped-def]
    """The sweep as a command (operators, tests); the service also sweeps by itself."""

    async def sweep_command(uow: UnitOfWork, cmd: SweepConsents) -> SweepResult:
        return await sweep(uow, cmd.actor)

    return sweep_command
