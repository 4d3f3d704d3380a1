"""Reminders on the clock (R3, R6, R10-R12, R16): kept from other services' events, fired by
the sweep when their time comes, each stage once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import col, select

from shared.contracts.envelope import Actor
from shared.contracts.notifications import Policy, ke_inbox, next_of_kin_inbox, person_inbox
from shared.contracts.planning import Party, PartyKind, party_inbox
from shared.db.fast import FastStatement
from shared.db.uow import UnitOfWork

from .domain import (
    AUDIENCES,
    RULES,
    Audience,
    ReminderKind,
    due_now,
    local_date,
    next_fire,
)
from .notify import Notifier, Target, notice_id
from .store import CaseCoordinator, ParentConsent, Recipient, Reminder

REMINDER_NS = uuid.UUID("0b8e7d0e-5a0e-4f4b-8f3c-5c1d3c2b9a77")
BATCH = 500

# (case_id, relative) → may this relative be told (the gate's "notify", R8)?
NokGate = Callable[[list[tuple[uuid.UUID, str]]], Awaitable[set[tuple[uuid.UUID, str]]]]


def reminder_id(org: str, key: str) -> uuid.UUID:
    return uuid.uuid5(REMINDER_NS, f"{org}:{key}")


# Statements of the hot path built once, run as core statements through the session's
# connection: a fraction of the CPU of an ORM get (no object built, no autoflush).
# On SQLite they run straight on the driver (shared.db.fast).
_REMINDER_EXISTS = FastStatement(
    sa.select(col(Reminder.id)).where(col(Reminder.id) == sa.bindparam("id"))
)
_COORDINATOR = FastStatement(
    sa.select(col(CaseCoordinator.coordinator_id)).where(
        col(CaseCoordinator.case_id) == sa.bindparam("case_id")
    )
)


def _set_coordinator_statement(insert: Any) -> Any:
    statement = insert(CaseCoordinator.__table__)  # type: ignore[attr-defined]
    return statement.on_conflict_do_update(
        index_elements=[col(CaseCoordinator.case_id)],
        set_={"coordinator_id": statement.excluded.coordinator_id},
    )


_SET_COORDINATOR = {
    "sqlite": FastStatement(_set_coordinator_statement(sqlite_insert)),
    "postgresql": FastStatement(_set_coordinator_statement(pg_insert)),
}


def _held(uow: UnitOfWork, model: type[Any], key: Any) -> Any | None:
    """The session's loaded row of ``model`` with this key (not expired), if it holds one."""
    row = uow.session.sync_session.identity_map.get(identity_key(model, key))
    if row is None or sa.inspect(row).expired_attributes:
        return None
    return row


async def coordinator_of(uow: UnitOfWork, case_id: uuid.UUID) -> uuid.UUID | None:
    """Who coordinates the case as notifications knows it (None: nobody, or not known)."""
    row = _held(uow, CaseCoordinator, case_id)
    if row is not None:
        held: uuid.UUID | None = row.coordinator_id
        return held
    conn = await uow.connection()
    found = await _COORDINATOR.fetch(conn, {"case_id": case_id})
    coordinator: uuid.UUID | None = found[0][0] if found else None
    return coordinator


async def set_coordinator(
    uow: UnitOfWork, case_id: uuid.UUID, coordinator: uuid.UUID | None
) -> None:
    """Record who coordinates the case now: one upsert (insert, or update the row, which it
    locks), safe against a concurrent first insert like ``get_or_insert`` and without
    reading the row back. A row this session holds is given the new value as well."""
    conn = await uow.connection()
    await _SET_COORDINATOR[conn.dialect.name].run(
        conn,
        {
            "case_id": case_id,
            "org": uow.org,
            "coordinator_id": coordinator,
            # Every column given: a default left to SQLAlchemy would take it off the fast path.
            "coordinator_decided_at": None,
            "coordinator_refused": False,
        },
    )
    row = _held(uow, CaseCoordinator, case_id)
    if row is not None:
        set_committed_value(row, "coordinator_id", coordinator)


def _decision_statement(insert: Any) -> Any:
    statement = insert(CaseCoordinator.__table__)  # type: ignore[attr-defined]
    stored = col(CaseCoordinator.coordinator_decided_at)
    return statement.on_conflict_do_update(
        index_elements=[col(CaseCoordinator.case_id)],
        set_={
            "coordinator_decided_at": statement.excluded.coordinator_decided_at,
            "coordinator_refused": statement.excluded.coordinator_refused,
        },
        # The latest decision counts, whatever order they are delivered in (R4).
        where=sa.or_(stored.is_(None), stored <= statement.excluded.coordinator_decided_at),
    )


_COORDINATOR_DECISION = {
    "sqlite": FastStatement(_decision_statement(sqlite_insert)),
    "postgresql": FastStatement(_decision_statement(pg_insert)),
}
_COORDINATOR_REFUSED = FastStatement(
    sa.select(
        col(CaseCoordinator.coordinator_refused), col(CaseCoordinator.coordinator_decided_at)
    ).where(col(CaseCoordinator.case_id) == sa.bindparam("case_id"))
)


async def record_coordinator_decision(
    uow: UnitOfWork, case_id: uuid.UUID, decided_at: datetime, refused: bool
) -> bool:
    """Remember the case's decision on a coordinator (R4) unless a later one is known.
    Returns whether the case's latest decision now refuses a coordinator."""
    conn = await uow.connection()
    await _COORDINATOR_DECISION[conn.dialect.name].run(
        conn,
        {
            "case_id": case_id,
            "org": uow.org,
            "coordinator_id": None,
            "coordinator_decided_at": decided_at,
            "coordinator_refused": refused,
        },
    )
    row = _held(uow, CaseCoordinator, case_id)
    if row is not None:
        uow.session.sync_session.expire(row)
    return await coordinator_refused(uow, case_id)


async def _refusal(uow: UnitOfWork, case_id: uuid.UUID) -> datetime | None:
    """When the refusal was decided, if the latest decision on the case refused a coordinator."""
    conn = await uow.connection()
    found = await _COORDINATOR_REFUSED.fetch(conn, {"case_id": case_id})
    if not found or not found[0][0]:
        return None
    decided: datetime = found[0][1]
    return decided


async def coordinator_refused(uow: UnitOfWork, case_id: uuid.UUID) -> bool:
    """Whether the latest decision on the case refused a coordinator (R4): then a case
    "awaiting a coordinator" awaits nobody."""
    return await _refusal(uow, case_id) is not None


async def awaiting_is_stale(
    uow: UnitOfWork, case_id: uuid.UUID, known_decision_at: datetime | None
) -> bool:
    """Whether a "case awaiting coordinator" event is older than a refusal known here: it was
    flagged by assignment before it knew of that refusal (``known_decision_at``, the latest
    decision assignment knew of, is earlier or absent). One flagged after a later grant is
    not (R4: the latest decision counts, in whatever order the two streams deliver)."""
    refused_at = await _refusal(uow, case_id)
    if refused_at is None:
        return False
    return known_decision_at is None or known_decision_at < refused_at


async def upsert(
    uow: UnitOfWork,
    policy: Policy,
    *,
    key: str,
    kind: ReminderKind,
    case_id: uuid.UUID | None,
    case_ref: str,
    due_at: datetime,
    shown_on: date | None,
    source: uuid.UUID | None = None,
    item_id: str | None = None,
    recipients: list[dict[str, str]] | None = None,
    keep_due: bool = False,
) -> Reminder:
    """Keep a reminder; a changed date starts its stages again. ``keep_due``: an existing
    active reminder keeps its date (a case still waiting keeps the day it started waiting)."""
    rid = reminder_id(uow.org, key)
    row = await uow.session.get(Reminder, rid, with_for_update=True)
    now = uow.clock.now()
    if row is None:
        row = Reminder(
            id=rid,
            org=uow.org,
            kind=kind.value,
            case_id=case_id,
            case_ref=case_ref,
            source=source,
            item_id=item_id,
            due_at=due_at,
            shown_on=shown_on,
            updated_at=now,
        )
        uow.session.add(row)
    elif row.active and keep_due:
        pass
    elif row.due_at != due_at or not row.active:
        row.due_at, row.shown_on, row.fired = due_at, shown_on, ""
    row.active = True
    row.recipients = json.dumps(recipients or [], sort_keys=True)
    row.case_ref = case_ref
    row.updated_at = now
    row.next_fire_at = next_fire(kind, row.due_at, _fired(row), policy.lead_times)
    return row


async def deactivate(uow: UnitOfWork, rows: Iterable[Reminder]) -> int:
    n = 0
    for row in rows:
        if row.active:
            row.active, row.next_fire_at, row.updated_at = False, None, uow.clock.now()
            n += 1
    return n


async def by_key(uow: UnitOfWork, key: str) -> Reminder | None:
    """The reminder kept under ``key``, locked; usually there is none (a case that never
    waited for a coordinator), so a core probe asks first and the ORM loads only a row that
    exists. Nothing is flushed: a reminder added in this unit of work and not flushed yet is
    not found (no handler that calls this adds one)."""
    rid = reminder_id(uow.org, key)
    if _held(uow, Reminder, rid) is None:
        conn = await uow.connection()
        if not await _REMINDER_EXISTS.fetch(conn, {"id": rid}):
            return None
    return await uow.session.get(Reminder, rid, with_for_update=True)


async def of_source(uow: UnitOfWork, source: uuid.UUID, kinds: Iterable[str]) -> list[Reminder]:
    rows = await uow.session.exec(
        select(Reminder).where(
            Reminder.org == uow.org,
            Reminder.source == source,
            col(Reminder.kind).in_(list(kinds)),
        )
    )
    return list(rows)


async def refresh_leads(uow: UnitOfWork, policy: Policy) -> int:
    """New lead times apply to every active reminder."""
    n = 0
    rows = await uow.session.exec(
        select(Reminder).where(Reminder.org == uow.org, col(Reminder.active).is_(True))
    )
    for row in rows:
        row.next_fire_at = next_fire(
            ReminderKind(row.kind), row.due_at, _fired(row), policy.lead_times
        )
        n += 1
    return n


def _fired(row: Reminder) -> frozenset[str]:
    return frozenset(s for s in row.fired.split(",") if s)


def party_target(org: str, case_id: uuid.UUID | None, party: Party) -> dict[str, str] | None:
    """Whom a measure's responsible party is told as (R16)."""
    if party.kind is PartyKind.PERSON:
        return {"kind": "person"}
    if party.kind is PartyKind.NEXT_OF_KIN and party.ref:
        return {"kind": "next_of_kin", "relative": party.ref}
    if party.kind is PartyKind.COORDINATOR:
        return None  # the coordinator is told anyway
    inbox = party_inbox(org, party)
    return {"kind": "member", "id": str(inbox)} if inbox is not None else None


async def next_of_kin_of(uow: UnitOfWork, case_ids: Iterable[uuid.UUID]) -> list[Recipient]:
    """Relatives with a registered contact for these cases (only they can be told)."""
    ids = list(set(case_ids))
    if not ids:
        return []
    rows = await uow.session.exec(
        select(Recipient).where(
            Recipient.org == uow.org,
            Recipient.kind == "next_of_kin",
            col(Recipient.case_id).in_(ids),
        )
    )
    return list(rows)


def wanted_relatives(
    reminders: Iterable[Reminder], registered: Iterable[Recipient]
) -> list[tuple[uuid.UUID, str]]:
    """The (case, relative) pairs the gate must be asked about before these reminders fire."""
    by_case: dict[uuid.UUID, list[str]] = {}
    for r in registered:
        if r.case_id is not None and r.relative:
            by_case.setdefault(r.case_id, []).append(r.relative)
    out: set[tuple[uuid.UUID, str]] = set()
    for row in reminders:
        if row.case_id is None:
            continue
        audiences = {a for rule in RULES[ReminderKind(row.kind)] for a in AUDIENCES[rule.notice]}
        if Audience.NEXT_OF_KIN in audiences:
            out.update((row.case_id, rel) for rel in by_case.get(row.case_id, []))
        for named in json.loads(row.recipients):
            if named.get("kind") == "next_of_kin" and named.get("relative"):
                out.add((row.case_id, named["relative"]))
    return sorted(out, key=str)


async def targets(
    uow: UnitOfWork,
    audiences: Iterable[Audience],
    *,
    case_id: uuid.UUID | None,
    named: Iterable[dict[str, str]] = (),
    relatives: Iterable[str] = (),
    allowed: set[tuple[uuid.UUID, str]] | None = None,
    coordinators: dict[uuid.UUID, uuid.UUID | None] | None = None,
) -> tuple[list[Target], str | None]:
    """Who is told, and a problem to record when someone could not be (e.g. the case has no
    coordinator known: the KE is told instead)."""
    out: list[Target] = []
    problem = None
    allowed = allowed or set()
    for audience in audiences:
        if audience is Audience.COORDINATOR:
            if coordinators is not None:
                coordinator = coordinators.get(case_id) if case_id else None
            else:
                coordinator = await coordinator_of(uow, case_id) if case_id else None
            if coordinator is not None:
                out.append(Target("coordinator", coordinator))
            else:
                out.append(Target("ke", ke_inbox(uow.org)))
                problem = "the case has no coordinator known to notifications; the KE was told"
        elif audience is Audience.KE:
            out.append(Target("ke", ke_inbox(uow.org)))
        elif audience is Audience.PERSON and case_id is not None:
            out.append(Target("person", person_inbox(case_id)))
        elif audience is Audience.NEXT_OF_KIN and case_id is not None:
            for relative in relatives:
                if (case_id, relative) in allowed:
                    out.append(Target("next_of_kin", next_of_kin_inbox(uow.org, case_id, relative)))
        elif audience in (Audience.MEMBERS, Audience.RESPONSIBLE, Audience.NAMED):
            for n in named:
                target = _named(uow.org, case_id, n, allowed)
                if target is not None:
                    out.append(target)
    return out, problem


def _named(
    org: str,
    case_id: uuid.UUID | None,
    named: dict[str, str],
    allowed: set[tuple[uuid.UUID, str]],
) -> Target | None:
    kind = named.get("kind")
    if kind == "person" and case_id is not None:
        return Target("person", person_inbox(case_id))
    if kind == "next_of_kin" and case_id is not None:
        relative = named.get("relative", "")
        if (case_id, relative) in allowed:
            return Target("next_of_kin", next_of_kin_inbox(org, case_id, relative))
        return None
    if named.get("id"):
        return Target(kind or "member", uuid.UUID(named["id"]))
    return None


async def due_batch(uow: UnitOfWork, now: datetime, limit: int = BATCH) -> list[Reminder]:
    rows = await uow.session.exec(
        select(Reminder)
        .where(
            Reminder.org == uow.org,
            col(Reminder.active).is_(True),
            col(Reminder.next_fire_at) <= now,
        )
        .order_by(col(Reminder.next_fire_at))
        .limit(limit)
    )
    return list(rows)


async def fire(
    uow: UnitOfWork,
    notifier: Notifier,
    policy: Policy,
    rows: Iterable[Reminder],
    allowed: set[tuple[uuid.UUID, str]],
    actor: Actor,
) -> int:
    """Tell what these reminders have to tell now; mark each stage told. Runs in the caller's
    write transaction, so a crash leaves the stage untold and it is told on the next sweep.

    What the batch needs from the database (coordinators, notices already made, recipients'
    preferences) is read in a few queries first, and nothing is flushed until the commit: a
    read per notice cost ~4 ms of CPU each (ORM get + autoflush), 40 s for 10,000."""
    now = uow.clock.now()
    made = 0
    rows = list(rows)
    case_ids = sorted({row.case_id for row in rows if row.case_id})
    relatives: dict[uuid.UUID, list[str]] = {}
    for r in await next_of_kin_of(uow, case_ids):
        if r.case_id is not None and r.relative:
            relatives.setdefault(r.case_id, []).append(r.relative)
    coordinators: dict[uuid.UUID, uuid.UUID | None] = {}
    for i in range(0, len(case_ids), BATCH):
        for c in await uow.session.exec(
            select(CaseCoordinator).where(col(CaseCoordinator.case_id).in_(case_ids[i : i + BATCH]))
        ):
            coordinators[c.case_id] = c.coordinator_id
    plans = []
    for row in rows:
        if not row.active or row.next_fire_at is None or row.next_fire_at > now:
            continue  # another sweep got here first
        kind = ReminderKind(row.kind)
        fired = _fired(row)
        tell, skip = due_now(kind, row.due_at, fired, now, policy.lead_times)
        told = []
        for rule in tell:
            if not await _still_relevant(uow, kind, row):
                continue
            who, problem = await targets(
                uow,
                AUDIENCES[rule.notice],
                case_id=row.case_id,
                named=json.loads(row.recipients),
                relatives=relatives.get(row.case_id, []) if row.case_id else [],
                allowed=allowed,
                coordinators=coordinators,
            )
            told.append((rule, uuid.uuid5(row.id, rule.stage.value), who, problem))
        plans.append((row, kind, fired, tell, skip, told))
    known = await notifier.known(
        uow,
        [
            notice_id(trigger, t.id, rule.notice)
            for *_, told in plans
            for rule, trigger, who, _ in told
            for t in who
        ],
        [t.id for *_, told in plans for _, _, who, _ in told for t in who],
    )
    with uow.session.no_autoflush:
        for row, kind, fired, tell, skip, told in plans:
            for rule, trigger, who, problem in told:
                made += await notifier.notify(
                    uow,
                    trigger=trigger,
                    kind=rule.notice,
                    case_id=row.case_id,
                    case_ref=row.case_ref,
                    targets=who,
                    actor=actor,
                    on=row.shown_on or local_date(row.due_at),
                    problem=problem,
                    policy=policy,
                    known=known,
                )
            fired = fired | {r.stage.value for r in tell} | {s.value for s in skip}
            row.fired = ",".join(sorted(fired))
            row.next_fire_at = next_fire(kind, row.due_at, fired, policy.lead_times)
            row.active = row.next_fire_at is not None
            row.updated_at = now
    return made


async def _still_relevant(uow: UnitOfWork, kind: ReminderKind, row: Reminder) -> bool:
    """A renewal at 16 matters only while a parent's consent stands (R6); a case "still
    without coordinator" only while it has none (R11)."""
    if kind is ReminderKind.CONSENT_RENEWAL:
        found = await uow.session.exec(
            select(ParentConsent.consent_id).where(
                ParentConsent.case_id == row.case_id, col(ParentConsent.active).is_(True)
            )
        )
        return found.first() is not None
    if kind is ReminderKind.WITHOUT_COORDINATOR:
        # Not once one is appointed, nor once a decision refused the case one (R4).
        coordinator = await uow.session.get(CaseCoordinator, row.case_id)
        return coordinator is None or (
            coordinator.coordinator_id is None and not coordinator.coordinator_refused
        )
    return True


def sixteenth_birthday(birth: date) -> date:
    try:
        return birth.replace(year=birth.year + 16)
    except ValueError:  # 29 February: health-legal majority on 1 March
        return date(birth.year + 16, 3, 1)


def day_after(on: date) -> date:
    return on + timedelta(days=1)
