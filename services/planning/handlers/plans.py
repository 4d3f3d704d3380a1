"""Writing and reading the plan: versions, evaluation, the plan's life, the KE's overview
(R5-R7, R14-R16, R18)."""

from __future__ import annotations

import base64
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select

from services.planning import domain
from services.planning.domain import PlanStatus
from services.planning.store import Plan, PlanningCase, PlanVersion
from shared.clock import OSLO, local_today
from shared.contracts.consent import ContentKind, GateActor, GateDecision, LifeArea, MayQuery
from shared.contracts.planning import (
    ChangePlanStatus,
    ComparePlanVersions,
    DiffEntry,
    EvaluateItem,
    Evaluation,
    ExportPlanFhir,
    FhirBundle,
    GetPlan,
    ListPlans,
    ListPlanVersions,
    PlanAccess,
    PlanContent,
    PlanDiff,
    PlanListing,
    PlanPdf,
    PlanRow,
    PlanStatusChanged,
    PlanVersions,
    PlanWritten,
    RecordMeasureStatus,
    RenderPlanPdf,
    SavePlan,
    VersionInfo,
    ViewPlan,
)
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.uow import UnitOfWork
from shared.gate import require
from shared.service import ServiceContext

from .common import (
    case_of,
    check_author,
    check_reader,
    check_version,
    content_of,
    document,
    head,
    refuse,
    version_row,
    view,
    write_version,
)
from .group import group_view

ALL_PARTS = [(a.value, k.value) for a in LifeArea for k in ContentKind]


def _parts(
    decision: GateDecision, life_area: str | None = None, content_kind: str | None = None
) -> list[tuple[str, str]] | None:
    """What the reader may see (None: all), narrowed to the part they asked about."""
    parts = (
        None
        if decision.parts is None
        else [(p.life_area.value, p.content_kind.value) for p in decision.parts]
    )
    if life_area is None and content_kind is None:
        return parts
    return [
        (a, k)
        for a, k in (ALL_PARTS if parts is None else parts)
        if (life_area is None or a == life_area) and (content_kind is None or k == content_kind)
    ]


async def _readable(
    uow: UnitOfWork, case_id: Any, who: GateActor, version: int | None, parts: Any
) -> tuple[Plan, PlanningCase | None, PlanVersion, PlanContent, list[str]]:
    """A version of the plan cut to ``parts``, once the reader is who they say (R7, R9)."""
    plan = await head(uow, case_id)
    case = await case_of(uow, plan.case_id)
    check_reader(case, plan, who)
    row = await version_row(uow, plan, version)
    content, withheld = domain.cut_to_parts(content_of(row), parts)
    return plan, case, row, content, withheld


def make_gates(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """Ask the consent gate before a read or a write, outside any transaction."""

    async def may(case_id: Any, who: GateActor, action: str, **part: Any) -> GateDecision:
        return await require(
            ctx.nc,
            ctx.org,
            MayQuery(
                actor=ctx.actor,
                case_id=case_id,
                who=who,
                action=action,
                **part,  # type: ignore[arg-type]
            ),
            timeout=ctx.settings.command_timeout_s,
        )

    async def may_read(q: Any) -> GateDecision:
        part = {}
        if isinstance(q, ViewPlan):
            part = {"life_area": q.life_area, "content_kind": q.content_kind}
        return await may(q.case_id, q.who, "read_plan", **part)

    async def may_read_text(q: GetPlan | ListPlanVersions) -> GateDecision | None:
        """Free text on a plan's head and versions: only as a reader the gate lets in (a
        refusal refuses the read); without ``who``, the read goes on without it."""
        return None if q.who is None else await may(q.case_id, q.who, "read_plan")

    async def may_write(cmd: Any) -> None:
        if cmd.by.kind != "coordinator":
            raise refuse(
                "forbidden",
                "only the case's coordinator edits the plan",
                "by",
                "providers, next of kin and the person take part through the coordinator (R8, R9)",
            )
        if isinstance(cmd, ChangePlanStatus) and cmd.to == "closed":
            return  # closing ends processing: it needs no consent, so a frozen plan can close
        await may(cmd.case_id, cmd.by, "write_plan")

    async def may_report_measure(cmd: RecordMeasureStatus) -> None:
        """A provider reports on its own measure as far as the sharing consent covers measures
        in the measure's life area (R7); read the life area first, outside the transaction."""
        if cmd.by.kind != "provider":
            raise refuse(
                "forbidden",
                "only the measure's responsible service reports its status this way",
                "by",
                "the coordinator saves the plan instead",
            )
        async with ctx.uow(readonly=True) as uow:
            plan = await head(uow, cmd.case_id)
            measure = domain.measure_of(
                content_of(await version_row(uow, plan, None)), cmd.measure_id
            )
            life_area = measure.life_area.value if measure is not None else None
        if life_area is None:
            raise refuse("not_found", "no such measure", "measure_id", "no measure with this id")
        await may(cmd.case_id, cmd.by, "write_plan", life_area=life_area, content_kind="measures")

    return may_read, may_write, may_report_measure, may_read_text


# --- Writes -------------------------------------------------------------------------------


async def _editable(uow: UnitOfWork, cmd: Any, *, closing: bool = False) -> Plan:
    plan = await head(uow, cmd.case_id, lock=True)
    case = await case_of(uow, plan.case_id)
    refusal = domain.edit_refusal(plan.status)
    if plan.status == PlanStatus.FROZEN and case is not None and case.ip_refused_at is not None:
        refusal = "the plan is frozen: the decision on individual plan refused it (R3)"
    if refusal is not None and not (closing and plan.status == PlanStatus.FROZEN):
        raise refuse("rule_violation", refusal, "case_id", refusal)
    check_version(plan, cmd.expected_version)
    check_author(case, plan, cmd.by)
    if case is not None and case.tool == "meetings" and not closing:
        raise refuse(
            "rule_violation",
            "the person chose responsibility-group meetings with minutes (R13); the plan is kept "
            "and can be read, and is edited again if they switch back to an individual plan",
            "case_id",
            "the coordination tool is meetings",
        )
    return plan


async def save_plan(uow: UnitOfWork, cmd: SavePlan) -> PlanWritten:
    """Save the content as a new version (R16), after R14-R16 hold and nobody else saved in
    between (optimistic concurrency)."""
    plan = await _editable(uow, cmd)
    problems = domain.content_problems(cmd.content)
    if not problems:
        old = content_of(await version_row(uow, plan, None))
        problems = domain.history_problems(cmd.content, old, plan.items_numbered)
        problems += domain.added_evaluation_problems(
            cmd.content,
            old,
            today=local_today(uow.clock),
            plan_made=plan.created_at.astimezone(OSLO).date(),
            author=cmd.actor.id,
        )
    if problems:
        raise CommandRejected("rule_violation", "the plan cannot be saved like this", problems)
    used = max(plan.items_numbered, domain.highest_number(cmd.content))
    content, assigned, plan.items_numbered = domain.number_new_items(cmd.content, used)
    await write_version(
        uow, plan, content, actor=cmd.actor, by=cmd.by, change="saved", note=cmd.note
    )
    return PlanWritten(
        plan_id=plan.id,
        case_id=plan.case_id,
        version=plan.version,
        status=plan.status,
        assigned_ids=assigned,
    )


async def evaluate_item(uow: UnitOfWork, cmd: EvaluateItem) -> PlanWritten:
    """Record an evaluation of a goal or measure (R16) as a new version."""
    plan = await _editable(uow, cmd)
    old = content_of(await version_row(uow, plan, None))
    today = local_today(uow.clock)
    evaluation = Evaluation(
        on=cmd.evaluated_on or today,
        outcome=cmd.outcome,
        comment=cmd.comment,
        by=cmd.actor.id,
    )
    plan_made = plan.created_at.astimezone(OSLO).date()
    if evaluation.on > today or evaluation.on < plan_made:
        reason = (
            "is in the future"
            if evaluation.on > today
            else (f"is before the plan was made ({plan_made})")
        )
        raise CommandRejected(
            "rule_violation",
            "the evaluation cannot be recorded",
            [FieldError(field="evaluated_on", reason=reason)],
        )
    content, problems = domain.evaluate(old, cmd.item_id, evaluation, cmd.next_evaluation_date)
    if problems:
        raise CommandRejected("rule_violation", "the evaluation cannot be recorded", problems)
    await write_version(
        uow, plan, content, actor=cmd.actor, by=cmd.by, change="evaluated", note=cmd.item_id
    )
    return PlanWritten(
        plan_id=plan.id, case_id=plan.case_id, version=plan.version, status=plan.status
    )


async def record_measure_status(uow: UnitOfWork, cmd: RecordMeasureStatus) -> PlanWritten:
    """The responsible service's report on its measure, as a new version (R16)."""
    plan = await head(uow, cmd.case_id, lock=True)
    refusal = domain.edit_refusal(plan.status)
    if refusal is not None:
        raise refuse("rule_violation", refusal, "case_id", refusal)
    case = await case_of(uow, plan.case_id)
    if case is not None and case.tool == "meetings":
        raise refuse(
            "rule_violation",
            "the person chose responsibility-group meetings with minutes (R13); the plan is "
            "kept and can be read, and is edited again if they switch back to an individual plan",
            "case_id",
            "the coordination tool is meetings",
        )
    old = content_of(await version_row(uow, plan, None))
    content, problems = domain.set_measure_status(old, cmd.measure_id, cmd.status, cmd.by.id)
    if problems:
        raise CommandRejected("rule_violation", "the status cannot be recorded", problems)
    if content != old:
        note = f"{cmd.measure_id}: {cmd.status.value}" + (f" ({cmd.note})" if cmd.note else "")
        await write_version(
            uow, plan, content, actor=cmd.actor, by=cmd.by, change="measure_status", note=note
        )
    return PlanWritten(
        plan_id=plan.id, case_id=plan.case_id, version=plan.version, status=plan.status
    )


async def change_status(uow: UnitOfWork, cmd: ChangePlanStatus) -> PlanWritten:
    """draft → active → under revision → active ... → closed; each move is a new version."""
    plan = await _editable(uow, cmd, closing=cmd.to == "closed")
    content = content_of(await version_row(uow, plan, None))
    change, problems = domain.move(plan.status, cmd.to, content, cmd.reason, cmd.close_reason)
    if change is None:
        raise CommandRejected("rule_violation", f"the plan cannot become {cmd.to}", problems)
    before = plan.status
    plan.status = cmd.to
    plan.status_reason = (
        cmd.close_reason.value if cmd.close_reason and cmd.to == "closed" else cmd.reason
    )
    if cmd.to == PlanStatus.CLOSED:
        plan.closed_at = uow.clock.now()
    note = cmd.reason if cmd.to != "closed" else (cmd.reason or cmd.close_reason)
    await write_version(uow, plan, content, actor=cmd.actor, by=cmd.by, change=change, note=note)
    uow.emit(
        PlanStatusChanged(
            plan_id=plan.id,
            case_id=plan.case_id,
            case_ref=plan.case_ref,
            from_status=before,
            to_status=plan.status,
            close_reason=cmd.close_reason.value if cmd.close_reason else None,
        ),
        actor=cmd.actor,
        case_id=plan.case_id,
    )
    return PlanWritten(
        plan_id=plan.id, case_id=plan.case_id, version=plan.version, status=plan.status
    )


# --- Reads --------------------------------------------------------------------------------


_EVERY_PART = frozenset((a, k) for a in LifeArea for k in ContentKind)


def _whole_plan(decision: GateDecision | None) -> bool:
    """Does the gate let this reader see the whole plan, free text included (R7)? The person
    and the case's coordinator do; a provider or next of kin whose consents cover every life
    area and kind of content too."""
    if decision is None:
        return False
    if decision.parts is None:
        return True
    return {(p.life_area, p.content_kind) for p in decision.parts} >= _EVERY_PART


def _cut_free_text(head_view: Any, plan: Plan, decision: GateDecision | None) -> Any:
    """A plan's status reason is free text (a revision's why, kept through a freeze), except a
    closed plan's, which is a code (``CloseReason``) and shown to all."""
    free_text = plan.status != PlanStatus.CLOSED and head_view.status_reason is not None
    if free_text and not _whole_plan(decision):
        head_view.status_reason = None
        head_view.text_withheld = True
    return head_view


async def get_plan(uow: UnitOfWork, q: GetPlan, decision: GateDecision | None = None) -> Any:
    """A case's plan head (no content); its free text only for a reader of the whole plan who
    is who they say (the case's coordinator as coordinator, R7, R9)."""
    plan = await head(uow, q.case_id)
    case = await case_of(uow, plan.case_id)
    if q.who is not None:
        check_reader(case, plan, q.who)
    return _cut_free_text(view(plan, case.tool if case else None), plan, decision)


async def view_plan(uow: UnitOfWork, q: ViewPlan, decision: GateDecision) -> PlanAccess:
    """A version of the plan as the reader may see it: the gate has let them in, and the content
    is cut here, where it is read, to the parts their consent covers (R7)."""
    parts = _parts(decision, q.life_area, q.content_kind)
    plan, case, row, content, withheld = await _readable(uow, q.case_id, q.who, q.version, parts)
    return PlanAccess(
        plan=_cut_free_text(view(plan, case.tool if case else None), plan, decision),
        reason=decision.reason,
        consent_id=decision.consent_id,
        document=await document(uow, plan, case, row, content, withheld),
    )


async def list_versions(
    uow: UnitOfWork, q: ListPlanVersions, decision: GateDecision | None = None
) -> PlanVersions:
    """Every version's number, time, author and kind of change; the content stays put, and
    the notes (free text) go only to a reader who may see the whole plan (R7)."""
    plan = await head(uow, q.case_id)
    if q.who is not None:
        check_reader(await case_of(uow, plan.case_id), plan, q.who)
    rows = await uow.session.exec(
        select(
            PlanVersion.version,
            PlanVersion.saved_at,
            PlanVersion.saved_by,
            PlanVersion.change,
            PlanVersion.status,
            PlanVersion.note,
        )
        .where(PlanVersion.plan_id == plan.id)
        .order_by(col(PlanVersion.version))
    )
    versions = [
        VersionInfo(version=v, saved_at=at, saved_by=by, change=c, status=s, note=n)
        for v, at, by, c, s, n in rows
    ]
    withheld = False
    if not _whole_plan(decision):
        withheld = any(v.note is not None for v in versions)
        for v in versions:
            v.note = None
    return PlanVersions(case_id=plan.case_id, versions=versions, notes_withheld=withheld)


async def compare_versions(
    uow: UnitOfWork, q: ComparePlanVersions, decision: GateDecision
) -> PlanDiff:
    """What was added, changed and removed between two versions, within the reader's consent."""
    plan = await head(uow, q.case_id)
    check_reader(await case_of(uow, plan.case_id), plan, q.who)
    parts = _parts(decision)
    old, withheld_a = domain.cut_to_parts(
        content_of(await version_row(uow, plan, q.from_version)), parts
    )
    new, withheld_b = domain.cut_to_parts(
        content_of(await version_row(uow, plan, q.to_version)), parts
    )
    added, changed, removed = domain.compare(old, new)

    def entries(rows: list[tuple[str, str | None, list[str]]]) -> list[DiffEntry]:
        return [DiffEntry(section=s, item_id=i, fields=f) for s, i, f in rows]

    return PlanDiff(
        case_id=plan.case_id,
        from_version=q.from_version,
        to_version=q.to_version,
        added=entries(added),
        changed=entries(changed),
        removed=entries(removed),
        withheld=sorted(set(withheld_a) | set(withheld_b)),
    )


def _cursor(row: Plan, overdue: bool) -> str:
    key = (
        row.next_evaluation_on.isoformat()
        if overdue and row.next_evaluation_on
        else ((row.updated_at or row.created_at).isoformat())
    )
    return f"{key}|{row.case_id}"


async def list_plans(uow: UnitOfWork, q: ListPlans) -> PlanListing:
    """The KE's overview (R18): by coordinator, status, overdue evaluations; newest change first,
    or, for overdue evaluations, the longest overdue first. Case references only."""
    today = local_today(uow.clock)
    filters: list[Any] = [Plan.org == uow.org]
    if q.coordinator_id is not None:
        filters.append(Plan.coordinator_id == q.coordinator_id)
    if q.status:
        unknown = [s for s in q.status if s not in set(PlanStatus)]
        if unknown:
            raise refuse(
                "validation_failed",
                "unknown plan status",
                "status",
                "statuses are " + ", ".join(PlanStatus),
            )
        filters.append(col(Plan.status).in_(q.status))
    if q.overdue_evaluations:
        filters.append(col(Plan.next_evaluation_on) < today)
    total = (await uow.session.exec(select(func.count()).select_from(Plan).where(*filters))).one()
    statement = (
        select(Plan, PlanningCase.tool)
        .outerjoin(PlanningCase, col(PlanningCase.case_id) == col(Plan.case_id))
        .where(*filters)
    )
    if q.overdue_evaluations:
        order = [col(Plan.next_evaluation_on), col(Plan.case_id)]
        if q.after:
            key, case = _split(q.after, date.fromisoformat)
            d = key
            # The bound alone is an index range, so only the page is read. The same keyset
            # written as one OR made SQLite read and sort every row after the cursor: 25-34 ms
            # for a deep page of 8,600 overdue plans, 250 ms by status at 70,000 plans
            # (docs/benchmarks.md, `kenett bench scale`).
            statement = statement.where(
                col(Plan.next_evaluation_on) >= d,
                or_(col(Plan.next_evaluation_on) > d, col(Plan.case_id) > case),
            )
    else:
        order = [col(Plan.updated_at).desc(), col(Plan.case_id).desc()]
        if q.after:
            key, case = _split(q.after, _aware)
            t = key
            statement = statement.where(
                col(Plan.updated_at) <= t, or_(col(Plan.updated_at) < t, col(Plan.case_id) < case)
            )
    rows = list(await uow.session.exec(statement.order_by(*order).limit(q.limit + 1)))
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    return PlanListing(
        total=total,
        plans=[
            PlanRow(
                case_id=p.case_id,
                case_ref=p.case_ref,
                status=p.status,
                tool=tool or "ip",
                coordinator_id=p.coordinator_id,
                version=p.version,
                updated_at=p.updated_at or p.created_at,
                next_evaluation_on=p.next_evaluation_on,
            )
            for p, tool in rows
        ],
        next=_cursor(rows[-1][0], q.overdue_evaluations) if more and rows else None,
    )


def _aware(value: str) -> datetime:
    t = datetime.fromisoformat(value)
    if t.tzinfo is None:
        raise ValueError("naive")
    return t


def _split(cursor: str, parse: Any) -> tuple[Any, uuid.UUID]:
    """A cursor this list gave (KEY|CASE), parsed, or a refusal naming ``after``."""
    try:
        key, case = cursor.split("|", 1)
        return parse(key), uuid.UUID(case)
    except ValueError:
        raise refuse(
            "validation_failed",
            "the cursor is not one this list gave",
            "after",
            "use the `next` value of the page before, with the same filters",
        ) from None


async def export_fhir(uow: UnitOfWork, q: ExportPlanFhir, decision: GateDecision) -> FhirBundle:
    """The plan as FHIR R4 (CarePlan, Goal, Task, CareTeam), cut to the reader's consent."""
    from services.planning.output import plan_bundle

    parts = _parts(decision)
    plan, case, row, content, withheld = await _readable(uow, q.case_id, q.who, None, parts)
    doc = await document(uow, plan, case, row, content, withheld)
    group = await group_view(uow, plan.case_id, parts)
    return FhirBundle(bundle=plan_bundle(doc, group, uow.org))


async def render_pdf(uow: UnitOfWork, q: RenderPlanPdf, decision: GateDecision) -> PlanPdf:
    """The plan as a PDF in bokmål for meetings, cut to the reader's consent."""
    from services.planning.output import plan_pdf

    parts = _parts(decision)
    plan, case, row, content, withheld = await _readable(uow, q.case_id, q.who, q.version, parts)
    doc = await document(uow, plan, case, row, content, withheld)
    group = await group_view(uow, plan.case_id, parts)
    pdf = plan_pdf(doc, group, local_today(uow.clock))
    return PlanPdf(
        filename=f"individuell-plan-{plan.case_ref}-v{row.version}.pdf",
        pdf_base64=base64.b64encode(pdf).decode("ascii"),
    )
