"""Sharing a municipal plan with the services that take part in it, and moving a case to a new
municipality: what crosses is cut by the consent gate (R7) and then to what the receiver needs
(its own measures; for a move, the case and the plan as far as the consent covers it)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import select

from shared import gate
from shared.client import RequestFailed
from shared.contracts.consent import GateActor, GateDecision
from shared.contracts.envelope import Envelope, Event
from shared.contracts.intake import DisclosureBasis
from shared.contracts.planning import PlanAccess, PlanContent, ViewPlan
from shared.contracts.xorg import PlanShare, SharedMeasure
from shared.db.uow import UnitOfWork

from . import domain
from .store import Link, ShareState

if TYPE_CHECKING:
    from .handlers import Runtime


@dataclass(frozen=True)
class Share:
    link_id: uuid.UUID
    partner: str
    case_ref: str
    plan_version: int | None
    measures: list[SharedMeasure]


async def read_plan_as(
    rt: Runtime, case_id: uuid.UUID, partner: str
) -> tuple[PlanAccess | None, bool]:
    """The plan as ``partner`` may see it (the gate cuts it, R7): (access, allowed). No plan
    yet: (None, True); not allowed: (None, False)."""
    try:
        result = await rt.client().query(
            "planning",
            ViewPlan(
                actor=rt.ctx.actor, case_id=case_id, who=GateActor(kind="provider", id=partner)
            ),
        )
    except RequestFailed as exc:
        if exc.error.code == "forbidden":
            return None, False
        if exc.error.code == "not_found":
            return None, True
        raise
    return PlanAccess.model_validate(result), True


async def shares_for_case(rt: Runtime, case_id: uuid.UUID) -> list[Share]:
    """Outside any transaction: for each linked partner on the case's links, the measures it is
    responsible for that its sharing consent lets it see."""
    if rt.fed is None:
        return []
    async with rt.ctx.uow(readonly=True) as uow:
        links = [
            (link.id, link.case_ref or "", domain.parties(link.parties))
            for link in await uow.session.exec(
                select(Link).where(Link.org == rt.ctx.org, Link.case_id == case_id)
            )
        ]
    shares = []
    for link_id, case_ref, parties in links:
        for partner in parties:
            if partner == rt.ctx.org:
                continue
            access, allowed = await read_plan_as(rt, case_id, partner)
            if access is None and allowed:
                continue  # no plan here yet
            measures: list[SharedMeasure] = []
            version = None
            if access is not None and access.document is not None:
                version = access.document.version
                measures = [
                    SharedMeasure(
                        id=m.id or "",
                        title=m.title,
                        life_area=m.life_area,
                        scope=m.scope,
                        how=m.how,
                        where=m.where,
                        start=m.start,
                        deadline=m.deadline,
                        evaluation_date=m.evaluation_date,
                        status=m.status,
                    )
                    for m in access.document.content.measures
                    if m.id
                    and m.responsible is not None
                    and domain.responsible_for(m.responsible.kind, m.responsible.ref, partner)
                ]
            shares.append(Share(link_id, partner, case_ref, version, measures))
    return shares


def _digest(measures: list[SharedMeasure]) -> str:
    body = json.dumps([m.model_dump(mode="json") for m in measures], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


async def record_shares(rt: Runtime, uow: UnitOfWork, shares: list[Share]) -> None:
    """Send a share where what the partner may see changed since the last one (an empty share
    takes back what was shared; nothing is sent if nothing ever was)."""
    for share in shares:
        digest = _digest(share.measures)
        state = await uow.session.get(ShareState, (share.link_id, share.partner))
        if state is None and not share.measures:
            continue
        if state is not None and state.digest == digest:
            continue
        version = share.plan_version or (state.plan_version if state else 0) or 1
        await rt.send(
            uow,
            link_id=share.link_id,
            to=share.partner,
            payload=PlanShare(
                case_ref=share.case_ref, plan_version=version, measures=share.measures
            ),
            actor=rt.ctx.actor,
            # Measures go only as far as the person's sharing consent covers them (R7); an
            # empty share takes back what was shared and discloses nothing.
            basis=DisclosureBasis.CONSENT if share.measures else None,
        )
        if state is None:
            state = ShareState(
                link_id=share.link_id,
                partner=share.partner,
                digest=digest,
                shared_at=uow.clock.now(),
            )
        state.digest, state.count, state.plan_version = digest, len(share.measures), version
        state.shared_at = uow.clock.now()
        uow.session.add(state)


def share_consumer(rt: Runtime):  # type: ignore[no-untyped-def]
    """(before, handler) for events after which what a partner may see can have changed: a new
    plan version, a consent recorded or ended."""

    async def before(env: Envelope, event: Event) -> list[Share]:
        case_id = getattr(event, "case_id", None) or env.case_id
        if case_id is None:
            return []
        return await shares_for_case(rt, case_id)

    async def handler(uow: UnitOfWork, env: Envelope, event: Event, shares: list[Share]) -> None:
        await record_shares(rt, uow, shares)

    return before, handler


async def transfer_gate(rt: Runtime, case_id: uuid.UUID, to: str) -> GateDecision:
    """May the case go to ``to``? Only with a sharing consent naming it (R7); no answer from
    the gate is a refusal (it fails closed)."""
    return await gate.ask(rt.ctx, case_id, GateActor(kind="provider", id=to), "read_plan")


def plan_of(access: PlanAccess | None) -> tuple[PlanContent | None, int | None, list[str]]:
    if access is None or access.document is None:
        return None, None, []
    doc = access.document
    return doc.content, doc.version, list(doc.withheld)
