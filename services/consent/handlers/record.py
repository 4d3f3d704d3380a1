"""Recording a consent (R5-R8): who may give it, its evidence, scope and period."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlmodel import col

from services.consent.domain import (
    ADVANCE_LIMIT,
    evidence_refusal,
    giver_refusal,
    hearing_refusal,
    judged_on,
    parents_refusal,
    scope_refusal,
    validity_refusal,
)
from services.consent.handlers.cases import add_case
from services.consent.store import Consent, ConsentCase, ConsentChange
from shared.clock import OSLO, age_on, local_today
from shared.contracts.consent import (
    ConsentRecorded,
    GiverRole,
    RecordConsent,
    RecordConsentResult,
)
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.fast import FastStatement
from shared.db.uow import UnitOfWork
from shared.ids import new_id

# Recording's statements, built once (Core: the rows are written, never read back here).
_CASE = FastStatement(
    select(col(ConsentCase.case_ref), col(ConsentCase.birth_date)).where(
        col(ConsentCase.case_id) == bindparam("case_id")
    )
)
_INSERT_CONSENT = FastStatement(insert(Consent.__table__))  # type: ignore[attr-defined]
STARTS_LATER = "starts_later"
"""A consent recorded to start later: its history says so until the sweep adds "in_force"."""
INSERT_CHANGE = FastStatement(insert(ConsentChange.__table__))  # type: ignore[attr-defined]


def _scope_json(cmd: RecordConsent) -> str | None:
    if cmd.sharing is not None:
        grantees, areas, kinds = (
            cmd.sharing.recipients,
            cmd.sharing.life_areas,
            cmd.sharing.content_kinds,
        )
    elif cmd.next_of_kin is not None:
        grantees = cmd.next_of_kin.relatives
        areas, kinds = cmd.next_of_kin.life_areas, cmd.next_of_kin.content_kinds
    else:
        return None
    return json.dumps(
        {
            "grantees": sorted(set(grantees)),
            "life_areas": sorted(set(areas)),
            "content_kinds": sorted(set(kinds)),
        },
        ensure_ascii=False,
    )


async def record(
    uow: UnitOfWork, cmd: RecordConsent, new_case: dict[str, Any] | None = None
) -> RecordConsentResult:
    """Record a consent; one not entitled, out of period or out of scope is refused whole.
    ``new_case``: the projection's row of a case intake was asked about just before
    (``ensure_case_known``), added first in this transaction."""
    if new_case is not None:
        await add_case(uow, new_case)
    conn = await uow.connection()
    found = await _CASE.fetch(conn, {"case_id": cmd.case_id})
    if not found:  # ensure_case_known ran just before; only a purge could cause this
        raise CommandRejected("unavailable", "the case could not be looked up now; try again")
    case_id = cmd.case_id
    case_ref, birth_date = found[0]
    now = uow.clock.now()
    today = local_today(uow.clock)
    starts = cmd.valid_from if cmd.valid_from is not None and cmd.valid_from.tzinfo else None
    start_day = starts.astimezone(OSLO).date() if starts else today
    day = judged_on(today, start_day, (now + ADVANCE_LIMIT).astimezone(OSLO).date())
    age = age_on(birth_date, day)
    # R6: parents or barnevernet consent only for a period that starts before the 16th
    # birthday, however far ahead it starts.
    behalf_age = age_on(birth_date, max(day, start_day))

    def age_for(role: GiverRole) -> int:
        return behalf_age if role in (GiverRole.PARENT, GiverRole.BARNEVERN) else age

    errors: list[FieldError] = []
    if reason := giver_refusal(
        cmd.given_by.role, cmd.given_by.legal_basis, age_for(cmd.given_by.role)
    ):
        errors.append(FieldError(field="given_by.role", reason=reason))
    second = cmd.also_given_by
    if second is not None and (
        reason := giver_refusal(second.role, second.legal_basis, age_for(second.role))
    ):
        errors.append(FieldError(field="also_given_by.role", reason=reason))
    if problem := parents_refusal(
        cmd.given_by.role, second.role if second else None, cmd.parental_responsibility
    ):
        errors.append(FieldError(field=problem[0], reason=problem[1]))
    if reason := hearing_refusal(cmd.given_by.role, age, cmd.child_heard):
        errors.append(FieldError(field="child_heard", reason=reason))
    if reason := evidence_refusal(cmd.given_at, now):
        errors.append(FieldError(field="given_at", reason=reason))
    valid_from = cmd.valid_from or cmd.given_at
    if cmd.valid_from is not None and cmd.valid_from.tzinfo is None:
        errors.append(FieldError(field="valid_from", reason="must include a timezone offset"))
    elif valid_from.tzinfo is not None and (
        problem := validity_refusal(valid_from, cmd.valid_until)
    ):
        errors.append(FieldError(field=problem[0], reason=problem[1]))
    if problem := scope_refusal(cmd.kind, cmd.sharing is not None, cmd.next_of_kin is not None):
        errors.append(FieldError(field=problem[0], reason=problem[1]))
    if errors:
        raise CommandRejected("rule_violation", "consent was not recorded", errors)

    givers = [g for g in (cmd.given_by, second) if g is not None]
    consent_id = new_id()
    await _INSERT_CONSENT.run(
        conn,
        {
            "id": consent_id,
            "org": uow.org,
            "case_id": case_id,
            "kind": cmd.kind,
            "giver_role": cmd.given_by.role,
            "legal_basis": cmd.given_by.legal_basis,
            "givers": json.dumps([g.model_dump(mode="json") for g in givers]),
            "parental_responsibility": cmd.parental_responsibility,
            "form": cmd.form,
            "recorded_by": cmd.recorded_by,
            "given_at": cmd.given_at,
            "recorded_at": now,
            "document_ref": cmd.document_ref,
            "valid_from": valid_from,
            "valid_until": cmd.valid_until,
            "scope": _scope_json(cmd),
            "status": "active",
            "status_changed_at": now,
            "child_heard": cmd.child_heard,
        },
    )
    # After the consent: the change refers to it (R7: every change is kept).
    await INSERT_CHANGE.run(
        conn,
        {
            "consent_id": consent_id,
            "case_id": case_id,
            "at": now,
            "change": "recorded",
            "by": cmd.recorded_by,
            "form": cmd.form,
        },
    )
    if valid_from > now:
        # Counts from its start: the sweep announces it then (consent.consent_in_force).
        await INSERT_CHANGE.run(
            conn,
            {
                "consent_id": consent_id,
                "case_id": case_id,
                "at": now,
                "change": STARTS_LATER,
                "by": "system",
                "form": None,
            },
        )
    uow.emit(
        ConsentRecorded(
            consent_id=consent_id,
            case_id=case_id,
            case_ref=case_ref,
            kind=cmd.kind,
            given_by_role=cmd.given_by.role,
            form=cmd.form,
            given_at=cmd.given_at,
            valid_until=cmd.valid_until,
            valid_from=valid_from if valid_from > now else None,
        ),
        actor=cmd.actor,
        case_id=case_id,
        correlation_id=cmd.correlation_id,
    )
    return RecordConsentResult(consent_id=consent_id, case_id=case_id, kind=cmd.kind)
