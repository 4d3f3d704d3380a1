"""Consent's projection of cases, and the lookup when it lags."""

from __future__ import annotations

from services.consent.domain import sixteenth_birthday
from services.consent.store import ConsentCase
from shared.client import KenettClient, RequestFailed
from shared.contracts.consent import RecordConsent
from shared.contracts.envelope import Envelope
from shared.contracts.intake import CaseOpened, CaseView, GetCase
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.uow import UnitOfWork
from shared.service import ServiceContext


async def on_case_opened(uow: UnitOfWork, env: Envelope, event: CaseOpened) -> None:
    """Keep the projection of cases (reference, birth date for R6)."""
    await uow.get_or_insert(
        ConsentCase,
        event.case_id,
        {
            "case_id": event.case_id,
            "org": env.org,
            "case_ref": event.case_ref,
            "birth_date": event.birth_date,
            "sixteen_on": sixteenth_birthday(event.birth_date),
        },
        for_update=False,
    )


def make_ensure_case_known(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Before recording: make sure the case is in the projection, asking intake if it lags.

    Runs outside any transaction, so waiting for intake never holds a database lock.
    """

    async def ensure_case_known(cmd: RecordConsent) -> None:
        async with ctx.uow() as uow:
            if await uow.session.get(ConsentCase, cmd.case_id) is not None:
                return
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
        async with ctx.uow() as uow:
            await uow.get_or_insert(
                ConsentCase,
                view.case_id,
                {
                    "case_id": view.case_id,
                    "org": ctx.org,
                    "case_ref": view.case_ref,
                    "birth_date": view.birth_date,
                    "sixteen_on": sixteenth_birthday(view.birth_date),
                },
                for_update=False,
            )
            await uow.commit()

    return ensure_case_known
