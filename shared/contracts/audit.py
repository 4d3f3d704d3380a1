"""The access log of a case: who read or changed a person's data, and when.

Every service keeps its own audit trail (the kernel's append-only ``kernel_audit``), so every
service answers ``GetAccessLog`` for the case's records in its own database; a client asks them
all and merges by time (``shared.client.KenettClient.access_log``, ``kenett access-log``). The
person has the right to know who has had access to their data (pasientjournalloven § 18,
pasient- og brukerrettighetsloven § 5-1; domain.md, "Identifiers and data").

The log names staff by staff id and services by name; it holds no health data and no identity
numbers. Reading it is itself an access, and is logged like any other.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from .commands import Query

AccessKind = Literal["read", "change", "disclose"]


class GetAccessLog(Query):
    """One service's audit records of a case, oldest first, a page at a time."""

    QUERY: ClassVar[str] = "access_log"

    case_id: uuid.UUID
    since: AwareDatetime | None = Field(None, description="Only records at or after this moment.")
    limit: int = Field(500, ge=1, le=1000, description="Records per page.")
    offset: int = Field(0, ge=0, description="Records to skip: the next_offset of a page.")


class AccessEntry(BaseModel):
    """One access: who, when, what, and whether it was let through."""

    at: datetime
    service: str
    org: str
    actor_kind: Literal["user", "service", "system"]
    actor_id: str
    action: str = Field(description="<service>.<command or query>, or what a service did itself.")
    access: AccessKind = Field(
        description="read: a query; disclose: sent to another organisation (``to``); change: "
        "anything else."
    )
    outcome: str = Field(description="ok, or refused:<code> (an attempt that was turned away).")
    role: str | None = Field(
        None,
        description="The role the access was made in, where the request names one: as "
        "coordinator <id>, as provider <code>, as person, as next_of_kin (R7, R8).",
    )
    to: str | None = Field(None, description="The organisation a disclosure went to.")
    case_id: uuid.UUID | None = Field(
        None, description="The case (in an audit trail across cases; None: no single case)."
    )
    basis: Literal["consent", "no_objection"] | None = Field(
        None,
        description="Why the disclosure was lawful, where the sender stated it: the person's "
        "consent, or informed without objecting (helsepersonelloven § 45).",
    )


class AccessLog(BaseModel):
    """Reply to GetAccessLog: one page of one service's records."""

    case_id: uuid.UUID
    entries: list[AccessEntry]
    total: int = Field(0, description="Records of the case in this service (all pages).")
    next_offset: int | None = Field(None, description="The offset of the next page, if any.")


class GetAuditTrail(Query):
    """One service's audit records over a period, across cases, oldest first, a page at a time:
    the organisation's regular review of who accessed what, to find access without need
    (helsepersonelloven § 21 a, the snooping ban; Normen's "kontroll av logger")."""

    QUERY: ClassVar[str] = "audit_trail"

    since: AwareDatetime = Field(description="Records at or after this moment.")
    until: AwareDatetime | None = Field(None, description="Records before this moment.")
    actor_id: str | None = Field(None, min_length=1, max_length=128, description="One actor.")
    refused_only: bool = Field(False, description="Only attempts that were turned away.")
    limit: int = Field(500, ge=1, le=1000, description="Records per page.")
    offset: int = Field(0, ge=0, description="Records to skip: the next_offset of a page.")

    @model_validator(mode="after")
    def _period(self) -> GetAuditTrail:
        if self.until is not None and self.until <= self.since:
            raise ValueError("until must be after since")
        return self


class AuditTrail(BaseModel):
    """Reply to GetAuditTrail: one page of one service's records in the period."""

    entries: list[AccessEntry]
    total: int = Field(0, description="Records in the period in this service (all pages).")
    next_offset: int | None = Field(None, description="The offset of the next page, if any.")
