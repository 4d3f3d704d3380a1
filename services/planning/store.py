"""Planning's tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, service_registry

registry = service_registry()


class PlanningBase(SQLModel, registry=registry):
    """Base of planning's tables."""


class PlanningCase(PlanningBase, table=True):
    """What planning knows of a case: IP consent and the coordinator."""

    __tablename__ = "planning_case"

    case_id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_ref: str = Field(max_length=32)
    ip_consent_id: uuid.UUID | None = None
    coordinator_id: uuid.UUID | None = None


class Plan(PlanningBase, table=True):
    """The individual plan; one per case."""

    __tablename__ = "planning_plan"

    id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=63)
    case_id: uuid.UUID = Field(unique=True)
    case_ref: str = Field(max_length=32)
    coordinator_id: uuid.UUID
    status: str = Field(max_length=32)
    frozen_from: str | None = Field(default=None, max_length=32)
    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime)
