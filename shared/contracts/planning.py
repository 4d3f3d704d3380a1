"""Planning's public language: the individual plan (R14-R16)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel

from .commands import Query
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
