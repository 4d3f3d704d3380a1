"""Lifecycle commands: activate and close."""

from __future__ import annotations

from services.intake.lifecycle import CaseStatus
from shared.contracts.intake import ActivateCase, CaseTransition, CloseCase
from shared.db.uow import UnitOfWork

from .common import load_case, transition


async def activate(uow: UnitOfWork, cmd: ActivateCase) -> CaseTransition:
    """Services or coordination have started: decided → active."""
    case = await load_case(uow, cmd.case_id, lock=True)
    previous = case.status
    transition(uow, case, CaseStatus.ACTIVE, cmd.actor)
    return CaseTransition(case_id=case.id, case_ref=case.ref, status=case.status, previous=previous)


async def close(uow: UnitOfWork, cmd: CloseCase) -> CaseTransition:
    """Close with a reason (moved, died, no longer needed, consent withdrawn, declined)."""
    case = await load_case(uow, cmd.case_id, lock=True)
    previous = case.status
    transition(uow, case, CaseStatus.CLOSED, cmd.actor, reason=cmd.reason)
    return CaseTransition(case_id=case.id, case_ref=case.ref, status=case.status, previous=previous)
