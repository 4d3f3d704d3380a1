"""Planning's tables.

A plan's content is kept one row per version (``planning_plan_version``), never updated except
by retention; the head row (``planning_plan``) holds what the KE filters on. Pending evaluations
(``planning_evaluation_due``) are a projection of the latest version, so the overview's
"overdue evaluations" is an index lookup.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, service_registry

registry = service_registry()


class PlanningBase(SQLModel, registry=registry):
    """Base of planning's tables."""


class PlanningCase(PlanningBase, table=True):
    """What planning knows of a case: IP consent, the coordinator, the chosen tool (R13)."""

    __tablename__ = "planning_case"

    case_id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_ref: str = Field(max_length=32)
    ip_consent_id: uuid.UUID | None = None
    coordinator_id: uuid.UUID | None = None
    tool: str | None = Field(default=None, max_length=16)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """The case closed (intake): no plan is made for it any more, and its plan closed."""
    ip_refused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """The latest decision on IP refused it (R3): no plan is drafted, and a plan freezes until
    a decision grants it (after an appeal or a new assessment)."""
    ip_decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the decision ``ip_refused_at`` follows was made: an older one arriving late is
    ignored (the latest decision counts)."""
    coordinator_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the latest appointment or stop that set ``coordinator_id`` happened: the two come
    on separate consumers, so an older one told late changes nothing."""
    outgoing_coordinator_id: uuid.UUID | None = None
    """During a handover's overlap, the coordinator handing over: they and the new one work
    together (R11), so both read and edit the plan until the handover completes."""
    handover_done_id: uuid.UUID | None = None
    """The latest handover that completed: its appointment, if told late, names no one handing
    over (the consumers are separate, so the two events may come in either order)."""


class Plan(PlanningBase, table=True):
    """The individual plan's head; one per case."""

    __tablename__ = "planning_plan"
    __table_args__ = (
        sa.Index("ix_planning_plan_org_status", "org", "status", "updated_at"),
        sa.Index("ix_planning_plan_org_coordinator", "org", "coordinator_id", "updated_at"),
        sa.Index("ix_planning_plan_org_next_evaluation", "org", "next_evaluation_on"),
        sa.Index("ix_planning_plan_org_updated", "org", "updated_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_id: uuid.UUID = Field(unique=True)
    case_ref: str = Field(max_length=32)
    coordinator_id: uuid.UUID
    status: str = Field(max_length=32)
    frozen_from: str | None = Field(default=None, max_length=32)
    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    items_numbered: int = 0  # the highest item number ever given (ids are never reused)
    period_start: date | None = None
    period_end: date | None = None
    next_evaluation_on: date | None = None
    status_reason: str | None = Field(default=None, max_length=300)
    schedule_digest: str | None = Field(
        default=None, max_length=64, description="Of the last schedule announced to reminders."
    )
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    anonymised_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PlanVersion(PlanningBase, table=True):
    """One version of a plan's content, with who saved it and when (R16)."""

    __tablename__ = "planning_plan_version"

    plan_id: uuid.UUID = Field(primary_key=True)
    version: int = Field(primary_key=True)
    saved_at: datetime = Field(sa_type=UTCDateTime)
    saved_by: str = Field(max_length=128)  # the staff user (actor id), never a name
    by_kind: str = Field(max_length=16)
    by_id: str = Field(max_length=128)
    change: str = Field(max_length=32)
    status: str = Field(max_length=32)
    note: str | None = Field(default=None, max_length=300)
    content: str = Field(sa_type=sa.Text)  # PlanContent as JSON


class EvaluationDue(PlanningBase, table=True):
    """A goal or measure with an evaluation date and no evaluation since (R16)."""

    __tablename__ = "planning_evaluation_due"

    plan_id: uuid.UUID = Field(primary_key=True)
    item_id: str = Field(primary_key=True, max_length=16)
    org: str = Field(max_length=63)
    case_id: uuid.UUID
    item_kind: str = Field(max_length=16)
    due_on: date = Field(index=True)
    announced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsentNote(PlanningBase, table=True):
    """A consent planning has heard of: shown in the plan (R14 point 8)."""

    __tablename__ = "planning_consent"

    consent_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=32)
    given_at: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="active", max_length=32)
    valid_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Set while a consent recorded to start later has not started: consent says when it
    has (``consent.consent_in_force``, or the gate), not planning's clock (R5, R7)."""

    def in_force(self, now: datetime) -> bool:
        return counts(self.status, self.valid_from, self.valid_until, now)


def counts(
    status: str, valid_from: datetime | None, valid_until: datetime | None, now: datetime
) -> bool:
    """A consent planning has noted counts: active, started (consent says so), not expired."""
    return status == "active" and valid_from is None and (valid_until is None or now < valid_until)


class ToolChange(PlanningBase, table=True):
    """One choice of coordination tool (R13); never updated."""

    __tablename__ = "planning_tool_change"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    tool: str = Field(max_length=16)
    chosen_by: str = Field(max_length=32)
    at: datetime = Field(sa_type=UTCDateTime)
    recorded_by: str = Field(max_length=128)
    note: str | None = Field(default=None, max_length=300)


class GroupMember(PlanningBase, table=True):
    """A member of the responsibility group, for a period (R13)."""

    __tablename__ = "planning_group_member"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    party_kind: str = Field(max_length=16)
    party_ref: str | None = Field(default=None, max_length=128)
    role: str = Field(max_length=300)
    from_date: date
    to_date: date | None = None


class Meeting(PlanningBase, table=True):
    """A responsibility-group meeting and its minutes."""

    __tablename__ = "planning_meeting"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    place: str = Field(max_length=300)
    agenda: str = Field(default="[]", sa_type=sa.Text)  # JSON list
    status: str = Field(default="scheduled", max_length=16)  # scheduled, held, cancelled
    attended: str = Field(default="[]", sa_type=sa.Text)  # JSON list of member ids
    summary: str | None = Field(default=None, sa_type=sa.Text)
    decisions: str = Field(default="[]", sa_type=sa.Text)  # JSON list
    cancel_reason: str | None = Field(default=None, max_length=300)
    minutes_by: str | None = Field(default=None, max_length=128)


class GroupTask(PlanningBase, table=True):
    """A task from a meeting, for a member, with a deadline."""

    __tablename__ = "planning_task"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    meeting_id: uuid.UUID
    member_id: uuid.UUID
    text: str = Field(sa_type=sa.Text)
    deadline: date
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
