"""A small client for kenett's commands and queries over NATS request/reply."""

from __future__ import annotations

from typing import Any

from nats.aio.client import Client as NatsClient
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from pydantic import BaseModel

from shared.contracts.commands import Command, Query
from shared.contracts.replies import ErrorBody, Reply
from shared.contracts.subjects import command_subject, query_subject


class RequestFailed(Exception):
    """A command or query was refused, or nobody answered; ``error`` says why."""

    def __init__(self, error: ErrorBody) -> None:
        fields = "; ".join(f"{f.field}: {f.reason}" for f in error.fields)
        super().__init__(f"{error.code}: {error.message}" + (f" ({fields})" if fields else ""))
        self.error = error


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
