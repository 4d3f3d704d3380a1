"""What a running process says of itself when asked (``kenett status``, a container's health
check): which services it runs, whether each reaches its database, and whether its outbox is
keeping up. Operational facts only: no case, no person, no staff id."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ServiceHealth(BaseModel):
    """One service in one process."""

    name: str
    database: str = Field(description='"ok", or "unavailable: <why>" (an error type).')
    outbox_backlog: int | None = Field(
        None, description="Events committed and not yet published (None: database unavailable)."
    )
    oldest_unpublished_s: float | None = Field(
        None, description="Age of the oldest of them in seconds (None: none waiting)."
    )
    consumers: int = Field(
        0, description="Event consumers whose fetch loop is running and its fetches work."
    )
    consumers_declared: int = Field(0, description="Event consumers the service has.")
    consumers_failing: dict[str, str] = Field(
        default_factory=dict,
        description="Consumers whose fetches fail one after another: durable name → "
        '"<failures in a row>× <error type>" (e.g. the consumer was deleted).',
    )
    event_transactions: int = Field(
        0, description="Transactions the service's event consumers committed since it started."
    )
    events_committed: int = Field(
        0, description="Events applied in them (their ratio: how many share a transaction)."
    )
    command_transactions: int = Field(
        0, description="Transactions its commands committed in groups since it started."
    )
    events_published: int = Field(
        0, description="Events (and cross-organisation messages) its outbox relay published."
    )
    outbox_batches: int = Field(
        0, description="Batches they were published in (a read and a marking each)."
    )


class InstanceStatus(BaseModel):
    """One process: where it runs, since when, and its services."""

    instance: str = Field(description="<host>:<pid>.")
    host: str
    pid: int
    version: str
    org: str
    started_at: datetime
    durability: str = Field(
        "crash",
        description='What an acknowledged commit survives: "crash" (SQLite synced at '
        'checkpoints: a crash of kenett loses nothing, a power cut may), "power" (SQLite '
        'synced at every commit, KENETT_DURABILITY=power), or "postgresql" (as PostgreSQL\'s '
        "own synchronous_commit says).",
    )
    synchronous_commit: str | None = Field(
        None,
        description="On PostgreSQL, its synchronous_commit as the services' connections see "
        'it ("on", "remote_apply", "remote_write", "local" or "off"); None on SQLite, or when '
        'it could not be read. "off" is a problem: a crash of PostgreSQL can lose commits whose '
        "messages kenett has already acknowledged.",
    )
    services: list[ServiceHealth]

    def problems(self, stuck_after_s: float) -> list[str]:
        """What is wrong here, in words (empty: nothing)."""
        problems = []
        if self.synchronous_commit == "off":
            problems.append(
                f"{self.instance}: PostgreSQL's synchronous_commit is off; a crash of PostgreSQL "
                "can lose commits whose messages were already acknowledged (set it to on)"
            )
        for s in self.services:
            if s.database != "ok":
                problems.append(f"{s.name} on {self.instance}: database {s.database}")
            if s.consumers < s.consumers_declared:
                failing = "".join(
                    f"; {name}: fetch failing ({why})" for name, why in s.consumers_failing.items()
                )
                problems.append(
                    f"{s.name} on {self.instance}: {s.consumers} of {s.consumers_declared} "
                    f"event consumers are fetching{failing}"
                )
            age = s.oldest_unpublished_s
            if s.database == "ok" and age is not None and age > stuck_after_s:
                problems.append(
                    f"{s.name} on {self.instance}: {s.outbox_backlog} events not published, "
                    f"the oldest for {age:.0f} s"
                )
        return problems
