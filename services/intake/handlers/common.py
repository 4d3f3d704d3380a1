"""What intake's handlers share: loading a case and moving it through its lifecycle."""

from __future__ import annotations

import json
import uuid
from typing import Any

from services.intake.lifecycle import CaseStatus, transition_refusal
from services.intake.store import Case
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.intake import CaseStatusChanged, CloseReasonValue
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.uow import UnitOfWork


async def load_case(uow: UnitOfWork, case_id: uuid.UUID, *, lock: bool = False) -> Case:
    """The case, or a refusal naming ``case_id``."""
    case = await uow.session.get(Case, case_id, with_for_update=lock)
    if case is None or case.org != uow.org:
        raise CommandRejected(
            "not_found", "no such case", [FieldError(field="case_id", reason="unknown case")]
        )
    return case


def transition(
    uow: UnitOfWork,
    case: Case,
    target: CaseStatus,
    actor: Actor,
    *,
    reason: CloseReasonValue | None = None,
    causation: Envelope | None = None,
) -> None:
    """Move ``case`` to ``target`` if the lifecycle allows it, and emit the event."""
    current = CaseStatus(case.status)
    if why := transition_refusal(current, target):
        raise CommandRejected(
            "rule_violation", f"case {case.ref}: {why}", [FieldError(field="case_id", reason=why)]
        )
    case.status = target
    if target is CaseStatus.CLOSED:
        case.closed_at = uow.clock.now()
        case.closed_reason = reason
    uow.emit(
        CaseStatusChanged(
            case_id=case.id, case_ref=case.ref, previous=current, status=target, reason=reason
        ),
        actor=actor,
        case_id=case.id,
        causation=causation,
    )


def loads(text: str) -> Any:
    return json.loads(text)
