"""Wiring of event consumers (durable JetStream pull consumers, fetched by ``shared.bus.pull``)
and of command and query responders (plain NATS queue subscriptions, ``shared.bus.fastpath``).
Neither goes through FastStream's per-message path (docs/benchmarks.md "pipeline", changes 12
and 19); the ``router`` argument is kept so that every service wires all its handlers the same
way, and a service's own FastStream subscribers (federation's) share the helpers here.

Event consumers are durable JetStream pull consumers with manual acknowledgement:
- the handler runs in one unit of work with the inbox check and mark; ack only after commit.
  The messages a consumer has in hand share that unit of work (``GroupCommit``): one
  transaction for a group, and a message whose group fails is applied alone;
- a message that breaks its contract (or a rule, ``Refused``) goes straight to the dead-letter
  stream with the reason, then is acked: it never blocks the consumer;
- any other failure is nacked with a growing delay; on the last of ``max_deliver`` deliveries it
  goes to the dead-letter stream with the reason instead.

Outages are not the message's fault, so they spend no delivery (the consumer pauses instead):
- the database cannot be reached (``shared.db.availability.is_connectivity_error``: refused,
  cut, shutting down; not SQLite's "database is locked", which stays a transient failure): the
  delivery waits in place until ``SELECT 1`` answers (one prober per database, backoff capped at
  a few seconds, logged once when it goes and once when it is back), then is tried again; if the
  database answers at once yet the handler keeps failing so, after ``FALSE_ALARMS`` tries it is
  an ordinary failure;
- a service it asks (the consent gate, say) answers "unavailable" or not at all: the delivery is
  tried again in place with a growing delay for up to ``DEPENDENCY_PATIENCE_S``, then it is an
  ordinary failure.
While it waits, the message is kept from redelivery with ``in_progress`` every third of
``ack_wait``. Every message of a fetched batch runs concurrently (``shared.bus.pull``), so each
one waits, and keeps itself alive, on its own; nothing is acked that was not committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from faststream.nats import ConsumerConfig, NatsRouter
from nats.aio.msg import Msg
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError

from shared.bus.deadletter import dead_letter, describe_error
from shared.bus.fastpath import responder
from shared.bus.pull import PullConsumer
from shared.client import RequestFailed
from shared.contracts.commands import Command, Query
from shared.contracts.envelope import (
    ContractError,
    Envelope,
    Event,
    known_contracts,
    open_payload,
    parse_envelope,
)
from shared.contracts.replies import CommandRejected, Reply, field_errors
from shared.contracts.subjects import EVENTS_STREAM, command_subject, query_subject
from shared.db.availability import is_connectivity_error, waiter_for
from shared.db.uow import UnitOfWork
from shared.logging import get_logger, log_context
from shared.service import ServiceContext

log = get_logger(__name__)

E = TypeVar("E", bound=Event)
C = TypeVar("C", bound=Command)
Q = TypeVar("Q", bound=Query)

# Delay before redelivery after a transient failure, by delivery count (seconds).
BACKOFF = (0.2, 1.0, 5.0, 15.0, 30.0)
DEAD_LETTER_TRIES = 3
COMMAND_ATTEMPTS = 3
COMMAND_WORKERS = 8
# Outages (module docstring): how long a delivery waits in place for a service it asks, and how
# often a connectivity error is believed when the database answers at once.
DEPENDENCY_PATIENCE_S = 120.0
DEPENDENCY_BACKOFF_MAX_S = 5.0
FALSE_ALARMS = 3


def dependency_unavailable(exc: BaseException) -> bool:
    """Did a service this handler asked fail to answer (the consent gate fails closed so)?"""
    if isinstance(exc, CommandRejected):
        return exc.code == "unavailable"
    return isinstance(exc, RequestFailed) and exc.error.code == "unavailable"


async def _keep_alive(msg: Msg, every: float) -> None:
    """Tell JetStream the message is still being worked on, so it is not redelivered."""
    while True:
        with contextlib.suppress(Exception):  # the broker may be away too; try next time
            await msg.in_progress()
        await asyncio.sleep(every)


@dataclass
class _Waiting:
    """How many deliveries of one consumer wait for a service: logged when the first starts
    and when the last is through, not per message."""

    consumer: str
    count: int = 0

    def start(self, exc: BaseException) -> None:
        self.count += 1
        if self.count == 1:
            log.warning(
                "a service this consumer asks is unavailable, waiting",
                consumer=self.consumer,
                error=describe_error(exc),
            )

    def end(self) -> None:
        self.count -= 1
        if self.count == 0:
            log.info("no delivery of this consumer waits for a service now", consumer=self.consumer)


P = TypeVar("P", bound="_Waiter")


@dataclass
class _Waiter:
    outcome: asyncio.Future[Any]


class _Grouping(Generic[P]):
    """What both group commits share: waiters queue here, and one task at a time applies them
    in arrival order, in groups of at most ``max_group`` (``_apply``), with the figures."""

    def __init__(self, name: str, max_group: int) -> None:
        self._name = name
        self._max = max_group
        self._pending: list[P] = []
        self._task: asyncio.Task[None] | None = None
        self.groups = 0
        """Groups committed."""
        self.applied = 0
        """Messages committed in them."""
        self.largest = 0
        """The largest group committed."""

    async def _wait_for(self, waiter: P) -> Any:
        self._pending.append(waiter)
        if self._task is None:
            # A context of its own: not the first submitter's log context (case, correlation).
            self._task = asyncio.create_task(
                self._run(), name=f"group-{self._name}", context=contextvars.Context()
            )
        return await waiter.outcome

    async def _run(self) -> None:
        try:
            # Let the rest of what is in hand (a fetched batch, concurrent requests) arrive.
            await asyncio.sleep(0)
            while self._pending:
                group, self._pending = self._pending[: self._max], self._pending[self._max :]
                await self._apply(group)
        finally:
            self._task = None
            _cancel_all(self._pending)  # cancelled (shutdown): not acked or answered
            self._pending = []

    async def _apply(self, group: list[P]) -> None:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return self._name

    def _committed(self, size: int) -> None:
        self.groups += 1
        self.applied += size
        self.largest = max(self.largest, size)


@dataclass
class _Pending(_Waiter):
    envelope: Envelope
    payload: Event
    extra: tuple[Any, ...]


class GroupCommit(_Grouping[_Pending]):
    """The deliveries a consumer has in hand, applied in ONE unit of work (group commit).

    Every message of a fetched batch is handled concurrently; each hands its event here and
    waits. One task applies all that are waiting, in arrival order, with one inbox check, one
    transaction and one commit. While it commits, later arrivals queue for the next group. At a
    trickle a group is one message; under load the per-transaction cost (begin, inbox check,
    kernel inserts, commit, the relay's wake-up) is shared by the whole group.

    Each waiter is answered with its outcome:
    - ``True``: committed (applied, or found applied before);
    - the exception its own handler raised: the group is rolled back, and this delivery fails
      with it as if it had been applied alone (outage waits, retries, dead letters). Each
      handler's writes are flushed before the next one runs, so a write error is blamed on
      the event that caused it;
    - ``False``: the group was rolled back for another message, at commit, or on a lost race
      (unique key, deadlock, serialization failure: likely to succeed alone), so this one is
      applied alone; the inbox keeps it from being applied twice.
    A bad message never costs the others more than one more try, its handler runs once per
    delivery, and nothing is acked that was not committed.
    """

    def __init__(
        self,
        ctx: ServiceContext,
        consumer: str,
        handler: Callable[..., Awaitable[None]],
        max_group: int,
    ) -> None:
        super().__init__(consumer, max_group)
        self._ctx = ctx
        self._consumer = consumer
        self._handler = handler

    async def submit(
        self, envelope: Envelope, payload: Event, extra: tuple[Any, ...]
    ) -> bool | Exception:
        """Apply this event with the others waiting; its outcome (class docstring)."""
        outcome: asyncio.Future[bool | Exception] = asyncio.get_running_loop().create_future()
        result: bool | Exception = await self._wait_for(_Pending(outcome, envelope, payload, extra))
        return result

    async def _apply(self, group: list[_Pending]) -> None:
        culprit: _Pending | None = None
        failure: Exception | None = None
        committed = False
        try:
            async with self._ctx.uow() as uow:
                try:
                    ids = [p.envelope.id for p in group]
                    seen = await uow.processed_among(self._consumer, ids)
                    for p in group:
                        if p.envelope.id in seen:
                            continue  # applied before (a redelivery), or twice in this group
                        seen.add(p.envelope.id)
                        culprit = p
                        with log_context(
                            org=self._ctx.org,
                            service=self._ctx.name,
                            correlation_id=str(p.envelope.correlation_id),
                            case_id=str(p.envelope.case_id) if p.envelope.case_id else None,
                        ):
                            await self._handler(uow, p.envelope, p.payload, *p.extra)
                            if len(group) > 1:
                                # Written now, so that a write error is this event's own and
                                # not the next one's (autoflush would raise it there).
                                await uow.flush()
                        uow.mark_processed(self._consumer, p.envelope.id)
                    culprit = None
                    await uow.commit()
                finally:
                    committed = uow.committed
        except asyncio.CancelledError:
            _cancel_all(group)
            raise
        except Exception as exc:
            failure = exc
        if committed:
            if failure is not None:
                log.error("after-commit hook failed", error=describe_error(failure))
            self._committed(len(group))
        for p in group:
            if p.outcome.done():
                continue
            if committed:
                p.outcome.set_result(True)
            elif culprit is p and failure is not None and not lost_race(failure):
                p.outcome.set_result(failure)
            else:
                # Rolled back for another event, at commit, or a race lost (a unique key, a
                # deadlock, a serialization failure) that it may well win alone: the inbox
                # keeps a second application out if the commit did happen after all.
                p.outcome.set_result(False)


def _cancel_all(pending: list[Any]) -> None:
    for p in pending:
        p.outcome.cancel()


def lost_race(exc: BaseException) -> bool:
    """A concurrent writer won (unique key, deadlock, serialization): the transaction was
    rolled back, and running it again is safe and may well succeed."""
    return isinstance(exc, IntegrityError) or (isinstance(exc, DBAPIError) and _is_retryable(exc))


class Refused(Exception):
    """A well-formed event that a rule refuses: dead-lettered at once, with this reason."""


def durable_name(service: str, name: str) -> str:
    return f"{service}-{name}"


async def dead_letter_and_ack(ctx: ServiceContext, msg: Msg, consumer: str, reason: str) -> bool:
    """Copy a message no handler can accept to the dead-letter stream with the reason, then
    ack it so it never blocks the consumer. If the copy fails it is nacked and comes back (it is
    never dropped); returns whether it was dead-lettered."""
    try:
        await dead_letter(
            ctx.js,
            msg,
            org=ctx.org,
            service=ctx.name,
            consumer=consumer,
            reason=reason,
            at=ctx.clock.now(),
        )
    except Exception as exc:
        log.error("dead-lettering failed", consumer=consumer, error=describe_error(exc))
        await msg.nak(delay=BACKOFF[-1])
        return False
    await msg.ack()
    log.warning("dead-lettered", consumer=consumer, reason=reason)
    return True


def event_consumer(
    router: NatsRouter,
    ctx: ServiceContext,
    *,
    name: str,
    event: type[E],
    handler: Callable[..., Awaitable[None]],
    batch_size: int = 16,
    before: Callable[[Envelope, E], Awaitable[Any]] | None = None,
    wants: Callable[[E], bool] | None = None,
) -> None:
    """Subscribe ``handler`` to ``event`` through the durable pull consumer ``<service>-<name>``.

    ``before`` runs outside any transaction (e.g. to ask the consent gate); its result is
    passed to the handler as a fourth argument. It may raise ``Refused`` or fail like a handler.
    ``wants``: an event it answers False for is one the handler would ignore (no effect, so
    no inbox mark is needed either): it is acked without a transaction.
    """
    durable = durable_name(ctx.name, name)
    subject = event.subject(ctx.org)
    # A handler is written for one version; other versions of the type are dead-lettered as
    # unsupported (with the versions this consumer accepts) rather than failing in the handler.
    accepted: dict[tuple[str, int], type[Event]] = {(event.TYPE, event.VERSION): event}
    assert (event.TYPE, event.VERSION) in known_contracts(), f"{event.TYPE} is not registered"
    max_deliver = ctx.settings.max_deliver
    config = ConsumerConfig(
        name=durable,
        durable_name=durable,
        filter_subject=subject,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=JsAckPolicy.EXPLICIT,
        ack_wait=ctx.settings.ack_wait_s,
        # The handler runs at most max_deliver times (enforced below); the server allows a few
        # more deliveries so that a failed dead-letter publish, a crash or a timeout on the last
        # try is retried as a dead-lettering instead of the message being dropped.
        max_deliver=max_deliver + DEAD_LETTER_TRIES,
        max_ack_pending=1000,
        description=f"{ctx.name}: {event.TYPE}",
    )
    ctx.consumers.append(config)
    ctx.catalog.append(("consume", subject, event))

    async def to_dead_letter(msg: Msg, reason: str) -> None:
        await dead_letter_and_ack(ctx, msg, durable, reason)

    async def on_event(msg: Msg) -> None:
        try:
            envelope = parse_envelope(msg.data)
            payload = open_payload(envelope, accepted)
            if envelope.org != ctx.org:
                raise ContractError(f"event of org {envelope.org} on a consumer of {ctx.org}")
        except ContractError as exc:
            await to_dead_letter(msg, str(exc))
            return
        if msg.metadata.num_delivered > max_deliver:
            # Earlier deliveries ended without a verdict: a crash, or a handler past ack_wait.
            await to_dead_letter(
                msg, f"no outcome after {max_deliver} deliveries (crash or timeout)"
            )
            return
        if wants is not None and not wants(payload):  # type: ignore[arg-type]
            await msg.ack()
            for observer in ctx.on_handled:
                observer(durable, envelope)
            return
        with log_context(
            org=ctx.org,
            service=ctx.name,
            correlation_id=str(envelope.correlation_id),
            case_id=str(envelope.case_id) if envelope.case_id else None,
        ):
            try:
                outcome = await in_group(envelope, payload)
                if outcome is not True:
                    failed = outcome if isinstance(outcome, Exception) else None
                    await apply_through_outages(msg, envelope, payload, failed)
            except Refused as exc:
                await to_dead_letter(msg, f"refused: {exc}")
                return
            except Exception as exc:
                deliveries = msg.metadata.num_delivered
                reason = describe_error(exc)
                if deliveries >= max_deliver:
                    await to_dead_letter(msg, f"gave up after {deliveries} deliveries: {reason}")
                else:
                    log.info("transient failure, redelivering", consumer=durable, error=reason)
                    await msg.nak(delay=BACKOFF[min(deliveries, len(BACKOFF)) - 1])
                return
            await msg.ack()
            for observer in ctx.on_handled:
                observer(durable, envelope)

    ctx.pull_consumers.append(PullConsumer(EVENTS_STREAM, durable, on_event, batch_size))
    group = GroupCommit(ctx, durable, handler, max_group=batch_size)
    ctx.groups.append(group)

    async def in_group(envelope: Envelope, payload: Event) -> bool | Exception:
        """Applied with the others in hand (``GroupCommit``); ``before`` runs first, outside
        the transaction, and its failure is this delivery's failure."""
        extra: tuple[Any, ...] = ()
        if before is not None:
            try:
                extra = (await before(envelope, payload),)  # type: ignore[arg-type]
            except Exception as exc:
                return exc
        return await group.submit(envelope, payload, extra)

    waiting = _Waiting(durable)
    keep_alive_every = max(0.5, ctx.settings.ack_wait_s / 3)

    async def apply_through_outages(
        msg: Msg, envelope: Envelope, payload: Event, failed: Exception | None = None
    ) -> None:
        """``apply``, tried again in place while the database or a service it asks is away
        (module docstring); any other failure, or an outage past patience, is raised.
        ``failed``: how the first try (in a group) already failed."""
        keeper: asyncio.Task[None] | None = None
        dependency_since: float | None = None
        false_alarms = 0
        try:
            while True:
                try:
                    if failed is not None:
                        first, failed = failed, None
                        raise first
                    await apply(envelope, payload)
                    return
                except Exception as exc:
                    failed_at = time.monotonic()
                    if is_connectivity_error(exc):
                        if keeper is None:
                            keeper = asyncio.create_task(_keep_alive(msg, keep_alive_every))
                        if await waiter_for(ctx.db).wait(failed_at):
                            false_alarms = 0
                            continue
                        false_alarms += 1
                        if false_alarms < FALSE_ALARMS:
                            continue
                        raise
                    if not dependency_unavailable(exc):
                        raise
                    if dependency_since is None:
                        dependency_since = failed_at
                        waiting.start(exc)
                    waited = failed_at - dependency_since
                    if waited >= DEPENDENCY_PATIENCE_S:
                        raise
                    if keeper is None:
                        keeper = asyncio.create_task(_keep_alive(msg, keep_alive_every))
                    await asyncio.sleep(min(0.5 + waited / 2, DEPENDENCY_BACKOFF_MAX_S))
        finally:
            if dependency_since is not None:
                waiting.end()
            if keeper is not None:
                keeper.cancel()

    async def apply(envelope: Envelope, payload: Event) -> None:
        """Handler, inbox check and mark in one unit of work."""
        extra: tuple[Any, ...] = ()
        if before is not None:
            extra = (await before(envelope, payload),)  # type: ignore[arg-type]
        async with ctx.uow() as uow:
            if not await uow.already_processed(durable, envelope.id):
                await handler(uow, envelope, payload, *extra)
                uow.mark_processed(durable, envelope.id)
                await uow.commit()


# PostgreSQL: serialization_failure, deadlock_detected.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def _is_retryable(exc: DBAPIError) -> bool:
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state in _RETRYABLE_SQLSTATES


M = TypeVar("M", bound=BaseModel)


def _decode(model: type[M], body: bytes, action: str) -> M | Reply:
    """The request, or a refusal naming each invalid field (never echoing a value)."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        return Reply.failure("validation_failed", f"{action}: invalid request", field_errors(exc))


def _audit_case(result: BaseModel | None, request: BaseModel) -> Any:
    # A recipient of a case (the person, a next of kin: notifications' RecipientRef) names
    # the case one level down.
    for source in (result, request, getattr(request, "recipient", None)):
        case_id = getattr(source, "case_id", None)
        if case_id is not None:
            return case_id
    return None


# Roles whose id says who they are without naming a person: a coordinator's id, a provider's
# service or organisation code. The person and a next of kin are recorded by role alone.
_ROLE_IDS_KEPT = frozenset({"coordinator", "provider"})


def audit_role(request: BaseModel) -> str | None:
    """The role a request reads or writes in (``who``/``by``: ``consent.GateActor``), for the
    audit record: "as coordinator <id>", "as provider <code>", "as person", "as next_of_kin".
    The plan a reader sees is cut to that role's consents (R7, R8), so the trail says which
    role the staff member used, not only who they are."""
    for name in ("who", "by"):
        party = getattr(request, name, None)
        kind = getattr(party, "kind", None)
        if isinstance(kind, str):
            ident = getattr(party, "id", None)
            return f"as {kind} {ident}" if kind in _ROLE_IDS_KEPT and ident else f"as {kind}"
    return None


@dataclass
class _PendingCommand(_Waiter):
    cmd: Command
    extra: tuple[Any, ...]


class CommandGroup(_Grouping[_PendingCommand]):
    """Commands in hand at once, applied in ONE unit of work (group commit), as
    ``GroupCommit`` does for events. Each waiter gets its ``Reply`` once the group committed;
    the exception its own handler raised (a refusal, say) when the group was rolled back for
    it; or ``False`` when the group was rolled back for another command or on a lost race,
    and it must be applied alone. When the COMMIT itself fails, every command gets that
    error: the commit may have happened (a connection lost during it), and a command without
    an idempotency key must not be applied twice. A command whose idempotency key is already
    in the group waits for the next one, where it finds the stored reply."""

    def __init__(self, processor: CommandProcessor[Any], max_group: int) -> None:
        super().__init__(processor.action, max_group)
        self._p = processor

    async def submit(self, cmd: Command, extra: tuple[Any, ...]) -> Reply | Exception | bool:
        outcome: asyncio.Future[Reply | Exception | bool] = (
            asyncio.get_running_loop().create_future()
        )
        result: Reply | Exception | bool = await self._wait_for(
            _PendingCommand(outcome, cmd, extra)
        )
        return result

    async def _apply(self, group: list[_PendingCommand]) -> None:
        ctx, action = self._p.ctx, self._p.action
        replies: dict[int, Reply] = {}
        keys: set[Any] = set()
        culprit: _PendingCommand | None = None
        failure: Exception | None = None
        committed = False
        try:
            async with ctx.uow() as uow:
                try:
                    for i, p in enumerate(group):
                        cmd = p.cmd
                        culprit = p
                        if cmd.request_id is not None:
                            if cmd.request_id in keys:
                                continue  # a resend of a command in this group: next group
                            keys.add(cmd.request_id)
                            stored = await uow.stored_reply(action, cmd.request_id)
                            if stored is not None:
                                replies[i] = Reply.model_validate_json(stored)
                                continue
                        result = await self._p.handler(uow, cmd, *p.extra)
                        if len(group) > 1:
                            await uow.flush()  # its write errors are its own
                        replies[i] = self._p.complete(uow, cmd, result)
                    culprit = None
                    await uow.commit()
                finally:
                    committed = uow.committed
        except asyncio.CancelledError:
            _cancel_all(group)
            raise
        except Exception as exc:
            failure = exc
        if committed:
            if failure is not None:
                log.error("after-commit hook failed", action=action, error=describe_error(failure))
            self._committed(len(replies))
        for i, p in enumerate(group):
            if p.outcome.done():
                continue
            if committed:
                p.outcome.set_result(replies.get(i, False))
            elif failure is not None and lost_race(failure):
                p.outcome.set_result(False)  # applied alone (and retried there)
            elif culprit is None and failure is not None:
                # The commit itself failed and may have happened after all (a connection
                # lost during COMMIT): applying again could apply twice; each fails with it.
                p.outcome.set_result(failure)
            elif p is culprit and failure is not None:
                p.outcome.set_result(failure)
            else:
                p.outcome.set_result(False)


@dataclass(frozen=True)
class CommandProcessor(Generic[C]):
    """One command's processing, apart from the transport: decode, ``before``, the handler in
    one unit of work with the audit record and the idempotency key, retries on lost races.
    ``grouped``: commands in hand at once share a unit of work (``CommandGroup``) on the
    first try; a retry is always applied alone."""

    ctx: ServiceContext
    command: type[C]
    handler: Callable[..., Awaitable[BaseModel]]
    before: Callable[[C], Awaitable[Any]] | None = None
    grouped: bool = False
    group: CommandGroup | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.grouped:
            object.__setattr__(self, "group", CommandGroup(self, max_group=COMMAND_WORKERS))

    @property
    def action(self) -> str:
        return f"{self.ctx.name}.{self.command.COMMAND}"  # type: ignore[attr-defined]

    async def process(self, body: bytes) -> Reply:
        """The reply to a raw request body. Never raises."""
        cmd = _decode(self.command, body, self.action)
        if isinstance(cmd, Reply):
            return cmd
        error: Exception | None = None
        for attempt in range(COMMAND_ATTEMPTS):
            try:
                return await self._attempt(cmd, grouped=attempt == 0)
            except DBAPIError as exc:
                error = exc
                if isinstance(exc, IntegrityError) or _is_retryable(exc):
                    # A concurrent writer won a race (unique key, deadlock, serialization):
                    # the whole unit of work was rolled back, so running it again is safe.
                    continue
                break
            except Exception as exc:
                error = exc
                break
        assert error is not None
        log.error("command failed", action=self.action, error=describe_error(error))
        return Reply.failure("unavailable", f"{self.action} could not be completed now; try again")

    def complete(self, uow: UnitOfWork, cmd: Command, result: BaseModel) -> Reply:
        """The reply to an applied command, with its audit record and stored reply (in
        ``uow``, before its commit)."""
        reply = Reply.success(result)
        uow.audit(
            actor=cmd.actor,
            action=self.action,
            case_id=_audit_case(result, cmd),
            detail=audit_role(cmd),
        )
        if cmd.request_id is not None:
            uow.store_reply(self.action, cmd.request_id, reply.model_dump_json())
        return reply

    async def _attempt(self, cmd: C, *, grouped: bool = False) -> Reply:
        ctx, action = self.ctx, self.action
        try:
            # What ``before`` found out (if anything) is handed to the handler.
            prepared = await self.before(cmd) if self.before is not None else None
            extra = () if prepared is None else (prepared,)
            if grouped and self.group is not None:
                outcome = await self.group.submit(cmd, extra)
                if isinstance(outcome, Reply):
                    return outcome
                if isinstance(outcome, Exception):
                    raise outcome
            async with ctx.uow() as uow:
                if cmd.request_id is not None:
                    stored = await uow.stored_reply(action, cmd.request_id)
                    if stored is not None:
                        return Reply.model_validate_json(stored)
                reply = self.complete(uow, cmd, await self.handler(uow, cmd, *extra))
                await uow.commit()
                return reply
        except CommandRejected as exc:
            refused = exc
        # Refused: nothing of the command is kept, but the attempt is attributable.
        async with ctx.uow() as uow:
            uow.audit(
                actor=cmd.actor,
                action=action,
                case_id=_audit_case(None, cmd),
                outcome=f"refused:{refused.code}",
                detail=audit_role(cmd),
            )
            await uow.commit()
        return refused.reply()


def command_responder(
    router: NatsRouter,
    ctx: ServiceContext,
    *,
    command: type[C],
    handler: Callable[..., Awaitable[BaseModel]],
    before: Callable[[C], Awaitable[Any]] | None = None,
) -> None:
    """Answer ``command`` over request/reply (one instance per request: queue group).

    ``before`` runs outside any transaction (e.g. to ask another service), and may refuse; a
    result other than None is passed to the handler as a third argument.
    Every command, accepted or refused, leaves an audit record; a refused one stores nothing else.
    """
    processor = CommandProcessor(ctx, command, handler, before, grouped=True)
    ctx.groups.append(processor.group)
    subject = command_subject(ctx.org, ctx.name, command.COMMAND)  # type: ignore[attr-defined]
    ctx.catalog.append(("command", subject, command))

    async def answer(body: bytes) -> bytes:
        return (await processor.process(body)).model_dump_json().encode()

    # Several at once: a command's ``before`` waits on other services, and one at a time
    # those waits would be the whole service's throughput. Writes still queue for the
    # database (one SQLite writer; row locks on PostgreSQL), and a retried request_id finds
    # the stored reply once the first has committed.
    responder(ctx, subject, answer, COMMAND_WORKERS)


def query_responder(
    router: NatsRouter,
    ctx: ServiceContext,
    *,
    query: type[Q],
    handler: Callable[..., Awaitable[BaseModel]],
    audited: bool = True,
    before: Callable[[Q], Awaitable[Any]] | None = None,
    max_workers: int = 1,
) -> None:
    """Answer ``query`` over request/reply; a read of a person's data is audited.

    ``before`` runs outside any transaction (e.g. to ask the consent gate) and may refuse; its
    result is passed to the handler as a third argument.
    """
    name: str = query.QUERY  # type: ignore[attr-defined]
    subject = query_subject(ctx.org, ctx.name, name)
    action = f"{ctx.name}.{name}"
    ctx.catalog.append(("query", subject, query))

    async def refuse(q: Q, rej: CommandRejected) -> Reply:
        if audited:  # a refused read is an access attempt too
            async with ctx.uow() as uow:
                uow.audit(
                    actor=q.actor,
                    action=action,
                    case_id=_audit_case(None, q),
                    outcome=f"refused:{rej.code}",
                    detail=audit_role(q),
                )
                await uow.commit()
        return rej.reply()

    async def on_query(body: bytes) -> Reply:
        q = _decode(query, body, action)
        if isinstance(q, Reply):
            return q
        try:
            extra: tuple[Any, ...] = ()
            if before is not None:
                try:
                    extra = (await before(q),)
                except CommandRejected as rej:
                    return await refuse(q, rej)
            async with ctx.uow(readonly=not audited) as uow:
                try:
                    result = await handler(uow, q, *extra)
                except CommandRejected as rej:
                    await uow.rollback()
                    return await refuse(q, rej)
                if audited:
                    uow.audit(
                        actor=q.actor,
                        action=action,
                        case_id=_audit_case(result, q),
                        detail=audit_role(q),
                    )
                    await uow.commit()
                return Reply.success(result)
        except Exception as exc:
            log.error("query failed", action=action, error=describe_error(exc))
            return Reply.failure("unavailable", f"{action} could not be completed now; try again")

    async def answer(body: bytes) -> bytes:
        return (await on_query(body)).model_dump_json().encode()

    responder(ctx, subject, answer, max_workers)
