"""The responsibility group and the coordination tool (R13): members with periods, meetings
with minutes, tasks for members; the person's choice between an IP and meetings."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlmodel import col, select

from services.planning import domain
from services.planning.domain import PlanStatus
from services.planning.store import (
    GroupMember,
    GroupTask,
    Meeting,
    Plan,
    PlanningCase,
    ToolChange,
)
from shared.clock import OSLO, local_today
from shared.contracts.consent import UNKNOWN_CASE, GateActor, GateDecision, GiverRole, MayQuery
from shared.contracts.envelope import Actor, Envelope
from shared.contracts.planning import (
    AddMember,
    CancelMeeting,
    CompleteTask,
    EndMember,
    GetGroup,
    GetTool,
    GroupChanged,
    GroupView,
    MeetingCancelled,
    MeetingScheduled,
    MeetingView,
    MemberView,
    Party,
    PartyKind,
    PlanStatusChanged,
    RecordMinutes,
    ScheduleMeeting,
    SwitchTool,
    TaskView,
    ToolChoice,
    ToolState,
    ToolSwitched,
    party_inbox,
)
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.uow import UnitOfWork
from shared.gate import ask_gate, require
from shared.ids import new_id
from shared.service import ServiceContext

from .common import (
    case_of,
    check_reader,
    content_of,
    project_due,
    refuse,
    version_row,
    write_version,
)


def make_group_gates(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """The group works under the coordinator consent (R5); the IP needs IP consent (R5, R6)."""

    async def ask(case_id: uuid.UUID, action: str, who: GateActor) -> GateDecision:
        return await require(
            ctx.nc,
            ctx.org,
            MayQuery(actor=ctx.actor, case_id=case_id, who=who, action=action),  # type: ignore[arg-type]
            timeout=ctx.settings.command_timeout_s,
        )

    async def may_coordinate(cmd: Any) -> None:
        await ask(cmd.case_id, "coordinate", GateActor(kind="coordinator", id="planning"))

    async def may_choose(cmd: SwitchTool) -> None:
        # The person chooses (R13), or whoever decides on their behalf by their age (R6).
        chooser = await ask_gate(
            ctx.nc,
            ctx.org,
            MayQuery(
                actor=ctx.actor,
                case_id=cmd.case_id,
                who=GateActor(kind="coordinator", id="planning"),
                action="choose_tool",
                chooser=GiverRole(cmd.chosen_by),
            ),
            timeout=ctx.settings.command_timeout_s,
        )
        if not chooser.allow and chooser.reason == UNKNOWN_CASE:
            raise refuse("not_found", "planning knows no such case", "case_id", "unknown case")
        if not chooser.allow:
            raise refuse("forbidden", chooser.reason, "chosen_by", chooser.reason)
        if cmd.tool == "ip":
            await ask(cmd.case_id, "create_plan", GateActor(kind="coordinator", id="planning"))
        else:
            await may_coordinate(cmd)

    async def may_read(q: GetGroup) -> GateDecision:
        # The group works under the coordinator consent, with or without an IP (R5, R13): the
        # coordinator reads it under that consent; others as far as their sharing allows.
        if q.who.kind == "coordinator":
            return await ask(q.case_id, "coordinate", q.who)
        return await ask(q.case_id, "read_plan", q.who)

    return may_coordinate, may_choose, may_read


async def _case(uow: UnitOfWork, case_id: uuid.UUID) -> PlanningCase:
    case = await case_of(uow, case_id)
    if case is None:
        raise refuse("not_found", "planning knows no such case", "case_id", "unknown case")
    return case


def _party_problem(party: Party) -> None:
    if party.kind is not PartyKind.PERSON and not (party.ref or "").strip():
        raise refuse(
            "validation_failed",
            "a member is named by service, agency, relation or coordinator id",
            "party.ref",
            "name the service, agency or relation",
        )


async def add_member(uow: UnitOfWork, cmd: AddMember) -> GroupChanged:
    """A member joins the responsibility group for a period."""
    case = await _case(uow, cmd.case_id)
    _party_problem(cmd.party)
    start = cmd.from_date or local_today(uow.clock)
    if cmd.to_date is not None and cmd.to_date < start:
        raise refuse(
            "validation_failed", "the period ends before it starts", "to_date", "before from_date"
        )
    ref = (cmd.party.ref or "").strip() or None
    same = await uow.session.exec(
        select(GroupMember).where(
            GroupMember.case_id == case.case_id,
            GroupMember.party_kind == cmd.party.kind,
            GroupMember.party_ref == ref
            if ref is not None
            else col(GroupMember.party_ref).is_(None),
        )
    )
    for other in same:
        if (cmd.to_date is None or other.from_date <= cmd.to_date) and (
            other.to_date is None or start <= other.to_date
        ):
            raise refuse(
                "conflict",
                "the member was not added",
                "party",
                f"is a member of the group already in this period (member {other.id}); end "
                "that membership first, or add from after it ends",
            )
    member = GroupMember(
        id=new_id(),
        case_id=case.case_id,
        party_kind=cmd.party.kind,
        party_ref=ref,
        role=cmd.role,
        from_date=start,
        to_date=cmd.to_date,
    )
    uow.session.add(member)
    return GroupChanged(case_id=case.case_id, id=member.id)


async def _member(
    uow: UnitOfWork, case_id: uuid.UUID, member_id: uuid.UUID, field: str
) -> GroupMember:
    member = await uow.session.get(GroupMember, member_id)
    if member is None or member.case_id != case_id:
        raise refuse("not_found", "no such member in this case's group", field, "unknown member")
    return member


def _active(member: GroupMember, day: date) -> bool:
    return member.from_date <= day and (member.to_date is None or day <= member.to_date)


async def end_member(uow: UnitOfWork, cmd: EndMember) -> GroupChanged:
    """A member leaves the group; the membership stays in the history."""
    await _case(uow, cmd.case_id)
    member = await _member(uow, cmd.case_id, cmd.member_id, "member_id")
    end = cmd.to_date or local_today(uow.clock)
    if end < member.from_date:
        raise refuse(
            "validation_failed",
            "the period ends before it starts",
            "to_date",
            "before the member joined",
        )
    if member.to_date is not None and member.to_date <= end:
        raise refuse(
            "rule_violation", "the membership has already ended", "member_id", "already ended"
        )
    member.to_date = end
    return GroupChanged(case_id=cmd.case_id, id=member.id)


async def _members(uow: UnitOfWork, case_id: uuid.UUID) -> list[GroupMember]:
    rows = await uow.session.exec(
        select(GroupMember)
        .where(GroupMember.case_id == case_id)
        .order_by(col(GroupMember.from_date))
    )
    return list(rows)


async def schedule_meeting(uow: UnitOfWork, cmd: ScheduleMeeting) -> GroupChanged:
    """Call a meeting; every member in the group on that day, and the coordinator, is told
    (the event names the case reference and time only)."""
    case = await _case(uow, cmd.case_id)
    if case.closed_at is not None:
        raise refuse("conflict", "the case is closed", "case_id", "no meeting is called for it")
    if cmd.at <= uow.clock.now():
        raise refuse("validation_failed", "a meeting is called ahead of time", "at", "in the past")
    day = cmd.at.astimezone(OSLO).date()
    members = [m for m in await _members(uow, case.case_id) if _active(m, day)]
    if not members:
        raise refuse(
            "rule_violation",
            "the responsibility group has no members on that day",
            "at",
            "add members to the group first (R13)",
        )
    meeting = Meeting(
        id=new_id(),
        case_id=case.case_id,
        at=cmd.at,
        place=cmd.place,
        agenda=json.dumps(cmd.agenda, ensure_ascii=False),
    )
    uow.session.add(meeting)
    recipients: list[uuid.UUID] = []
    if case.coordinator_id is not None:
        recipients.append(case.coordinator_id)
    for m in members:
        inbox = party_inbox(uow.org, Party(kind=PartyKind(m.party_kind), ref=m.party_ref))
        if inbox is not None and inbox not in recipients:
            recipients.append(inbox)
    uow.emit(
        MeetingScheduled(
            meeting_id=meeting.id,
            case_id=case.case_id,
            case_ref=case.case_ref,
            at=cmd.at,
            recipients=recipients,
        ),
        actor=cmd.actor,
        case_id=case.case_id,
    )
    return GroupChanged(case_id=case.case_id, id=meeting.id)


async def _meeting(uow: UnitOfWork, case_id: uuid.UUID, meeting_id: uuid.UUID) -> Meeting:
    meeting = await uow.session.get(Meeting, meeting_id, with_for_update=True)
    if meeting is None or meeting.case_id != case_id:
        raise refuse("not_found", "no such meeting in this case", "meeting_id", "unknown meeting")
    return meeting


async def record_minutes(uow: UnitOfWork, cmd: RecordMinutes) -> GroupChanged:
    """The minutes of a held meeting, with decisions and tasks for members with deadlines."""
    meeting = await _meeting(uow, cmd.case_id, cmd.meeting_id)
    if meeting.status != "scheduled":
        raise refuse(
            "rule_violation",
            f"the meeting is {meeting.status}",
            "meeting_id",
            "minutes are recorded once, for a meeting that was held",
        )
    if meeting.at > uow.clock.now():
        raise refuse(
            "rule_violation", "the meeting has not been held yet", "meeting_id", "in the future"
        )
    day = meeting.at.astimezone(OSLO).date()
    members = {m.id: m for m in await _members(uow, cmd.case_id)}
    problems = [
        FieldError(field=f"attended[{n}]", reason="not a member of the group")
        for n, mid in enumerate(cmd.attended)
        if mid not in members
    ]
    for n, t in enumerate(cmd.tasks):
        m = members.get(t.member_id)
        if m is None or not _active(m, day):
            problems.append(
                FieldError(field=f"tasks[{n}].member_id", reason="not a member of the group then")
            )
        if t.deadline < day:
            problems.append(
                FieldError(
                    field=f"tasks[{n}].deadline", reason="the deadline is before the meeting"
                )
            )
    if problems:
        raise CommandRejected("rule_violation", "the minutes cannot be recorded", problems)
    meeting.status = "held"
    meeting.attended = json.dumps([str(a) for a in cmd.attended])
    meeting.summary = cmd.summary
    meeting.decisions = json.dumps(cmd.decisions, ensure_ascii=False)
    meeting.minutes_by = cmd.actor.id
    task_ids = []
    for t in cmd.tasks:
        task = GroupTask(
            id=new_id(),
            case_id=cmd.case_id,
            meeting_id=meeting.id,
            member_id=t.member_id,
            text=t.text,
            deadline=t.deadline,
        )
        uow.session.add(task)
        task_ids.append(task.id)
    return GroupChanged(case_id=cmd.case_id, id=meeting.id, task_ids=task_ids)


async def cancel_meeting(uow: UnitOfWork, cmd: CancelMeeting) -> GroupChanged:
    """Cancel a scheduled meeting, with a reason."""
    meeting = await _meeting(uow, cmd.case_id, cmd.meeting_id)
    if meeting.status != "scheduled":
        raise refuse(
            "rule_violation",
            f"the meeting is {meeting.status}",
            "meeting_id",
            "only a scheduled meeting is cancelled",
        )
    cancel(uow, meeting, await _case(uow, cmd.case_id), cmd.reason, cmd.actor)
    return GroupChanged(case_id=cmd.case_id, id=meeting.id)


def cancel(
    uow: UnitOfWork,
    meeting: Meeting,
    case: PlanningCase,
    reason: str,
    actor: Actor,
    causation: Envelope | None = None,
) -> None:
    """The meeting will not take place: the members are told, its reminders stop."""
    meeting.status = "cancelled"
    meeting.cancel_reason = reason
    uow.emit(
        MeetingCancelled(meeting_id=meeting.id, case_id=case.case_id, case_ref=case.case_ref),
        actor=actor,
        case_id=case.case_id,
        causation=causation,
    )


async def complete_task(uow: UnitOfWork, cmd: CompleteTask) -> GroupChanged:
    """A task from a meeting is done."""
    task = await uow.session.get(GroupTask, cmd.task_id, with_for_update=True)
    if task is None or task.case_id != cmd.case_id:
        raise refuse("not_found", "no such task in this case", "task_id", "unknown task")
    if task.done_at is not None:
        raise refuse("rule_violation", "the task is already done", "task_id", "already done")
    task.done_at = uow.clock.now()
    return GroupChanged(case_id=cmd.case_id, id=task.id)


async def group_view(
    uow: UnitOfWork, case_id: uuid.UUID, parts: Iterable[tuple[str, str]] | None
) -> GroupView:
    """The group as a reader may see it: members are contacts, minutes and tasks are meetings
    (R7)."""
    parts = None if parts is None else list(parts)
    withheld = []
    members: list[MemberView] = []
    if domain.may_see_contacts(parts):
        members = [
            MemberView(
                member_id=m.id,
                party=Party(kind=PartyKind(m.party_kind), ref=m.party_ref),
                role=m.role,
                from_date=m.from_date,
                to_date=m.to_date,
            )
            for m in await _members(uow, case_id)
        ]
    else:
        withheld.append("members")
    meetings: list[MeetingView] = []
    tasks: list[TaskView] = []
    if domain.may_see_meetings(parts):
        for mt in await uow.session.exec(
            select(Meeting).where(Meeting.case_id == case_id).order_by(col(Meeting.at))
        ):
            meetings.append(
                MeetingView(
                    meeting_id=mt.id,
                    at=mt.at,
                    place=mt.place,
                    agenda=json.loads(mt.agenda),
                    status=mt.status,
                    attended=[uuid.UUID(a) for a in json.loads(mt.attended)],
                    summary=mt.summary,
                    decisions=json.loads(mt.decisions),
                    cancel_reason=mt.cancel_reason,
                )
            )
        tasks = [
            TaskView(
                task_id=t.id,
                meeting_id=t.meeting_id,
                member_id=t.member_id,
                text=t.text,
                deadline=t.deadline,
                done_at=t.done_at,
            )
            for t in await uow.session.exec(
                select(GroupTask)
                .where(GroupTask.case_id == case_id)
                .order_by(col(GroupTask.deadline))
            )
        ]
    else:
        withheld += ["meetings", "tasks"]
    return GroupView(
        case_id=case_id, members=members, meetings=meetings, tasks=tasks, withheld=withheld
    )


async def get_group(uow: UnitOfWork, q: GetGroup, decision: GateDecision) -> GroupView:
    """The group, cut to the reader's consent where it is read (R7)."""
    check_reader(await _case(uow, q.case_id), None, q.who)
    parts = (
        None
        if decision.parts is None
        else [(p.life_area.value, p.content_kind.value) for p in decision.parts]
    )
    return await group_view(uow, q.case_id, parts)


# --- The coordination tool (R13) ----------------------------------------------------------


async def _tool_state(uow: UnitOfWork, case: PlanningCase) -> ToolState:
    rows = await uow.session.exec(
        select(ToolChange).where(ToolChange.case_id == case.case_id).order_by(col(ToolChange.at))
    )
    return ToolState(
        case_id=case.case_id,
        tool=case.tool,
        history=[
            ToolChoice(
                tool=r.tool, chosen_by=r.chosen_by, at=r.at, recorded_by=r.recorded_by, note=r.note
            )
            for r in rows
        ],
    )


def make_switch_tool(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    async def switch_tool(uow: UnitOfWork, cmd: SwitchTool) -> ToolState:
        """The person's choice of tool (R13). The plan and the meetings stay as they are: a
        switch to meetings keeps the plan readable and stops its editing; a switch back to the
        IP, under IP consent, opens it again (or makes a draft, R5)."""
        from .lifecycle import create_plan

        case = await _case(uow, cmd.case_id)
        if case.tool == cmd.tool:
            raise refuse("rule_violation", f"the tool is already {cmd.tool}", "tool", "no change")
        case.tool = cmd.tool
        uow.session.add(
            ToolChange(
                id=new_id(),
                case_id=case.case_id,
                tool=cmd.tool,
                chosen_by=cmd.chosen_by,
                at=uow.clock.now(),
                recorded_by=cmd.actor.id,
                note=cmd.note,
            )
        )
        plan = (
            await uow.session.exec(
                select(Plan).where(Plan.case_id == case.case_id).with_for_update()
            )
        ).first()
        if plan is not None:
            # The plan's dates are on the clock under the IP only (R13).
            await project_due(uow, plan, content_of(await version_row(uow, plan, None)))
        if cmd.tool == "ip":
            if plan is None:
                await create_plan(uow, case, cmd.actor, None)
            elif (
                plan.status == PlanStatus.CLOSED
                and case.closed_at is None
                and case.ip_refused_at is None
                and plan.anonymised_at is None
            ):
                # Back from meetings to the IP (R13): the plan closed when the person left the
                # IP comes back, with its history, as a new draft version.
                plan.status = PlanStatus.DRAFT
                plan.status_reason = None
                plan.closed_at = None
                await write_version(
                    uow,
                    plan,
                    content_of(await version_row(uow, plan, None)),
                    actor=cmd.actor,
                    by=cmd.actor,
                    change="reopened",
                    note=None,
                )
                uow.emit(
                    PlanStatusChanged(
                        plan_id=plan.id,
                        case_id=plan.case_id,
                        case_ref=plan.case_ref,
                        from_status=PlanStatus.CLOSED,
                        to_status=plan.status,
                    ),
                    actor=cmd.actor,
                    case_id=plan.case_id,
                )
        uow.emit(
            ToolSwitched(case_id=case.case_id, case_ref=case.case_ref, tool=cmd.tool),
            actor=cmd.actor,
            case_id=case.case_id,
        )
        await uow.session.flush()
        return await _tool_state(uow, case)

    return switch_tool


async def get_tool(uow: UnitOfWork, q: GetTool) -> ToolState:
    """The tool now and every choice before it."""
    return await _tool_state(uow, await _case(uow, q.case_id))
