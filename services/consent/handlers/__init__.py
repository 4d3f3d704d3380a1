"""Consent's subscribers, and the sweep it runs by itself."""

from __future__ import annotations

import asyncio

from faststream.nats import NatsRouter

from services.consent.handlers.cases import (
    CaseArrivals,
    make_ensure_case_known,
    make_on_case_opened,
)
from services.consent.handlers.ending import (
    make_sweep_command,
    record_replacing,
    sweep,
    withdraw,
)
from services.consent.handlers.reads import export_fhir, history, make_may
from shared.bus.fastpath import fast_query_responder
from shared.bus.handlers import command_responder, event_consumer, query_responder
from shared.contracts.consent import (
    ExportFhir,
    ListConsents,
    MayQuery,
    RecordConsent,
    SweepConsents,
    WithdrawConsent,
)
from shared.contracts.intake import CaseOpened
from shared.logging import get_logger
from shared.service import ServiceContext

log = get_logger(__name__)
SWEEP_EVERY_S = 60.0


def build_router(ctx: ServiceContext) -> NatsRouter:
    """Consent's commands, queries and consumers."""
    router = NatsRouter()
    arrivals = CaseArrivals()
    event_consumer(
        router, ctx, name="case-opened", event=CaseOpened, handler=make_on_case_opened(arrivals)
    )
    command_responder(
        router,
        ctx,
        command=RecordConsent,
        handler=record_replacing,
        before=make_ensure_case_known(ctx, arrivals),
    )
    command_responder(router, ctx, command=WithdrawConsent, handler=withdraw)
    command_responder(router, ctx, command=SweepConsents, handler=make_sweep_command(ctx.actor))
    query_responder(router, ctx, query=ListConsents, handler=history)
    query_responder(router, ctx, query=ExportFhir, handler=export_fhir)
    # The gate is asked on every access; it answers about permissions, not the person's data,
    # and the service that then reads the data audits that read. Hot path: see fastpath.
    fast_query_responder(ctx, query=MayQuery, handler=make_may(ctx))
    return router


async def start_sweeper(ctx: ServiceContext) -> None:
    """Sweep every minute: expiries (R7) and 16th birthdays (R6) are found on the clock."""

    async def loop() -> None:
        while True:
            try:
                async with ctx.uow() as uow:
                    result = await sweep(uow, ctx.actor)
                    await uow.commit()
                if result.expired or result.renewal_needed or result.renewed or result.in_force:
                    log.info(
                        "consent sweep",
                        expired=len(result.expired),
                        renewal_needed=len(result.renewal_needed),
                        renewed=len(result.renewed),
                        in_force=len(result.in_force),
                    )
            except Exception as exc:  # the database is away: try again next time
                log.warning("consent sweep failed", error=type(exc).__name__)
            await asyncio.sleep(SWEEP_EVERY_S)

    ctx.tasks.append(asyncio.create_task(loop(), name="consent-sweeper"))
