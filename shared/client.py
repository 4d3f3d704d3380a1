"""A small client for kenett's commands and queries over NATS request/reply."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from pydantic import BaseModel, Field, ValidationError

from shared.contracts.audit import AccessEntry, AccessLog, AuditTrail, GetAccessLog, GetAuditTrail
from shared.contracts.commands import Command, Query
from shared.contracts.envelope import Actor
from shared.contracts.replies import ErrorBody, Reply
from shared.contracts.status import InstanceStatus
from shared.contracts.subjects import command_subject, query_subject, status_subject


class RequestFailed(Exception):
    """A command or query was refused, or nobody answered; ``error`` says why."""

    def __init__(self, error: ErrorBody) -> None:
        fields = "; ".join(f"{f.field}: {f.reason}" for f in error.fields)
        super().__init__(f"{error.code}: {error.message}" + (f" ({fields})" if fields else ""))
        self.error = error


SERVICES = ("intake", "consent", "assignment", "planning", "notifications", "federation")
"""Every service of an organisation: each keeps its own audit trail."""


class AuditReview(BaseModel):
    """Every service's audit records of a period, across cases, oldest first: the
    organisation's review of who accessed what."""

    since: datetime
    until: datetime | None
    entries: list[AccessEntry]
    unanswered: list[str] = Field(
        default_factory=list,
        description="Services that did not answer: the review lacks their part (say so).",
    )


class CaseAccessLog(BaseModel):
    """Who read or changed a case's data, from every service that answered, oldest first."""

    case_id: uuid.UUID
    entries: list[AccessEntry]
    unanswered: list[str] = Field(
        default_factory=list,
        description="Services that did not answer: the log lacks their part (say so).",
    )


class KenettClient:
    """Send commands and queries to the services of one organisation."""

    def __init__(self, nc: NatsClient, org: str, *, timeout: float = 10.0) -> None:
        self.nc = nc
        self.org = org
        self.timeout = timeout

    async def _request(self, subject: str, body: BaseModel) -> dict[str, Any]:
        try:
            msg = await self.nc.request(
                subject, body.model_dump_json().encode(), timeout=self.timeout
            )
        except (NatsTimeout, NoRespondersError):
            raise RequestFailed(
                ErrorBody(code="unavailable", message=f"no answer on {subject}")
            ) from None
        reply = Reply.model_validate_json(msg.data)
        if not reply.ok:
            assert reply.error is not None
            raise RequestFailed(reply.error)
        return reply.result or {}

    async def command(self, service: str, cmd: Command) -> dict[str, Any]:
        """Send a command; returns its result or raises RequestFailed."""
        name: str = type(cmd).COMMAND  # type: ignore[attr-defined]
        return await self._request(command_subject(self.org, service, name), cmd)

    async def query(self, service: str, q: Query) -> dict[str, Any]:
        """Send a query; returns its result or raises RequestFailed."""
        name: str = type(q).QUERY  # type: ignore[attr-defined]
        return await self._request(query_subject(self.org, service, name), q)

    async def access_log(
        self,
        actor: Actor,
        case_id: uuid.UUID,
        *,
        since: datetime | None = None,
        services: tuple[str, ...] = SERVICES,
    ) -> CaseAccessLog:
        """Every service's audit records of a case, merged by time (the person's right to know
        who had access, domain.md). A service that does not answer is named in ``unanswered``
        rather than left out in silence; any other refusal is raised."""

        async def of(service: str) -> list[AccessEntry]:
            entries: list[AccessEntry] = []
            offset: int | None = 0
            while offset is not None:
                q = GetAccessLog(actor=actor, case_id=case_id, since=since, offset=offset)
                page = AccessLog.model_validate(await self.query(service, q))
                entries += page.entries
                offset = page.next_offset
            return entries

        entries, unanswered = await _merged(services, of)
        return CaseAccessLog(case_id=case_id, entries=entries, unanswered=unanswered)

    async def audit_trail(
        self,
        actor: Actor,
        since: datetime,
        *,
        until: datetime | None = None,
        actor_id: str | None = None,
        refused_only: bool = False,
        services: tuple[str, ...] = SERVICES,
    ) -> AuditReview:
        """Every service's audit records of a period, across cases, merged by time: for the
        organisation's regular review of access (who looked at what, and what was refused). A
        service that does not answer is named in ``unanswered``."""

        async def of(service: str) -> list[AccessEntry]:
            entries: list[AccessEntry] = []
            offset: int | None = 0
            while offset is not None:
                q = GetAuditTrail(
                    actor=actor,
                    since=since,
                    until=until,
                    actor_id=actor_id,
                    refused_only=refused_only,
                    limit=1000,
                    offset=offset,
                )
                page = AuditTrail.model_validate(await self.query(service, q))
                entries += page.entries
                offset = page.next_offset
            return entries

        entries, unanswered = await _merged(services, of)
        return AuditReview(since=since, until=until, entries=entries, unanswered=unanswered)

    async def status(
        self, *, wait: float = 1.0, expect: int | None = None, host: str | None = None
    ) -> list[InstanceStatus]:
        """Every running process's own account of itself (``shared.bus.status``), gathered for
        ``wait`` seconds, or until ``expect`` processes have answered; by instance. ``host``:
        only the processes on that host answer."""
        replies: list[InstanceStatus] = []
        enough = asyncio.Event()

        async def on_reply(msg: Msg) -> None:
            try:
                replies.append(InstanceStatus.model_validate_json(msg.data))
            except ValidationError:
                return  # not a status (an older or foreign process): not counted
            if expect is not None and len(replies) >= expect:
                enough.set()

        inbox = self.nc.new_inbox()
        sub = await self.nc.subscribe(inbox, cb=on_reply)
        try:
            body = json.dumps({"host": host}).encode() if host else b""
            await self.nc.publish(status_subject(self.org), body, reply=inbox)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(enough.wait(), wait)
        finally:
            await sub.unsubscribe()
        return sorted(replies, key=lambda r: r.instance)


async def _merged(
    services: tuple[str, ...], of: Callable[[str], Awaitable[list[AccessEntry]]]
) -> tuple[list[AccessEntry], list[str]]:
    """Every service's entries merged by time, and the services that did not answer; any
    other refusal is raised."""
    results = await asyncio.gather(*(of(s) for s in services), return_exceptions=True)
    entries: list[AccessEntry] = []
    unanswered: list[str] = []
    for service, result in zip(services, results, strict=True):
        if isinstance(result, RequestFailed) and result.error.code == "unavailable":
            unanswered.append(service)
        elif isinstance(result, BaseException):
            raise result
        else:
            entries += result
    entries.sort(key=lambda e: e.at)  # stable: each service's own order is kept
    return entries, unanswered
