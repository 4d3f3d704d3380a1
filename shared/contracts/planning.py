"""Planning's public language: the individual plan (R14-R16)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel

from .commands import Query
from .consent import ContentKind, GateActor, LifeArea
from .envelope import Event, event_contract

SERVICE = "planning"


class GetPlan(Query):
    """Read the plan of a case."""

    QUERY: ClassVar[str] = "get_plan"

    case_id: uuid.UUID


class PlanView(BaseModel):
    """A plan's head: status and coordinator."""

    plan_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    coordinator_id: uuid.UUID
    status: str
    version: int
    created_at: datetime


@event_contract
class PlanCreated(Event):
    """A draft plan naming the coordinator was created (R5: only with IP consent)."""

    TYPE = "planning.plan_created"
    VERSION = 1

    plan_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    coordinator_id: uuid.UUID


class ViewPlan(Query):
    """Read a plan as someone: the consent gate decides whether they may (R5-R8)."""

    QUERY: ClassVar[str] = "view_plan"

    case_id: uuid.UUID
    who: GateActor
    life_area: LifeArea | None = None
    content_kind: ContentKind | None = None


class PlanAccess(BaseModel):
    """The plan head, and the gate's reason for letting the reader see it."""

    plan: PlanView
    reason: str
    consent_id: uuid.UUID | None


@event_contract
class PlanFrozen(Event):
    """The IP consent ended: no provider access; the person still sees the plan (R7)."""

    TYPE = "planning.plan_frozen"
    VERSION = 1

    plan_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    cause: str


@event_contract
class PlanUnfrozen(Event):
    """A new IP consent was given: the plan is open to its participants again."""

    TYPE = "planning.plan_unfrozen"
    VERSION = 1

    plan_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
