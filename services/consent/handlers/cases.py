"""Consent's projection of cases, and the lookup when it lags."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import col

from services.consent.domain import sixteenth_birthday
from services.consent.store import ConsentCase
from shared.client import KenettClient, RequestFailed
from shared.contracts.consent import RecordConsent
from shared.contracts.envelope import Envelope
from shared.contracts.intake import CaseOpened, CaseView, GetCase
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.fast import FastStatement
from shared.db.uow import UnitOfWork
from shared.service import ServiceContext

# The projection's statements, built once. A case is added once: the insert does nothing when
# the row is there already (the event redelivered, or ensure_case_known was first), and the
# row is never read back here, so no ORM object is built for it.
_CASE_KNOWN = FastStatement(
    select(col(ConsentCase.case_id)).where(col(ConsentCase.case_id) == bindparam("case_id"))
)


def _case_row(case_id: Any, org: str, case_ref: str, birth_date: Any) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "org": org,
        "case_ref": case_ref,
        "birth_date": birth_date,
        "sixteen_on": sixteenth_birthday(birth_date),
    }


async def _add_case(uow: UnitOfWork, row: dict[str, Any]) -> None:
    await uow.insert_if_absent(ConsentCase, row)


class CaseArrivals:
    """Commands waiting for a case to reach the projection, woken when ``case_opened`` for it
    has been committed by this process."""

    def __init__(self) -> None:
        self._waiting: dict[uuid.UUID, asyncio.Event] = {}

    def arrived(self, case_id: uuid.UUID) -> None:
        if (arrival := self._waiting.get(case_id)) is not None:
            arrival.set()

    @contextlib.contextmanager
    def expecting(self, case_id: uuid.UUID) -> Iterator[asyncio.Event]:
        """An event set once the case arrives; registered before the projection is read, so an
        arrival between that read and the wait is not missed."""
        arrival = self._waiting.setdefault(case_id, asyncio.Event())
        try:
            yield arrival
        finally:
            if self._waiting.get(case_id) is arrival:
                del self._waiting[case_id]


def make_on_case_opened(arrivals: CaseArrivals):  # type: ignore[no-untyped-def]
    async def on_case_opened(uow: UnitOfWork, env: Envelope, event: CaseOpened) -> None:
        """Keep the projection of cases (reference, birth date for R6)."""
        await _add_case(uow, _case_row(event.case_id, env.org, event.case_ref, event.birth_date))
        uow.on_commit(functools.partial(arrivals.arrived, event.case_id))

    return on_case_opened


def make_ensure_case_known(ctx: ServiceContext, arrivals: CaseArrivals):  # type: ignore[no-untyped-def]
    """Before recording: make sure the case is in the projection, asking intake if it lags.

    Runs outside any transaction, so waiting never holds a database lock. The common case
    (the projection has the case) is one SELECT on a reader connection, which never waits for
    the writer, and gives None. A case opened a moment ago (a consent recorded as the report
    is taken) is usually on its way: its ``case_opened`` is waited for up to
    ``projection_wait_s``, woken by the commit that adds it, not polled. Only when it does not
    come (another instance of consent took it, or intake's relay lags) is intake asked; the
    projection's row is then handed to the recording (``record``'s ``new_case``), which adds
    it in its own transaction.
    """
    patience = ctx.settings.projection_wait_s

    async def known(case_id: uuid.UUID) -> bool:
        async with ctx.db.reader() as conn:
            return bool(await _CASE_KNOWN.fetch(conn, {"case_id": case_id}, alone=True))

    async def ensure_case_known(cmd: RecordConsent) -> dict[str, Any] | None:
        with arrivals.expecting(cmd.case_id) as arrival:
            if await known(cmd.case_id):
                return None
            if patience > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrival.wait(), patience)
                if arrival.is_set():
                    return None

        client = KenettClient(ctx.nc, ctx.org, timeout=ctx.settings.command_timeout_s)
        try:
            found = await client.query("intake", GetCase(actor=ctx.actor, case_id=cmd.case_id))
        except RequestFailed as exc:
            if exc.error.code == "not_found":
                raise CommandRejected(
                    "not_found",
                    "consent was not recorded",
                    [FieldError(field="case_id", reason="unknown case")],
                ) from None
            raise CommandRejected(
                "unavailable", "the case could not be looked up now; try again"
            ) from None
        view = CaseView.model_validate(found)
        return _case_row(view.case_id, ctx.org, view.case_ref, view.birth_date)

    return ensure_case_known


async def add_case(uow: UnitOfWork, row: dict[str, Any]) -> None:
    """Add a case to the projection in ``uow`` (nothing if it is there already)."""
    await _add_case(uow, row)
