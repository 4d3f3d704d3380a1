"""The one envelope every event travels in, and the registry of event contracts.

Versioning: adding an optional field to a payload is compatible and keeps the version; anything
else is a new version. Consumers accept the (type, version) pairs they know and dead-letter the
rest with a reason.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.ids import new_id

from .subjects import event_subject


class Actor(BaseModel):
    """Who caused something: a user (by staff id, never by name), a service, or the system."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["user", "service", "system"]
    id: str = Field(min_length=1, max_length=128)


class Event(BaseModel):
    """Base of every event payload. Subclasses set TYPE (``service.event``) and VERSION."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    @classmethod
    def service(cls) -> str:
        return cls.TYPE.split(".", 1)[0]

    @classmethod
    def name(cls) -> str:
        return cls.TYPE.split(".", 1)[1]

    @classmethod
    def subject(cls, org: str) -> str:
        return event_subject(org, cls.service(), cls.name())


_REGISTRY: dict[tuple[str, int], type[Event]] = {}


def event_contract(cls: type[Event]) -> type[Event]:
    """Class decorator: register an event contract under its (TYPE, VERSION)."""
    key = (cls.TYPE, cls.VERSION)
    if key in _REGISTRY and _REGISTRY[key] is not cls:
        raise RuntimeError(f"event contract {key} registered twice")
    _REGISTRY[key] = cls
    return cls


def known_contracts() -> dict[tuple[str, int], type[Event]]:
    """Every registered (type, version) and its payload model."""
    return dict(_REGISTRY)


class Envelope(BaseModel):
    """Metadata around a payload; ``id`` doubles as the JetStream ``Nats-Msg-Id``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: uuid.UUID
    type: str = Field(pattern=r"^[a-z0-9_]+\.[a-z0-9_]+$")
    version: int = Field(ge=1)
    org: str
    occurred_at: datetime
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    actor: Actor
    case_id: uuid.UUID | None = None
    payload: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        org: str,
        occurred_at: datetime,
        actor: Actor,
        case_id: uuid.UUID | None,
        correlation_id: uuid.UUID | None = None,
        causation: Envelope | None = None,
    ) -> Envelope:
        """Put an event in an envelope; a caused event inherits its cause's correlation id."""
        event_id = new_id()
        if correlation_id is None:
            correlation_id = causation.correlation_id if causation else event_id
        return cls(
            id=event_id,
            type=event.TYPE,
            version=event.VERSION,
            org=org,
            occurred_at=occurred_at,
            correlation_id=correlation_id,
            causation_id=causation.id if causation else None,
            actor=actor,
            case_id=case_id,
            payload=event.model_dump(mode="json"),
        )

    @property
    def subject(self) -> str:
        service, name = self.type.split(".", 1)
        return event_subject(self.org, service, name)


class ContractError(ValueError):
    """A message that no handler can accept: the reason goes to the dead-letter stream."""


def parse_envelope(raw: bytes) -> Envelope:
    """Decode and validate an envelope, with a reason that names what is wrong."""
    try:
        return Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise ContractError(f"invalid envelope: {describe_validation_error(exc)}") from None


def open_payload(envelope: Envelope, accepted: dict[tuple[str, int], type[Event]]) -> Event:
    """Validate the payload against the contract of its (type, version), if accepted here."""
    model = accepted.get((envelope.type, envelope.version))
    if model is None:
        versions = sorted(v for (t, v) in accepted if t == envelope.type)
        if versions:
            raise ContractError(
                f"unsupported version {envelope.version} of {envelope.type}; "
                f"this consumer accepts versions {versions}"
            )
        raise ContractError(f"event type {envelope.type} is not handled by this consumer")
    try:
        return model.model_validate(known_fields(model, envelope.payload))
    except ValidationError as exc:
        raise ContractError(
            f"invalid payload for {envelope.type} v{envelope.version}: "
            f"{describe_validation_error(exc)}"
        ) from None


def known_fields(model: type[BaseModel], data: Any) -> Any:
    """A received payload without the fields its contract does not know: a newer producer may
    add optional fields in the same version, and a reader that has not yet been upgraded must
    ignore them, not refuse the message (a rolling upgrade; architecture, "versioned
    contracts"). Only the top level: nested parts are validated as they are. What is sent is
    still checked strictly (the models forbid unknown fields)."""
    if not isinstance(data, dict):
        return data
    fields = model.model_fields
    if all(k in fields for k in data):
        return data
    return {k: v for k, v in data.items() if k in fields}


def describe_validation_error(exc: ValidationError) -> str:
    """Field paths and reasons only; never the offending input (it may be personal data)."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)
