"""Asking the consent gate (R5-R8) from any service, over request/reply."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from nats.aio.client import Client as NatsClient

from shared.client import KenettClient
from shared.contracts.consent import GateAction, GateActor, GateDecision, MayQuery
from shared.contracts.replies import CommandRejected, FieldError

if TYPE_CHECKING:
    from shared.service import ServiceContext


async def ask_gate(nc: NatsClient, org: str, query: MayQuery, timeout: float = 5.0) -> GateDecision:
    """The gate's decision; if consent cannot answer, access is refused as unavailable
    (failing closed: no answer is never an allow)."""
    try:
        result = await KenettClient(nc, org, timeout=timeout).query("consent", query)
    except Exception:
        raise CommandRejected(
            "unavailable", "the consent gate could not decide; access is refused until it can"
        ) from None
    return GateDecision.model_validate(result)


async def require(nc: NatsClient, org: str, query: MayQuery, timeout: float = 5.0) -> GateDecision:
    """The gate's decision if it allows; otherwise a refusal with the gate's reason."""
    decision = await ask_gate(nc, org, query, timeout)
    if not decision.allow:
        raise CommandRejected(
            "forbidden", decision.reason, [FieldError(field="who", reason=decision.reason)]
        )
    return decision


async def ask(
    ctx: ServiceContext, case_id: uuid.UUID, who: GateActor, action: GateAction
) -> GateDecision:
    """``ask_gate`` in the service's own name, with its command timeout: a service asking for
    itself whether ``who`` may ``action`` on the case now (it fails closed as ``ask_gate``)."""
    return await ask_gate(
        ctx.nc,
        ctx.org,
        MayQuery(actor=ctx.actor, case_id=case_id, who=who, action=action),
        timeout=ctx.settings.command_timeout_s,
    )
