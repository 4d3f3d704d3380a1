"""Every service answers for its own audit trail: ``<service>.access_log`` (GetAccessLog).

The host wires it for every service after the service's own handlers, so it knows which of the
service's actions are reads (its queries) and which are changes (its commands, and what it does
on its own). Reading the log is audited like any read of a case.
"""

from __future__ import annotations

import re
from typing import Any

from faststream.nats import NatsRouter
from sqlmodel import col, select

from shared.bus.handlers import query_responder
from shared.contracts.audit import (
    AccessEntry,
    AccessKind,
    AccessLog,
    AuditTrail,
    GetAccessLog,
    GetAuditTrail,
)
from shared.contracts.commands import next_offset
from shared.db.kernel import AuditRecord
from shared.db.uow import UnitOfWork
from shared.service import ServiceContext


def reads_of(ctx: ServiceContext) -> frozenset[str]:
    """The audit actions of ``ctx``'s queries (``<service>.<query>``): its reads."""
    return frozenset(
        f"{ctx.name}.{model.QUERY}"  # type: ignore[attr-defined]
        for kind, _subject, model in ctx.catalog
        if kind == "query"
    ) | {f"{ctx.name}.{GetAccessLog.QUERY}", f"{ctx.name}.{GetAuditTrail.QUERY}"}


# Only what the kernel and federation write there is read back out of an audit record's
# detail: other details (a reason a user wrote) are never shown, whatever they begin with.
_ROLE = re.compile(r"as (coordinator|provider|person|next_of_kin)( [A-Za-z0-9æøåÆØÅ:._-]{1,128})?")
_RECIPIENT = re.compile(r"to ([a-z0-9][a-z0-9_-]{0,62})(?: on (consent|no_objection))?")
_SENT = "federation.sent."


def _access(action: str, reads: frozenset[str]) -> AccessKind:
    if action in reads:
        return "read"
    if action.startswith(_SENT):
        return "disclose"  # federation's record of a message to another organisation
    return "change"


def _role(detail: str | None) -> str | None:
    return detail if detail and _ROLE.fullmatch(detail) else None


def _recipient(action: str, detail: str | None) -> tuple[str | None, Any]:
    """The organisation a disclosure went to, and the basis it went on if the sender said."""
    found = _RECIPIENT.fullmatch(detail or "") if action.startswith(_SENT) else None
    return (found.group(1), found.group(2)) if found else (None, None)


def _entries(ctx: ServiceContext, reads: frozenset[str], rows: Any) -> list[AccessEntry]:
    entries = []
    for r in rows:
        to, basis = _recipient(r.action, r.detail)
        entries.append(
            AccessEntry(
                at=r.at,
                service=ctx.name,
                org=r.org,
                actor_kind=r.actor_kind,
                actor_id=r.actor_id,
                action=r.action,
                access=_access(r.action, reads),
                outcome=r.outcome,
                role=_role(r.detail),
                to=to,
                basis=basis,
                case_id=r.case_id,
            )
        )
    return entries


def serve_access_log(router: NatsRouter, ctx: ServiceContext) -> None:
    """Answer GetAccessLog (one case) and GetAuditTrail (a period) from this service's audit
    trail."""
    reads = reads_of(ctx)

    async def access_log(uow: UnitOfWork, q: GetAccessLog) -> AccessLog:
        """The case's audit records here, oldest first (in the order they were written)."""
        where: list[Any] = [AuditRecord.org == uow.org, col(AuditRecord.case_id) == q.case_id]
        if q.since is not None:
            where.append(col(AuditRecord.at) >= q.since)
        total, rows = await uow.page(
            select(AuditRecord), where, (col(AuditRecord.seq),), offset=q.offset, limit=q.limit
        )
        entries = _entries(ctx, reads, rows)
        return AccessLog(
            case_id=q.case_id,
            entries=entries,
            total=total,
            next_offset=next_offset(q.offset, len(entries), total),
        )

    async def audit_trail(uow: UnitOfWork, q: GetAuditTrail) -> AuditTrail:
        """The records of a period here, across cases, oldest first (by the time index)."""
        where: list[Any] = [AuditRecord.org == uow.org, col(AuditRecord.at) >= q.since]
        if q.until is not None:
            where.append(col(AuditRecord.at) < q.until)
        if q.actor_id is not None:
            where.append(col(AuditRecord.actor_id) == q.actor_id)
        if q.refused_only:
            where.append(col(AuditRecord.outcome) != "ok")
        total, rows = await uow.page(
            select(AuditRecord),
            where,
            (col(AuditRecord.at), col(AuditRecord.seq)),
            offset=q.offset,
            limit=q.limit,
        )
        entries = _entries(ctx, reads, rows)
        return AuditTrail(
            entries=entries, total=total, next_offset=next_offset(q.offset, len(entries), total)
        )

    query_responder(router, ctx, query=GetAccessLog, handler=access_log)
    query_responder(router, ctx, query=GetAuditTrail, handler=audit_trail)
