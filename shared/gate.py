"""Asking the consent gate (R5-R8) from any service, over request/reply."""

from __future__ import annotations

from nats.aio.client import Client as NatsClient

from shared.contracts.consent import GateDecision, MayQuery
from shared.contracts.replies import CommandRejected, FieldError, Reply
from shared.contracts.subjects import query_subject


async def ask_gate(nc: NatsClient, org: str, query: MayQuery, timeout: float = 5.0) -> GateDecision:
    """The gate's decision; if consent cannot answer, access is refused as unavailable
    (failing closed: no answer is never an allow)."""
    try:
        msg = await nc.request(
            query_subject(org, "consent", MayQuery.QUERY),
            query.model_dump_json().encode(),
            timeout=timeout,
        )
        reply = Reply.model_validate_json(msg.data)
    except Exception:
        raise CommandRejected(
            "unavailable", "the consent gate did not answer; access is refused until it does"
        ) from None
    if not reply.ok or reply.result is None:
        raise CommandRejected(
            "unavailable", "the consent gate could not decide; access is refused until it can"
        )
    return GateDecision.model_validate(reply.result)


async def require(nc: NatsClient, org: str, query: MayQuery, timeout: float = 5.0) -> GateDecision:
    """The gate's decision if it allows; otherwise a refusal with the gate's reason."""
    decision = await ask_gate(nc, org, query, timeout)
    if not decision.allow:
        raise CommandRejected(
            "forbidden", decision.reason, [FieldError(field="who", reason=decision.reason)]
        )
    return decision
