"""Planning's rules, pure (rule numbers from ../shared/domain.md)."""

from __future__ import annotations

import uuid
from enum import StrEnum


class PlanStatus(StrEnum):
    """A plan's life: draft → active → under revision → closed."""

    DRAFT = "draft"
    ACTIVE = "active"
    FROZEN = "frozen"  # the IP consent ended (R7): no provider access, the person still sees it
    UNDER_REVISION = "under_revision"
    CLOSED = "closed"


def ready_for_plan(ip_consent_id: uuid.UUID | None, coordinator_id: uuid.UUID | None) -> bool:
    """A draft plan may be made once the person consents to an IP (R5) and a coordinator is
    appointed to drive it (R9, R14 point 3)."""
    return ip_consent_id is not None and coordinator_id is not None
