"""Assignment's public language: the coordinator registry and appointments (R9-R11)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import BaseModel, Field

from .commands import Command, Query
from .envelope import Event, event_contract

SERVICE = "assignment"


class RegisterCoordinator(Command):
    """Add an employee to the coordinator registry."""

    COMMAND: ClassVar[str] = "register_coordinator"

    staff_id: str = Field(min_length=1, max_length=128)
    display_name: str = Field(min_length=1, max_length=200)
    unit: str = Field(min_length=1, max_length=120)
    caseload_limit: int | None = Field(
        None, ge=1, le=100, description="Individual limit; the org default (R10) when absent."
    )


class RegisterCoordinatorResult(BaseModel):
    """The registered coordinator, and the waiting cases it was appointed to at once."""

    coordinator_id: uuid.UUID
    appointed_case_ids: list[uuid.UUID]


class ListCoordinators(Query):
    """The registry with current caseloads."""

    QUERY: ClassVar[str] = "list_coordinators"


class CoordinatorView(BaseModel):
    """A coordinator and their caseload against their limit (R10)."""

    coordinator_id: uuid.UUID
    staff_id: str
    unit: str
    active: bool
    caseload: int
    caseload_limit: int
    free: int


class CoordinatorList(BaseModel):
    """Reply to ListCoordinators."""

    coordinators: list[CoordinatorView]


@event_contract
class CoordinatorRegistered(Event):
    """An employee joined the coordinator registry."""

    TYPE = "assignment.coordinator_registered"
    VERSION = 1

    coordinator_id: uuid.UUID
    unit: str
    caseload_limit: int


@event_contract
class CoordinatorAppointed(Event):
    """A coordinator was appointed as the case's primary coordinator (R9)."""

    TYPE = "assignment.coordinator_appointed"
    VERSION = 1

    appointment_id: uuid.UUID
    case_id: uuid.UUID
    case_ref: str
    coordinator_id: uuid.UUID


@event_contract
class CaseAwaitingCoordinator(Event):
    """A case has coordinator consent but no coordinator has free capacity (R10, R11)."""

    TYPE = "assignment.case_awaiting_coordinator"
    VERSION = 1

    case_id: uuid.UUID
    case_ref: str
    reason: str


@event_contract
class CoordinationStopped(Event):
    """The coordinator consent ended, so coordination based on it stops (R7)."""

    TYPE = "assignment.coordination_stopped"
    VERSION = 1

    case_id: uuid.UUID
    case_ref: str
    coordinator_id: uuid.UUID
    cause: str
