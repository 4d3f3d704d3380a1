"""Federation's handlers: commands that send to another organisation, the consumer of what
others send here (verify, open, order, apply, receipt), and the sweep for overdue receipts.

A message to another organisation is written to the outbox in the same transaction as the
record of it, and the relay publishes it to this organisation's outbound stream; the receiver
sources it from there. Inbound, a message is applied in one unit of work with its record, the
sequence number and the receipt (also through the outbox), and acknowledged only after commit.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from faststream.nats import ConsumerConfig, NatsRouter
from nats.aio.msg import Msg
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy
from sqlmodel import col, or_, select

from shared.bus.deadletter import describe_error
from shared.bus.handlers import (
    BACKOFF,
    DEAD_LETTER_TRIES,
    command_responder,
    dead_letter_and_ack,
    event_consumer,
    query_responder,
)
from shared.bus.pull import PullConsumer
from shared.client import KenettClient, RequestFailed
from shared.clock import local_today
from shared.contracts.assignment import (
    AppointCoordinator,
    AppointResult,
    Coordination,
    CoordinatorList,
    GetCoordination,
    ListCoordinators,
)
from shared.contracts.commands import next_offset
from shared.contracts.consent import ConsentEnded, ConsentInForce, ConsentRecorded, GateActor
from shared.contracts.envelope import Actor
from shared.contracts.federation import (
    AnswerHandover,
    AnswerResult,
    CoordinatorListing,
    Directory,
    DirectoryEntry,
    GetDirectory,
    GetLink,
    GetSharedPlan,
    HandoverAnswered,
    HandoverProposed,
    Links,
    LinkView,
    ListLinks,
    ListMessages,
    MessageList,
    MessageReceived,
    MessageRefused,
    MessageView,
    ProposeHandover,
    ReceiptOverdue,
    SendNeedReport,
    SentResult,
    SharedPlanView,
    SweepFederation,
    SweepResult,
    TransferCase,
    UpdateMeasure,
)
from shared.contracts.intake import (
    CloseCase,
    DisclosureBasis,
    ExportForTransfer,
    Reporter,
    ReporterKind,
    ReportNeed,
    ReportNeedResult,
    TransferExport,
)
from shared.contracts.planning import PlanContent, PlanVersionSaved, RecordMeasureStatus
from shared.contracts.replies import CommandRejected, refuse
from shared.contracts.xorg import (
    CaseTransfer,
    HandoverAnswer,
    HandoverProposal,
    MeasureUpdate,
    NeedReport,
    PlanShare,
    Receipt,
    SharedMeasure,
    XHeader,
    XMessage,
    XorgError,
    XPayload,
    build_message,
    open_message,
    parse_message,
    title,
    verify_message,
)
from shared.db.uow import UnitOfWork
from shared.federation.streams import ensure_federation_streams
from shared.federation.topology import OrgFederation, in_stream, load_org_file, xorg_subject
from shared.ids import new_id
from shared.logging import get_logger, log_context
from shared.plugins import PluginError
from shared.service import ServiceContext, stop_tasks

from . import domain, sharing
from .store import Incoming, Link, LinkCoordinator, LinkSequence, Outgoing, SharedPlan

log = get_logger(__name__)

CONSUMER = "federation-inbound"


class Wait(Exception):
    """The message's predecessor on its link has not been applied yet."""


@dataclass
class Outcome:
    """What applying an inbound message came to: the receipt's content, and local effects."""

    accepted: bool
    code: str | None = None
    reason: str | None = None
    reference: str | None = None
    status: str | None = None  # the Incoming row's status; default accepted/refused
    payload_kept: str | None = None
    case_id: uuid.UUID | None = None
    case_ref: str | None = None


class Runtime:
    """Federation in one process: this organisation's key and directory, if it is linked."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.fed: OrgFederation | None = None
        path = ctx.settings.federation_file
        if path is not None:
            self.fed = load_org_file(path)
            if self.fed.org != ctx.org:
                raise ValueError(
                    f"{path}: the federation file is {self.fed.org}'s, this instance is "
                    f"{ctx.org} (KENETT_ORG)"
                )
        self.sweep_lock = asyncio.Lock()
        self._applied = asyncio.Event()
        self.observers: list[Any] = []

    def applied(self, header: XHeader | None) -> None:
        """An inbound message was committed and acknowledged (or refused with a receipt), or
        dead-lettered (``header`` None when it could not be read)."""
        self._applied.set()
        self._applied = asyncio.Event()
        for observer in self.observers:
            observer(header)

    async def until(self, predicate: Any, timeout: float = 30.0) -> None:
        """Wait until ``await predicate()`` is true, re-checking each time a message is applied
        here (tests and the demo wait on this instead of sleeping)."""
        async with asyncio.timeout(timeout):
            while True:
                event = self._applied
                if await predicate():
                    return
                await event.wait()

    # --- helpers ---------------------------------------------------------------------------------

    def client(self) -> KenettClient:
        """Commands and queries to this organisation's other services."""
        return KenettClient(self.ctx.nc, self.ctx.org, timeout=self.ctx.settings.command_timeout_s)

    def linked(self) -> OrgFederation:
        if self.fed is None:
            raise CommandRejected(
                "unavailable",
                "this instance is not linked to other organisations "
                "(set KENETT_FEDERATION_FILE to the file from `kenett federation config`)",
            )
        return self.fed

    def partner(self, code: str, field: str = "to") -> str:
        fed = self.linked()
        if code == fed.org:
            raise refuse(
                "validation_failed", "cannot send to yourself", field, "is this organisation"
            )
        if code not in fed.directory:
            known = ", ".join(fed.partners()) or "none"
            raise refuse(
                "not_found",
                "unknown organisation",
                field,
                f"is not in the federation directory (known: {known})",
            )
        return code

    async def next_seq(self, uow: UnitOfWork, link_id: uuid.UUID, peer: str) -> int:
        row = await uow.get_or_insert(
            LinkSequence,
            (link_id, peer, "out"),
            {"link_id": link_id, "peer": peer, "direction": "out", "last": 0},
        )
        row.last += 1
        uow.session.add(row)
        return row.last

    async def send(
        self,
        uow: UnitOfWork,
        *,
        link_id: uuid.UUID,
        to: str,
        payload: XPayload,
        actor: Actor,
        reply_to: uuid.UUID | None = None,
        detail: dict[str, Any] | None = None,
        basis: DisclosureBasis | None = None,
    ) -> uuid.UUID:
        """Sign, seal and write a message to the outbox; record it unless it is a receipt.
        ``basis``: why the person's data may go to ``to`` (the sender's statement: a report
        of need, a move, a plan share), recorded with the disclosure."""
        fed = self.linked()
        seq = await self.next_seq(uow, link_id, to) if payload.ORDERED else 0
        header = XHeader(
            id=new_id(),
            type=payload.TYPE,
            version=payload.VERSION,
            sender=fed.org,
            recipient=to,
            link=link_id,
            seq=seq,
            sent_at=self.ctx.clock.now(),
            reply_to=reply_to,
        )
        body = build_message(header, payload, fed.key(), fed.directory[to].public_key)
        uow.send_across(xorg_subject(to, fed.org), body, header.id)
        if not isinstance(payload, Receipt):
            uow.session.add(
                Outgoing(
                    id=header.id,
                    org=fed.org,
                    link_id=link_id,
                    to_org=to,
                    type=payload.TYPE,
                    version=payload.VERSION,
                    seq=seq,
                    reply_to=reply_to,
                    actor_id=actor.id,
                    created_at=header.sent_at,
                    detail=json.dumps(
                        {**(detail or {}), **({"basis": basis.value} if basis else {})},
                        default=str,
                    )
                    if detail or basis
                    else None,
                )
            )
            # A disclosure to another organisation: in the case's audit trail, with the
            # recipient, so the person's access log says who received what kind of message.
            link = await uow.session.get(Link, link_id)
            uow.audit(
                actor=actor,
                action=f"federation.sent.{payload.TYPE}",
                case_id=link.case_id if link is not None else None,
                detail=f"to {to}" if basis is None else f"to {to} on {basis.value}",
            )
        return header.id

    async def link(self, uow: UnitOfWork, link_id: uuid.UUID) -> Link:
        row = await uow.session.get(Link, link_id)
        if row is None or row.org != self.ctx.org:
            raise refuse("not_found", "unknown case link", "link_id", "no such link here")
        return row

    async def add_coordinator(
        self,
        uow: UnitOfWork,
        link_id: uuid.UUID,
        org: str,
        staff_id: str,
        *,
        role: str,
        since: date | None = None,
        until: date | None = None,
    ) -> None:
        rows = await uow.session.exec(
            select(LinkCoordinator).where(
                LinkCoordinator.link_id == link_id,
                LinkCoordinator.org == org,
                LinkCoordinator.staff_id == staff_id,
            )
        )
        row = rows.first()
        if row is None:
            row = LinkCoordinator(
                id=new_id(), link_id=link_id, org=org, staff_id=staff_id, role=role
            )
        if since is not None:
            row.since = since
        if until is not None:
            row.until = until
        uow.session.add(row)

    async def end_coordinators(
        self, uow: UnitOfWork, link_id: uuid.UUID, org: str, until: date
    ) -> None:
        """Every coordinator listed at ``org`` on the link is listed until ``until``."""
        rows = await uow.session.exec(
            select(LinkCoordinator).where(
                LinkCoordinator.link_id == link_id, LinkCoordinator.org == org
            )
        )
        for row in rows:
            if row.until is None or row.until > until:
                row.until = until
                uow.session.add(row)

    def role(self, org: str) -> str:
        fed = self.linked()
        kind = fed.directory[org].kind if org in fed.directory else "municipality"
        return "hospital_coordinator" if kind == "hospital" else "coordinator"


# --- commands ----------------------------------------------------------------------------------


async def check_hospital_coordinator(
    rt: Runtime, actor: Actor, staff_id: str | None, field: str
) -> None:
    """R17: a hospital coordinator must be health personnel. At a hospital the coordinator a
    message names is an active coordinator in its registry (assignment) who is health
    personnel; a municipality's own rules for its coordinators are assignment's."""
    if not staff_id or rt.ctx.settings.org_kind != "hospital":
        return
    try:
        found = CoordinatorList.model_validate(
            await rt.client().query(
                "assignment",
                ListCoordinators(
                    actor=actor, staff_ids=[staff_id], include_inactive=False, limit=1
                ),
            )
        )
    except RequestFailed as exc:
        if exc.error.code != "unavailable":
            raise CommandRejected(exc.error.code, exc.error.message, exc.error.fields) from None
        raise refuse(
            "unavailable",
            "the coordinator registry could not be asked; try again",
            field,
            exc.error.message,
        ) from None
    if not found.coordinators:
        raise refuse(
            "rule_violation",
            "not a hospital coordinator",
            field,
            "not an active coordinator in this hospital's registry: register them first (R17)",
        )
    if not found.coordinators[0].health_personnel:
        raise refuse(
            "rule_violation",
            "not a hospital coordinator",
            field,
            "a hospital coordinator must be health personnel (R17)",
        )


def make_report_need(rt: Runtime):  # type: ignore[no-untyped-def]
    async def before(cmd: SendNeedReport) -> None:
        await check_hospital_coordinator(
            rt, cmd.actor, cmd.hospital_coordinator, "hospital_coordinator"
        )

    async def report_need(
        uow: UnitOfWork, cmd: SendNeedReport, _checked: None = None
    ) -> SentResult:
        to = rt.partner(cmd.to)
        problem = domain.national_id_problem(cmd.national_id)
        if problem:
            raise refuse("validation_failed", "invalid identity number", "national_id", problem)
        link_id = new_id()
        fed = rt.linked()
        uow.session.add(
            Link(
                id=link_id,
                org=fed.org,
                parties=domain.parties_text([fed.org, to]),
                created_at=uow.clock.now(),
            )
        )
        if cmd.hospital_coordinator:
            await rt.add_coordinator(
                uow,
                link_id,
                fed.org,
                cmd.hospital_coordinator,
                role=rt.role(fed.org),
                since=local_today(uow.clock),
            )
        payload = NeedReport(
            national_id=cmd.national_id.strip().replace(" ", ""),
            needs=cmd.needs,
            department=cmd.department,
            expected_discharge=cmd.expected_discharge,
            services=cmd.services,
            form=cmd.form,
            hospital_coordinator=cmd.hospital_coordinator,
            basis=cmd.basis,
        )
        message_id = await rt.send(
            uow, link_id=link_id, to=to, payload=payload, actor=cmd.actor, basis=cmd.basis
        )
        return SentResult(link_id=link_id, message_id=message_id, to=to)

    return report_need, before


def make_propose_handover(rt: Runtime):  # type: ignore[no-untyped-def]
    async def before(cmd: ProposeHandover) -> None:
        await check_hospital_coordinator(rt, cmd.actor, cmd.coordinator, "coordinator")

    async def propose(uow: UnitOfWork, cmd: ProposeHandover, _checked: None = None) -> SentResult:
        fed = rt.linked()
        link = await rt.link(uow, cmd.link_id)
        others = [p for p in domain.parties(link.parties) if p != fed.org]
        if cmd.to is None:
            if len(others) != 1:
                raise refuse(
                    "validation_failed",
                    "say which organisation",
                    "to",
                    f"the link has {len(others)} other parties: {', '.join(others)}",
                )
            to = others[0]
        else:
            to = rt.partner(cmd.to)
            if to not in others:
                raise refuse(
                    "validation_failed",
                    "not a party to this case",
                    "to",
                    f"{to} is not a party to the link",
                )
        await rt.add_coordinator(uow, link.id, fed.org, cmd.coordinator, role=rt.role(fed.org))
        payload = HandoverProposal(
            coordinator=cmd.coordinator, start=cmd.start, overlap_days=cmd.overlap_days
        )
        message_id = await rt.send(
            uow,
            link_id=link.id,
            to=to,
            payload=payload,
            actor=cmd.actor,
            detail={
                "coordinator": cmd.coordinator,
                "start": cmd.start.isoformat(),
                "overlap_days": cmd.overlap_days,
            },
        )
        return SentResult(link_id=link.id, message_id=message_id, to=to)

    return propose, before


def make_answer_handover(rt: Runtime):  # type: ignore[no-untyped-def]
    async def load(cmd: AnswerHandover) -> uuid.UUID | None:
        """The local case of the proposal's link, after checking the proposal can be answered."""
        async with rt.ctx.uow(readonly=True) as uow:
            proposal = await uow.session.get(Incoming, cmd.proposal_id)
            if proposal is None or proposal.type != HandoverProposal.TYPE:
                raise refuse(
                    "not_found",
                    "no such handover proposal",
                    "proposal_id",
                    "no proposal with this id was received here",
                )
            if proposal.status != "pending":
                raise refuse(
                    "conflict",
                    "the proposal is already answered",
                    "proposal_id",
                    f"it is {proposal.status}",
                )
            link = await rt.link(uow, proposal.link_id)
            return link.case_id

    async def before(cmd: AnswerHandover) -> str | None:
        """Outside the transaction: make sure the case has the coordinator who takes over
        (appoint through assignment if it has none); their staff id goes to the handler."""
        rt.linked()
        case_id = await load(cmd)
        if not cmd.accept:
            return None
        if case_id is None:
            raise refuse(
                "conflict",
                "the link has no case here yet",
                "proposal_id",
                "the report of need was not accepted here",
            )
        client = rt.client()
        try:
            coord = Coordination.model_validate(
                await client.query("assignment", GetCoordination(actor=cmd.actor, case_id=case_id))
            )
            coordinator_id = coord.primary_coordinator_id
            if coordinator_id is None:
                if cmd.coordinator_id is None:
                    raise refuse(
                        "validation_failed",
                        "who takes over?",
                        "coordinator_id",
                        "the case has no coordinator yet: name one from the registry",
                    )
                appointed = AppointResult.model_validate(
                    await client.command(
                        "assignment",
                        AppointCoordinator(
                            actor=cmd.actor,
                            request_id=uuid.uuid5(cmd.proposal_id, "appoint"),
                            case_id=case_id,
                            coordinator_id=cmd.coordinator_id,
                        ),
                    )
                )
                coordinator_id = appointed.coordinator_id
            elif cmd.coordinator_id is not None and cmd.coordinator_id != coordinator_id:
                raise refuse(
                    "conflict",
                    "the case already has another coordinator",
                    "coordinator_id",
                    "plan a handover in assignment first, or leave coordinator_id out",
                )
            registry = CoordinatorList.model_validate(
                await client.query(
                    "assignment",
                    ListCoordinators(actor=cmd.actor, coordinator_ids=[coordinator_id]),
                )
            )
        except RequestFailed as exc:
            raise CommandRejected(
                exc.error.code, f"assignment: {exc.error.message}", exc.error.fields
            ) from None
        staff = next(
            (c.staff_id for c in registry.coordinators if c.coordinator_id == coordinator_id), None
        )
        if staff is None:
            raise CommandRejected("unavailable", "the coordinator is not in the registry")
        return staff

    async def answer(
        uow: UnitOfWork, cmd: AnswerHandover, staff: str | None = None
    ) -> AnswerResult:
        fed = rt.linked()
        proposal = await uow.session.get(Incoming, cmd.proposal_id, with_for_update=True)
        if proposal is None or proposal.status != "pending":
            raise refuse(
                "conflict", "the proposal is already answered", "proposal_id", "answered meanwhile"
            )
        link = await rt.link(uow, proposal.link_id)
        asked = HandoverProposal.model_validate_json(proposal.payload or "{}")
        if cmd.accept:
            until = domain.overlap_until(asked.start, asked.overlap_days)
            await rt.add_coordinator(
                uow, link.id, fed.org, staff, role=rt.role(fed.org), since=asked.start
            )
            await rt.add_coordinator(
                uow, link.id, proposal.from_org, asked.coordinator, role=rt.role(proposal.from_org)
            )
            await rt.end_coordinators(uow, link.id, proposal.from_org, until)
            payload = HandoverAnswer(
                proposal=proposal.id,
                accepted=True,
                coordinator=staff,
                start=asked.start,
                overlap_until=until,
            )
        else:
            payload = HandoverAnswer(proposal=proposal.id, accepted=False, reason=cmd.reason)
        message_id = await rt.send(
            uow,
            link_id=link.id,
            to=proposal.from_org,
            payload=payload,
            actor=cmd.actor,
            reply_to=proposal.id,
        )
        proposal.status = "answered"
        proposal.answered_at = uow.clock.now()
        proposal.reason = None if cmd.accept else cmd.reason
        uow.session.add(proposal)
        return AnswerResult(
            proposal_id=proposal.id, message_id=message_id, accepted=cmd.accept, coordinator=staff
        )

    return answer, before


def make_update_measure(rt: Runtime):  # type: ignore[no-untyped-def]
    async def update(uow: UnitOfWork, cmd: UpdateMeasure) -> SentResult:
        link = await rt.link(uow, cmd.link_id)
        rows = await uow.session.exec(
            select(SharedPlan).where(SharedPlan.link_id == link.id, SharedPlan.kind == "measures")
        )
        for row in rows:
            measures = json.loads(row.content).get("measures", [])
            if any(m["id"] == cmd.measure_id for m in measures):
                payload = MeasureUpdate(
                    measure_id=cmd.measure_id,
                    status=cmd.status,
                    seen_version=row.plan_version or 1,
                    note=cmd.note,
                )
                message_id = await rt.send(
                    uow, link_id=link.id, to=row.from_org, payload=payload, actor=cmd.actor
                )
                return SentResult(link_id=link.id, message_id=message_id, to=row.from_org)
        raise refuse(
            "not_found",
            "no such measure shared with this organisation",
            "measure_id",
            "only measures shared with you (your own, as far as the consent allows) can be updated",
        )

    return update


def make_transfer_case(rt: Runtime):  # type: ignore[no-untyped-def]
    async def before(cmd: TransferCase) -> CaseTransfer:
        """Outside the transaction: the consent gate, intake's export and the plan as the new
        municipality may see it (R7)."""
        to = rt.partner(cmd.to)
        kind = rt.linked().directory[to].kind
        if kind != "municipality":
            # R17: the municipality is responsible for the plan; a hospital takes part in it
            # (share the plan with it), a case does not move to it.
            raise refuse(
                "rule_violation",
                "a case moves only to another municipality",
                "to",
                f"{to} is a {kind}: the municipality keeps the plan and its coordination (R17)",
            )
        try:
            decision = await sharing.transfer_gate(rt, cmd.case_id, to)
            if not decision.allow:
                raise refuse(
                    "forbidden",
                    "the person's consent to share with the new municipality is needed (R7)",
                    "to",
                    f"record a sharing consent naming {to} first ({decision.reason})",
                )
            export = TransferExport.model_validate(
                await rt.client().query(
                    "intake", ExportForTransfer(actor=cmd.actor, case_id=cmd.case_id, to_org=to)
                )
            )
            access, _allowed = await sharing.read_plan_as(rt, cmd.case_id, to)
        except RequestFailed as exc:
            raise CommandRejected(exc.error.code, str(exc), exc.error.fields) from None
        plan, version, withheld = sharing.plan_of(access)
        return CaseTransfer(
            national_id=export.national_id,
            needs=export.needs,
            services=export.services,
            case_ref=export.case_ref,
            moving_on=cmd.moving_on,
            plan=plan,
            plan_version=version,
            withheld=withheld,
            basis=DisclosureBasis.CONSENT,  # the gate above found it
        )

    async def transfer(uow: UnitOfWork, cmd: TransferCase, payload: CaseTransfer) -> SentResult:
        fed = rt.linked()
        pending = await uow.session.exec(
            select(Outgoing)
            .join(Link, col(Link.id) == col(Outgoing.link_id))
            .where(
                Link.case_id == cmd.case_id,
                Outgoing.type == CaseTransfer.TYPE,
                col(Outgoing.status).in_(["sent", "accepted"]),
            )
        )
        if pending.first() is not None:
            raise refuse(
                "conflict",
                "the case is already being moved",
                "case_id",
                "a transfer of this case was sent and not refused",
            )
        link_id = new_id()
        uow.session.add(
            Link(
                id=link_id,
                org=fed.org,
                case_id=cmd.case_id,
                case_ref=payload.case_ref,
                parties=domain.parties_text([fed.org, cmd.to]),
                created_at=uow.clock.now(),
            )
        )
        message_id = await rt.send(
            uow,
            link_id=link_id,
            to=cmd.to,
            payload=payload,
            actor=cmd.actor,
            basis=payload.basis,
        )
        sent = await uow.session.get(Outgoing, message_id)
        assert sent is not None
        sent.close_on = cmd.moving_on  # the case here closes on the moving day (R11)
        return SentResult(link_id=link_id, message_id=message_id, to=cmd.to)

    return transfer, before


def make_shared_plan(rt: Runtime):  # type: ignore[no-untyped-def]
    async def shared_plan(uow: UnitOfWork, q: GetSharedPlan) -> SharedPlanView:
        link = await rt.link(uow, q.link_id)
        row = (
            await uow.session.exec(select(SharedPlan).where(SharedPlan.link_id == link.id))
        ).first()
        if row is None:
            return SharedPlanView(
                link_id=link.id,
                case_id=link.case_id,
                from_org=None,
                kind=None,
                case_ref=None,
                plan_version=None,
                received_at=None,
            )
        content = json.loads(row.content)
        return SharedPlanView(
            link_id=link.id,
            case_id=link.case_id,
            from_org=row.from_org,
            kind=row.kind,  # type: ignore[arg-type]
            case_ref=row.case_ref,
            plan_version=row.plan_version,
            received_at=row.received_at,
            measures=[SharedMeasure.model_validate(m) for m in content.get("measures", [])],
            plan=PlanContent.model_validate(content["plan"]) if content.get("plan") else None,
            withheld=content.get("withheld", []),
        )

    return shared_plan


async def close_moved_case(
    rt: Runtime, sent_id: uuid.UUID, case_id: uuid.UUID, actor: Actor
) -> None:
    """Close the case here, reason moved, after the transfer ``sent_id`` (idempotent: the same
    request id every time), and note it on the transfer."""
    try:
        await rt.client().command(
            "intake",
            CloseCase(
                actor=actor,
                request_id=uuid.uuid5(sent_id, "close-moved"),
                case_id=case_id,
                reason="moved",
            ),
        )
    except RequestFailed as exc:
        if exc.error.code == "unavailable":
            raise
        # Already closed (or not closable): the receipt is recorded all the same.
        log.warning("case not closed after transfer", code=exc.error.code)
    async with rt.ctx.uow() as uow:
        sent = await uow.session.get(Outgoing, sent_id)
        if sent is not None and sent.case_closed_at is None:
            sent.case_closed_at = uow.clock.now()
        await uow.commit()


async def close_moves_due(rt: Runtime) -> int:
    """Cases whose person has moved by today (the new municipality confirmed, the moving day
    has come) close here, reason moved (R11, R17)."""
    ctx = rt.ctx
    async with ctx.uow(readonly=True) as uow:
        due = (
            await uow.session.exec(
                select(Outgoing.id, Link.case_id)
                .join(Link, col(Link.id) == col(Outgoing.link_id))
                .where(
                    Outgoing.org == ctx.org,
                    Outgoing.type == CaseTransfer.TYPE,
                    Outgoing.status == "accepted",
                    col(Outgoing.case_closed_at).is_(None),
                    # No moving day: closing at the receipt failed; try again.
                    or_(
                        col(Outgoing.close_on).is_(None),
                        col(Outgoing.close_on) <= local_today(ctx.clock),
                    ),
                    col(Link.case_id).is_not(None),
                )
                .limit(500)
            )
        ).all()
    closed = 0
    for sent_id, case_id in due:
        await close_moved_case(rt, sent_id, case_id, ctx.actor)  # intake away: next sweep
        closed += 1
    return closed


async def sweep(rt: Runtime) -> int:
    """Tell the KE (an event notifications turns into a notice) of each message that has waited
    longer than the receipt timeout; once per message."""
    ctx = rt.ctx
    if rt.fed is None:
        return 0
    async with rt.sweep_lock, ctx.uow() as uow:
        now = ctx.clock.now()
        rows = (
            await uow.session.exec(
                select(Outgoing)
                .where(Outgoing.status == "sent", col(Outgoing.overdue_at).is_(None))
                .order_by(col(Outgoing.created_at))
                .limit(500)
            )
        ).all()
        count = 0
        for row in rows:
            if not domain.is_overdue(row.created_at, now, ctx.settings.xorg_receipt_timeout_s):
                continue
            row.overdue_at = now
            uow.session.add(row)
            link = await uow.session.get(Link, row.link_id)
            uow.emit(
                ReceiptOverdue(
                    link_id=row.link_id,
                    message_id=row.id,
                    to_org=row.to_org,
                    message_type=row.type,
                    sent_at=row.created_at,
                ),
                actor=ctx.actor,
                case_id=link.case_id if link else None,
            )
            count += 1
        await uow.commit()
        return count


def make_sweep(rt: Runtime):  # type: ignore[no-untyped-def]
    async def sweep_command(uow: UnitOfWork, cmd: SweepFederation) -> SweepResult:
        overdue = await sweep(rt)
        return SweepResult(overdue=overdue, moved_cases_closed=await close_moves_due(rt))

    return sweep_command


# --- queries -----------------------------------------------------------------------------------


def _out_view(row: Outgoing) -> MessageView:
    return MessageView(
        message_id=row.id,
        direction="out",
        org=row.to_org,
        type=row.type,
        title=title(row.type),
        seq=row.seq,
        at=row.created_at,
        status=row.status,
        code=row.code,
        reason=row.reason,
        reference=row.reference,
        receipt_at=row.receipt_at,
        reply_to=row.reply_to,
        answer=row.answer,  # type: ignore[arg-type]
        answer_reason=row.answer_reason,
        basis=json.loads(row.detail).get("basis") if row.detail else None,
    )


def _in_view(row: Incoming) -> MessageView:
    return MessageView(
        message_id=row.id,
        direction="in",
        org=row.from_org,
        type=row.type,
        title=title(row.type),
        seq=row.seq,
        at=row.received_at,
        status=row.status,
        code=row.code,
        reason=row.reason,
        reference=row.reference,
        reply_to=row.reply_to,
    )


def make_queries(rt: Runtime):  # type: ignore[no-untyped-def]
    async def view(uow: UnitOfWork, link: Link, on: date, full: bool) -> LinkView:
        coordinators: list[CoordinatorListing] = []
        messages: list[MessageView] = []
        if full:
            for c in await uow.session.exec(
                select(LinkCoordinator).where(LinkCoordinator.link_id == link.id)
            ):
                coordinators.append(
                    CoordinatorListing(
                        org=c.org,
                        staff_id=c.staff_id,
                        role=c.role,
                        since=c.since,
                        until=c.until,
                        active=domain.active_on(c.since, c.until, on),
                    )
                )
            coordinators.sort(key=lambda c: (c.since or date.min, c.org, c.staff_id))
            outs = await uow.session.exec(select(Outgoing).where(Outgoing.link_id == link.id))
            ins = await uow.session.exec(
                select(Incoming).where(Incoming.link_id == link.id, Incoming.type != Receipt.TYPE)
            )
            messages = [_out_view(r) for r in outs] + [_in_view(r) for r in ins]
            messages.sort(key=lambda m: m.at)
        return LinkView(
            link_id=link.id,
            case_id=link.case_id,
            case_ref=link.case_ref,
            parties=domain.parties(link.parties),
            references=domain.references(link.references),
            created_at=link.created_at,
            coordinators=coordinators,
            messages=messages,
        )

    async def list_links(uow: UnitOfWork, q: ListLinks) -> Links:
        where: list[Any] = [Link.org == rt.ctx.org]
        if q.case_id is not None:
            where.append(Link.case_id == q.case_id)
        total, rows = await uow.page(
            select(Link),
            where,
            (col(Link.created_at).desc(), col(Link.id).desc()),
            offset=q.offset,
            limit=q.limit,
        )
        today = local_today(rt.ctx.clock)
        links = [await view(uow, r, today, False) for r in rows]
        return Links(links=links, total=total, next_offset=next_offset(q.offset, len(links), total))

    async def get_link(uow: UnitOfWork, q: GetLink) -> LinkView:
        link = await rt.link(uow, q.link_id)
        return await view(uow, link, q.on or local_today(rt.ctx.clock), True)

    async def list_messages(uow: UnitOfWork, q: ListMessages) -> MessageList:
        out: list[MessageView] = []
        if q.direction in (None, "out"):
            stmt = select(Outgoing).where(Outgoing.org == rt.ctx.org)
            if q.status:
                stmt = stmt.where(Outgoing.status == q.status)
            out += [
                _out_view(r)
                for r in await uow.session.exec(
                    stmt.order_by(col(Outgoing.created_at).desc()).limit(q.limit)
                )
            ]
        if q.direction in (None, "in"):
            stmt2 = select(Incoming).where(
                Incoming.org == rt.ctx.org, Incoming.type != Receipt.TYPE
            )
            if q.status:
                stmt2 = stmt2.where(Incoming.status == q.status)
            out += [
                _in_view(r)
                for r in await uow.session.exec(
                    stmt2.order_by(col(Incoming.received_at).desc()).limit(q.limit)
                )
            ]
        out.sort(key=lambda m: m.at, reverse=True)
        return MessageList(messages=out[: q.limit])

    async def directory(uow: UnitOfWork, q: GetDirectory) -> Directory:
        if rt.fed is None:
            return Directory(federated=False, org=rt.ctx.org, entries=[])
        return Directory(
            federated=True,
            org=rt.fed.org,
            entries=[
                DirectoryEntry(code=p.code, name=p.name, kind=p.kind, me=p.code == rt.fed.org)
                for p in sorted(rt.fed.directory.values(), key=lambda p: p.code)
            ],
        )

    return list_links, get_link, list_messages, directory


# --- inbound -----------------------------------------------------------------------------------


class Inbound:
    """Applies what other organisations send here."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.ctx = rt.ctx

    def service_actor(self, sender: str) -> Actor:
        return Actor(kind="service", id=f"federation:{sender}")

    async def check(self, m: XMessage, payload: XPayload | None) -> domain.Order | Outcome:
        """Read phase: a duplicate, out of order, or a refusal that needs nothing applied."""
        async with self.ctx.uow(readonly=True) as uow:
            if await uow.session.get(Incoming, m.id) is not None:
                return domain.Order.DUPLICATE
            if m.seq == 0:
                return domain.Order.APPLY
            seq = await uow.session.get(LinkSequence, (m.link, m.sender, "in"))
            decision = domain.order(m.seq, seq.last if seq else 0)
            if decision is not domain.Order.APPLY:
                return decision
            link = await uow.session.get(Link, m.link)
            parties = domain.parties(link.parties) if link is not None else None
        if payload is None:
            return domain.Order.APPLY  # refused below with the reason the payload gave
        if parties is None:
            if m.type in domain.LINK_OPENING and m.seq == 1:
                return domain.Order.APPLY
            return Outcome(False, "unknown_link", "no case link with this id here")
        if m.sender not in parties:
            return Outcome(False, "not_party", f"{m.sender} is not a party to this case link")
        return domain.Order.APPLY

    def client(self) -> KenettClient:
        return self.rt.client()

    async def report_need(
        self,
        m: XMessage,
        reporter: Reporter,
        national_id: str,
        needs: Any,
        services: list[str],
        form: str,
    ) -> Outcome:
        """Intake registers the report (the message id is the idempotency key)."""
        try:
            result = ReportNeedResult.model_validate(
                await self.client().command(
                    "intake",
                    ReportNeed(
                        actor=self.service_actor(m.sender),
                        request_id=m.id,
                        national_id=national_id,
                        reporter=reporter,
                        needs=needs,
                        services=services,
                        form=form,  # type: ignore[arg-type]
                        # The sender's clock may run ahead of ours: never "in the future".
                        received_at=m.sent_at
                        if m.sent_at.tzinfo is None
                        else min(m.sent_at, self.ctx.clock.now()),
                    ),
                )
            )
        except RequestFailed as exc:
            if exc.error.code == "unavailable":
                raise  # transient: redelivered
            return Outcome(False, "refused", f"intake: {exc}")
        return Outcome(
            True, reference=result.case_ref, case_id=result.case_id, case_ref=result.case_ref
        )

    async def local_case(self, link_id: uuid.UUID) -> uuid.UUID | None:
        async with self.ctx.uow(readonly=True) as uow:
            link = await uow.session.get(Link, link_id)
            return link.case_id if link is not None else None

    async def act(self, m: XMessage, payload: XPayload) -> Outcome:
        """Effects on other services of this organisation, before the transaction; each is
        idempotent (the message id is the request id), so a redelivery repeats them safely."""
        sender = self.rt.linked().directory[m.sender]
        if isinstance(payload, NeedReport):
            kind = ReporterKind.HOSPITAL if sender.kind == "hospital" else ReporterKind.KE
            hospital = kind is ReporterKind.HOSPITAL
            reporter = Reporter(
                kind=kind,
                # Intake records the department; which hospital it is goes with it.
                department=f"{payload.department} ({sender.name})"[:120] if hospital else None,
                expected_discharge=payload.expected_discharge if hospital else None,
                basis=payload.basis,
            )
            return await self.report_need(
                m, reporter, payload.national_id, payload.needs, payload.services, payload.form
            )
        if isinstance(payload, CaseTransfer):
            return await self.report_need(
                m,
                Reporter(kind=ReporterKind.KE, basis=payload.basis),
                payload.national_id,
                payload.needs,
                payload.services,
                "written",
            )
        if isinstance(payload, HandoverProposal):
            return Outcome(True, status="pending", payload_kept=payload.model_dump_json())
        if isinstance(payload, MeasureUpdate):
            return await self.measure_update(m, payload)
        if isinstance(payload, Receipt) and payload.accepted and m.reply_to is not None:
            await self.after_transfer(m)
        return Outcome(True)

    async def measure_update(self, m: XMessage, payload: MeasureUpdate) -> Outcome:
        """Planning records the responsible service's report, if the measure is its own and
        the consent covers it (R7, R16)."""
        case_id = await self.local_case(m.link)
        if case_id is None:
            return Outcome(False, "refused", "there is no plan for this case here")
        try:
            written = await self.client().command(
                "planning",
                RecordMeasureStatus(
                    actor=self.service_actor(m.sender),
                    request_id=m.id,
                    case_id=case_id,
                    measure_id=payload.measure_id,
                    status=payload.status,
                    by=GateActor(kind="provider", id=m.sender),
                    note=payload.note,
                ),
            )
        except RequestFailed as exc:
            if exc.error.code == "unavailable":
                raise
            return Outcome(False, "refused", f"planning: {exc}")
        return Outcome(True, reference=f"versjon {written['version']}")

    async def after_transfer(self, m: XMessage) -> None:
        """The new municipality confirmed a transfer: the case here closes, reason moved, on
        the moving day (now, if that has come or none was given; else the sweep closes it
        then). Until then the coordinator here stays responsible (R11)."""
        async with self.ctx.uow(readonly=True) as uow:
            sent = await uow.session.get(Outgoing, m.reply_to)
            if sent is None or sent.type != CaseTransfer.TYPE or sent.to_org != m.sender:
                return
            sent_id, close_on = sent.id, sent.close_on
            link = await uow.session.get(Link, sent.link_id)
            case_id = link.case_id if link is not None else None
        if case_id is None:
            return
        if close_on is not None and close_on > local_today(self.ctx.clock):
            return
        await close_moved_case(self.rt, sent_id, case_id, self.service_actor(m.sender))

    async def apply(self, m: XMessage, payload: XPayload | None, problem: XorgError | None) -> None:
        decision = await self.check(m, payload)
        if decision is domain.Order.DUPLICATE:
            return
        if decision is domain.Order.WAIT:
            raise Wait()
        if isinstance(decision, Outcome):
            outcome = decision
        elif problem is not None or payload is None:
            assert problem is not None
            outcome = Outcome(False, problem.code, problem.reason)
        else:
            outcome = await self.act(m, payload)
        await self.record(m, payload, outcome)

    async def record(self, m: XMessage, payload: XPayload | None, outcome: Outcome) -> None:
        rt, ctx = self.rt, self.ctx
        async with ctx.uow() as uow:
            if await uow.session.get(Incoming, m.id) is not None:
                return  # applied meanwhile by another instance
            if m.seq:
                seq = await uow.get_or_insert(
                    LinkSequence,
                    (m.link, m.sender, "in"),
                    {"link_id": m.link, "peer": m.sender, "direction": "in", "last": 0},
                )
                if seq.last >= m.seq:
                    return
                seq.last = m.seq
                uow.session.add(seq)
            link = await uow.session.get(Link, m.link)
            opening = isinstance(payload, (NeedReport, CaseTransfer))
            if outcome.accepted and link is None and opening:
                link = Link(
                    id=m.link,
                    org=ctx.org,
                    parties=domain.parties_text([m.sender, ctx.org]),
                    created_at=uow.clock.now(),
                    case_id=outcome.case_id,
                    case_ref=outcome.case_ref,
                )
                uow.session.add(link)
                if isinstance(payload, NeedReport) and payload.hospital_coordinator:
                    await rt.add_coordinator(
                        uow, link.id, m.sender, payload.hospital_coordinator, role=rt.role(m.sender)
                    )
            case_id = link.case_id if link else None
            if isinstance(payload, Receipt):
                await self.on_receipt(uow, m, payload, link)
            elif outcome.accepted and isinstance(payload, HandoverProposal) and link is not None:
                await rt.add_coordinator(
                    uow, link.id, m.sender, payload.coordinator, role=rt.role(m.sender)
                )
                uow.emit(
                    HandoverProposed(
                        link_id=link.id, proposal_id=m.id, from_org=m.sender, start=payload.start
                    ),
                    actor=self.service_actor(m.sender),
                    case_id=case_id,
                )
            elif outcome.accepted and isinstance(payload, HandoverAnswer) and link is not None:
                await self.on_answer(uow, m, payload, link)
            elif outcome.accepted and isinstance(payload, PlanShare):
                measures = [x.model_dump(mode="json") for x in payload.measures]
                await self.keep_shared(
                    uow,
                    m,
                    "measures",
                    payload.case_ref,
                    payload.plan_version,
                    {"measures": measures},
                    keep=bool(measures),
                )
            elif outcome.accepted and isinstance(payload, CaseTransfer):
                plan = payload.plan.model_dump(mode="json") if payload.plan else None
                await self.keep_shared(
                    uow,
                    m,
                    "transfer",
                    payload.case_ref,
                    payload.plan_version,
                    {"plan": plan, "withheld": payload.withheld},
                    keep=True,
                )
            if link is not None and isinstance(payload, (PlanShare, CaseTransfer)):
                link.references = domain.with_reference(link.references, m.sender, payload.case_ref)
                uow.session.add(link)
            uow.session.add(
                Incoming(
                    id=m.id,
                    org=ctx.org,
                    link_id=m.link,
                    from_org=m.sender,
                    type=m.type,
                    version=m.version,
                    seq=m.seq,
                    reply_to=m.reply_to,
                    received_at=uow.clock.now(),
                    status=outcome.status or ("accepted" if outcome.accepted else "refused"),
                    code=outcome.code,
                    reason=outcome.reason,
                    reference=outcome.reference,
                    payload=outcome.payload_kept,
                )
            )
            if m.type != Receipt.TYPE:
                await rt.send(
                    uow,
                    link_id=m.link,
                    to=m.sender,
                    reply_to=m.id,
                    actor=self.ctx.actor,
                    payload=Receipt(
                        accepted=outcome.accepted,
                        code=outcome.code,  # type: ignore[arg-type]
                        reason=outcome.reason,
                        reference=outcome.reference,
                    ),
                )
            uow.emit(
                MessageReceived(
                    link_id=m.link,
                    message_id=m.id,
                    from_org=m.sender,
                    message_type=m.type,
                    status=outcome.status or ("accepted" if outcome.accepted else "refused"),
                    reply_to=m.reply_to,
                ),
                actor=self.service_actor(m.sender),
                case_id=case_id,
            )
            uow.audit(
                actor=self.service_actor(m.sender),
                action=f"federation.receive.{m.type}",
                case_id=case_id,
                outcome="ok" if outcome.accepted else f"refused:{outcome.code}",
            )
            await uow.commit()

    async def keep_shared(
        self,
        uow: UnitOfWork,
        m: XMessage,
        kind: str,
        case_ref: str,
        version: int | None,
        content: dict[str, Any],
        *,
        keep: bool,
    ) -> None:
        """Replace what ``m.sender`` shared on the link; ``keep`` False removes it."""
        row = await uow.session.get(SharedPlan, (m.link, m.sender))
        if not keep:
            if row is not None:
                await uow.session.delete(row)
            return
        if row is None:
            row = SharedPlan(
                link_id=m.link,
                from_org=m.sender,
                kind=kind,
                content="{}",
                received_at=uow.clock.now(),
            )
        row.kind, row.case_ref, row.plan_version = kind, case_ref, version
        row.content = json.dumps(content)
        row.received_at = uow.clock.now()
        uow.session.add(row)

    async def on_receipt(
        self, uow: UnitOfWork, m: XMessage, receipt: Receipt, link: Link | None
    ) -> None:
        if m.reply_to is None:
            return
        row = await uow.session.get(Outgoing, m.reply_to)
        if row is None or row.to_org != m.sender:
            log.warning("receipt for an unknown message", sender=m.sender)
            return
        if row.receipt_at is not None:
            return
        row.status = "accepted" if receipt.accepted else "refused"
        row.code, row.reason, row.reference = receipt.code, receipt.reason, receipt.reference
        row.receipt_at = uow.clock.now()
        uow.session.add(row)
        if link is not None and receipt.reference:
            link.references = domain.with_reference(link.references, m.sender, receipt.reference)
            uow.session.add(link)
        if not receipt.accepted:
            uow.emit(
                MessageRefused(
                    link_id=row.link_id,
                    message_id=row.id,
                    to_org=row.to_org,
                    message_type=row.type,
                    code=receipt.code or "refused",
                ),
                actor=self.service_actor(m.sender),
                case_id=link.case_id if link else None,
            )

    async def on_answer(
        self, uow: UnitOfWork, m: XMessage, answer: HandoverAnswer, link: Link
    ) -> None:
        proposal = await uow.session.get(Outgoing, answer.proposal)
        if proposal is not None and proposal.to_org == m.sender:
            proposal.answer = "accepted" if answer.accepted else "refused"
            proposal.answer_reason = answer.reason
            uow.session.add(proposal)
        if answer.accepted and answer.coordinator:
            await self.rt.add_coordinator(
                uow,
                link.id,
                m.sender,
                answer.coordinator,
                role=self.rt.role(m.sender),
                since=answer.start,
            )
            if answer.overlap_until:
                await self.rt.end_coordinators(uow, link.id, self.ctx.org, answer.overlap_until)
        uow.emit(
            HandoverAnswered(
                link_id=link.id,
                proposal_id=answer.proposal,
                by_org=m.sender,
                accepted=answer.accepted,
                start=answer.start,
                overlap_until=answer.overlap_until,
            ),
            actor=self.service_actor(m.sender),
            case_id=link.case_id,
        )


def inbound_consumer(rt: Runtime) -> None:
    ctx = rt.ctx
    fed = rt.fed
    if fed is None:
        return
    inbound = Inbound(rt)
    max_deliver = max(ctx.settings.max_deliver, domain.WAIT_DELIVERIES)
    subject = f"kenett-xorg.{fed.org}.*"
    config = ConsumerConfig(
        name=CONSUMER,
        durable_name=CONSUMER,
        filter_subject=subject,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=JsAckPolicy.EXPLICIT,
        ack_wait=ctx.settings.ack_wait_s,
        max_deliver=max_deliver + DEAD_LETTER_TRIES,
        max_ack_pending=1000,
        description="federation: messages from other organisations",
    )
    ctx.stream_consumers.append((in_stream(fed.org), config))

    async def to_dead_letter(msg: Msg, reason: str) -> None:
        if await dead_letter_and_ack(ctx, msg, CONSUMER, reason):
            rt.applied(None)

    async def on_message(msg: Msg) -> None:
        """Messages from other organisations (sourced from their domains): a durable pull
        consumer on the kernel's fetch loop (shared.bus.pull), as every event consumer."""
        deliveries = msg.metadata.num_delivered
        try:
            m = parse_message(msg.data)
            if m.recipient != fed.org:
                raise XorgError("invalid", f"addressed to {m.recipient}, not to {fed.org}")
            if msg.subject != xorg_subject(fed.org, m.sender):
                raise XorgError(
                    "invalid", f"sender {m.sender} does not match the subject it came on"
                )
            sender = fed.directory.get(m.sender)
            if sender is None:
                raise XorgError("invalid", f"unknown organisation {m.sender}")
            verify_message(m, sender.public_key)
        except XorgError as exc:
            # Not authentic: no receipt (it could go to someone who never sent it).
            await to_dead_letter(msg, f"not accepted: {exc.reason}")
            return
        payload: XPayload | None = None
        problem: XorgError | None = None
        try:
            payload = open_message(m, fed.key())
        except XorgError as exc:
            problem = exc
        with log_context(org=ctx.org, service=ctx.name, link=str(m.link)):
            try:
                await inbound.apply(m, payload, problem)
            except Wait:
                if deliveries >= domain.WAIT_DELIVERIES:
                    await inbound.record(
                        m,
                        payload,
                        Outcome(
                            False,
                            "invalid",
                            f"message {m.seq} on this link came without the ones before it",
                        ),
                    )
                    await msg.ack()
                    rt.applied(m.header())
                else:
                    await msg.nak(delay=domain.WAIT_FOR_PREDECESSOR_S)
                return
            except Exception as exc:
                reason = describe_error(exc)
                if deliveries >= max_deliver:
                    await to_dead_letter(msg, f"gave up after {deliveries} deliveries: {reason}")
                else:
                    log.info("transient failure, redelivering", consumer=CONSUMER, error=reason)
                    await msg.nak(delay=BACKOFF[min(deliveries, len(BACKOFF)) - 1])
                return
            await msg.ack()
            rt.applied(m.header())

    ctx.pull_consumers.append(PullConsumer(in_stream(fed.org), CONSUMER, on_message, batch=16))


# --- wiring ------------------------------------------------------------------------------------

_RUNTIMES: dict[int, Runtime] = {}


def runtime(ctx: ServiceContext) -> Runtime:
    rt = _RUNTIMES.get(id(ctx))
    if rt is None:
        try:
            rt = _RUNTIMES[id(ctx)] = Runtime(ctx)
        except ValueError as exc:  # the federation file: which one, and what is wrong
            raise PluginError(f"federation: {exc}") from None
    return rt


async def prepare(ctx: ServiceContext) -> None:
    """Before the router is built: load the federation file and declare the streams."""
    rt = runtime(ctx)
    if rt.fed is not None:
        await ensure_federation_streams(ctx.js, rt.fed)


def build_router(ctx: ServiceContext) -> NatsRouter:
    rt = runtime(ctx)
    router = NatsRouter()
    report_need, coordinator_checked = make_report_need(rt)
    command_responder(
        router, ctx, command=SendNeedReport, handler=report_need, before=coordinator_checked
    )
    propose, proposer_checked = make_propose_handover(rt)
    command_responder(
        router, ctx, command=ProposeHandover, handler=propose, before=proposer_checked
    )
    answer, before = make_answer_handover(rt)
    command_responder(router, ctx, command=AnswerHandover, handler=answer, before=before)
    command_responder(router, ctx, command=SweepFederation, handler=make_sweep(rt))
    list_links, get_link, list_messages, directory = make_queries(rt)
    query_responder(router, ctx, query=ListLinks, handler=list_links)
    query_responder(router, ctx, query=GetLink, handler=get_link)
    query_responder(router, ctx, query=ListMessages, handler=list_messages)
    query_responder(router, ctx, query=GetDirectory, handler=directory, audited=False)
    command_responder(router, ctx, command=UpdateMeasure, handler=make_update_measure(rt))
    transfer, before_transfer = make_transfer_case(rt)
    command_responder(router, ctx, command=TransferCase, handler=transfer, before=before_transfer)
    query_responder(router, ctx, query=GetSharedPlan, handler=make_shared_plan(rt))
    before_share, on_share = sharing.share_consumer(rt)
    for name, event in (
        ("plan-version-saved", PlanVersionSaved),
        ("consent-recorded", ConsentRecorded),
        ("consent-ended", ConsentEnded),
        ("consent-in-force", ConsentInForce),
    ):
        event_consumer(router, ctx, name=name, event=event, handler=on_share, before=before_share)
    inbound_consumer(rt)
    return router


async def on_start(ctx: ServiceContext) -> None:
    rt = runtime(ctx)
    if rt.fed is None:
        return

    async def sweeping() -> None:
        while True:
            await asyncio.sleep(ctx.settings.federation_sweep_s)
            try:
                await sweep(rt)
                await close_moves_due(rt)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("federation sweep failed", error=describe_error(exc))

    ctx.tasks.append(asyncio.create_task(sweeping(), name="federation-sweeper"))


async def on_stop(ctx: ServiceContext) -> None:
    await stop_tasks(ctx)
    _RUNTIMES.pop(id(ctx), None)
