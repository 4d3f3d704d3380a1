"""Consent's handlers."""

from __future__ import annotations

import uuid

from faststream.nats import NatsRouter

from shared.bus.handlers import command_responder, event_consumer
from shared.clock import age_on, local_today
from shared.contracts.consent import ConsentRecorded, RecordConsent, RecordConsentResult
from shared.contracts.envelope import Envelope
from shared.contracts.intake import CaseOpened, CaseView, GetCase
from shared.contracts.replies import CommandRejected, FieldError, Reply
from shared.contracts.subjects import query_subject
from shared.db.uow import UnitOfWork
from shared.service import ServiceContext

from .domain import evidence_refusal, giver_refusal
from .store import Consent, ConsentCase


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
        query = GetCase(actor=ctx.actor, case_id=cmd.case_id)
        try:
            msg = await ctx.nc.request(
                query_subject(ctx.org, "intake", GetCase.QUERY),
                query.model_dump_json().encode(),
                timeout=ctx.settings.command_timeout_s,
            )
            reply = Reply.model_validate_json(msg.data)
        except Exception:
            reply = Reply.failure("unavailable", "intake did not answer")
        if not reply.ok or reply.result is None:
            if reply.error is not None and reply.error.code == "not_found":
                raise CommandRejected(
                    "not_found",
                    "consent was not recorded",
                    [FieldError(field="case_id", reason="unknown case")],
                )
            raise CommandRejected("unavailable", "the case could not be looked up now; try again")
        view = CaseView.model_validate(reply.result)
        async with ctx.uow() as uow:
            await uow.get_or_insert(
                ConsentCase,
                view.case_id,
                {
                    "case_id": view.case_id,
                    "org": ctx.org,
                    "case_ref": view.case_ref,
                    "birth_date": view.birth_date,
                },
                for_update=False,
            )
            await uow.commit()

    return ensure_case_known


def make_record(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """The record-consent handler."""

    async def record(uow: UnitOfWork, cmd: RecordConsent) -> RecordConsentResult:
        """Record a consent (R5-R7): who gave it, how, who recorded it, when."""
        s = uow.session
        case = await s.get(ConsentCase, cmd.case_id)
        if case is None:  # ensure_case_known ran just before; only a purge could cause this
            raise CommandRejected("unavailable", "the case could not be looked up now; try again")
        errors = []
        age = age_on(case.birth_date, local_today(uow.clock))
        if reason := giver_refusal(cmd.given_by.role, cmd.given_by.legal_basis, age):
            errors.append(FieldError(field="given_by.role", reason=reason))
        if reason := evidence_refusal(cmd.given_at, uow.clock.now()):
            errors.append(FieldError(field="given_at", reason=reason))
        if errors:
            raise CommandRejected("rule_violation", "consent was not recorded", errors)
        consent = Consent(
            id=uuid.uuid4(),
            org=uow.org,
            case_id=case.case_id,
            kind=cmd.kind,
            giver_role=cmd.given_by.role,
            legal_basis=cmd.given_by.legal_basis,
            form=cmd.form,
            recorded_by=cmd.recorded_by,
            given_at=cmd.given_at,
            recorded_at=uow.clock.now(),
            document_ref=cmd.document_ref,
        )
        s.add(consent)
        uow.emit(
            ConsentRecorded(
                consent_id=consent.id,
                case_id=case.case_id,
                case_ref=case.case_ref,
                kind=cmd.kind,
                given_by_role=cmd.given_by.role,
                form=cmd.form,
                given_at=cmd.given_at,
            ),
            actor=cmd.actor,
            case_id=case.case_id,
            correlation_id=cmd.correlation_id,
        )
        return RecordConsentResult(consent_id=consent.id, case_id=case.case_id, kind=cmd.kind)

    return record


def build_router(ctx: ServiceContext) -> NatsRouter:
    """Consent's subscribers."""
    router = NatsRouter()
    event_consumer(router, ctx, name="case-opened", event=CaseOpened, handler=on_case_opened)
    command_responder(
        router,
        ctx,
        command=RecordConsent,
        handler=make_record(ctx),
        before=make_ensure_case_known(ctx),
    )
    return router
