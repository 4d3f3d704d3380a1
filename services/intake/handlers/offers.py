"""The KE's overview of habilitation and rehabilitation offers (R18), and the catalogue."""

from __future__ import annotations

import json

from sqlmodel import col, select

from services.intake.catalogue import CATALOGUE, unknown_codes
from services.intake.store import Offer
from shared.contracts.intake import (
    ListOffers,
    ListServiceTypes,
    OfferResult,
    Offers,
    OfferView,
    RegisterOffer,
    ServiceTypes,
    ServiceTypeView,
)
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.uow import UnitOfWork
from shared.ids import new_id

from .common import loads


async def register_offer(uow: UnitOfWork, cmd: RegisterOffer) -> OfferResult:
    """Add an offer to the overview (R18)."""
    if bad := unknown_codes(cmd.service_types):
        raise CommandRejected(
            "validation_failed",
            "the offer was not registered",
            [FieldError(field=f"service_types.{i}", reason=r) for i, r in bad],
        )
    offer = Offer(
        id=new_id(),
        org=uow.org,
        name=cmd.name,
        kind=cmd.kind,
        level=cmd.level,
        provider=cmd.provider,
        contact=cmd.contact,
        target_group=cmd.target_group,
        service_types=json.dumps(cmd.service_types),
        registered_at=uow.clock.now(),
    )
    uow.session.add(offer)
    return OfferResult(offer_id=offer.id)


async def list_offers(uow: UnitOfWork, q: ListOffers) -> Offers:
    """The overview, municipal and specialist, habilitation and rehabilitation."""
    query = select(Offer).where(Offer.org == uow.org)
    if q.kind:
        query = query.where(Offer.kind == q.kind)
    if q.level:
        query = query.where(Offer.level == q.level)
    rows = await uow.session.exec(
        query.order_by(col(Offer.kind), col(Offer.level), col(Offer.name))
    )
    return Offers(
        offers=[
            OfferView(
                offer_id=o.id,
                name=o.name,
                kind=o.kind,
                level=o.level,
                provider=o.provider,
                contact=o.contact,
                target_group=o.target_group,
                service_types=loads(o.service_types),
            )
            for o in rows
        ]
    )


async def service_types(uow: UnitOfWork, q: ListServiceTypes) -> ServiceTypes:
    """The catalogue (R1: which services count)."""
    return ServiceTypes(
        service_types=[
            ServiceTypeView(code=s.code, name=s.name, sector=s.sector, counts=s.counts, note=s.note)
            for s in CATALOGUE
        ]
    )
