"""The public language between services: event and command models, and subjects.

Importing this package registers every event contract.
"""

from . import assignment, consent, intake, notifications, planning
from .commands import Command, Query
from .envelope import (
    Actor,
    ContractError,
    Envelope,
    Event,
    event_contract,
    known_contracts,
    open_payload,
    parse_envelope,
)
from .replies import CommandRejected, ErrorBody, FieldError, Reply

__all__ = [
    "Actor",
    "Command",
    "CommandRejected",
    "ContractError",
    "Envelope",
    "ErrorBody",
    "Event",
    "FieldError",
    "Query",
    "Reply",
    "assignment",
    "consent",
    "event_contract",
    "intake",
    "known_contracts",
    "notifications",
    "open_payload",
    "parse_envelope",
    "planning",
]
