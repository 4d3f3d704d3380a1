"""Async database access: one database (SQLite file or PostgreSQL schema) per service."""

from .engine import Database
from .types import UTCDateTime, service_registry
from .uow import UnitOfWork

__all__ = ["Database", "UTCDateTime", "UnitOfWork", "service_registry"]
