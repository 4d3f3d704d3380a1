"""Planning's rules, pure (rule numbers from ../shared/domain.md).

The plan's content is one validated document per version (``PlanContent``). Everything here
works on those documents: checking an edit (R14-R16), numbering new items, comparing two
versions, cutting a document to what a reader's consent covers (R7), the plan's life, and
which evaluations fall due.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from shared.contracts.consent import ContentKind, LifeArea
from shared.contracts.planning import (
    Contribution,
    Cooperation,
    Evaluation,
    Goal,
    Measure,
    Participant,
    PartyKind,
    PlanContent,
    PlanPeriod,
    ResourceNeed,
    ScheduledItem,
)
from shared.contracts.replies import FieldError


class PlanStatus(StrEnum):
    """A plan's life: draft → active → under revision → closed."""

    DRAFT = "draft"
    ACTIVE = "active"
    FROZEN = "frozen"  # the IP consent ended (R7): no provider access, the person still sees it
    UNDER_REVISION = "under_revision"
    CLOSED = "closed"


def ready_for_plan(ip_consent_id: uuid.UUID | None, coordinator_id: uuid.UUID | None) -> bool:
    """A draft plan may be made once the person consents to an IP (R5) and a coordinator is
    appointed to drive it (R9, R14 point 3)."""
    return ip_consent_id is not None and coordinator_id is not None


# Sections of the content: name, the prefix of their item ids, and the content kind a reader's
# consent must cover to see them (R7). Items with a life area need that area covered too.
SECTIONS: dict[str, tuple[str, ContentKind]] = {
    "goals": ("G", ContentKind.GOALS),
    "resources_needs": ("R", ContentKind.HEALTH_INFORMATION),
    "participants": ("P", ContentKind.CONTACTS),
    "contributions": ("C", ContentKind.CONTACTS),
    "measures": ("M", ContentKind.MEASURES),
    "cooperation": ("S", ContentKind.CONTACTS),
}
_SECTION_OF_PREFIX = {prefix: name for name, (prefix, _) in SECTIONS.items()}
_ID = re.compile(r"([GRPCMS])([1-9][0-9]*)", re.ASCII)


def _number(item_id: str, prefix: str | None = None) -> int | None:
    """The number in an id as kenett gives them (G1, M12), or None for anything else."""
    m = _ID.fullmatch(item_id)
    return None if m is None or (prefix is not None and m[1] != prefix) else int(m[2])


def _items(content: PlanContent, section: str) -> list[Any]:
    return list(getattr(content, section))


def item_ids(content: PlanContent) -> set[str]:
    """Every item id in a document."""
    return {i.id for s in SECTIONS for i in _items(content, s) if i.id}


# --- Checking an edit ---------------------------------------------------------------------


def content_problems(content: PlanContent) -> list[FieldError]:
    """What breaks R14-R16 in a document; empty when it may be saved."""
    problems: list[FieldError] = []
    goal_ids = {g.id for g in content.goals if g.id}
    seen: set[str] = set()
    for section in SECTIONS:
        for n, item in enumerate(_items(content, section)):
            if item.id is None:
                continue
            if item.id in seen:
                problems.append(
                    FieldError(field=f"{section}[{n}].id", reason="the same id is used twice")
                )
            seen.add(item.id)
            prefix = SECTIONS[section][0]
            if _number(item.id, prefix) is None:
                problems.append(
                    FieldError(
                        field=f"{section}[{n}].id",
                        reason=f"ids in {section} look like {prefix}1, {prefix}2, ...; "
                        "leave the id out for a new item",
                    )
                )
    for n, g in enumerate(content.goals):
        problems += _evaluations(f"goals[{n}]", g.evaluations)
    for n, m in enumerate(content.measures):
        where = f"measures[{n}]"
        if m.responsible is None:
            problems.append(
                FieldError(
                    field=f"{where}.responsible",
                    reason="every measure names who is responsible: the person, a named "
                    "service or agency, or next of kin (R16)",
                )
            )
        elif m.responsible.kind is not PartyKind.PERSON and not (m.responsible.ref or "").strip():
            problems.append(
                FieldError(
                    field=f"{where}.responsible.ref",
                    reason="name the service, agency or relation that is responsible (R16)",
                )
            )
        if m.start is not None:
            if m.evaluation_date is not None and m.evaluation_date < m.start:
                problems.append(
                    FieldError(
                        field=f"{where}.evaluation_date",
                        reason="the evaluation date is before the measure starts",
                    )
                )
            if m.deadline is not None and m.deadline < m.start:
                problems.append(
                    FieldError(
                        field=f"{where}.deadline",
                        reason="the deadline is before the measure starts",
                    )
                )
        for k, gid in enumerate(m.goal_ids):
            if gid not in goal_ids:
                problems.append(
                    FieldError(
                        field=f"{where}.goal_ids[{k}]", reason="no goal with this id in the plan"
                    )
                )
        problems += _evaluations(where, m.evaluations)
    for section, rows in (("participants", content.participants),):
        for n, p in enumerate(rows):
            problems += _party(f"{section}[{n}].party", p.party.kind, p.party.ref)
    for n, c in enumerate(content.contributions):
        problems += _party(f"contributions[{n}].party", c.party.kind, c.party.ref)
    if content.period is not None:
        problems += _period(content.period)
        problems += _in_period(content)
    return problems


def _in_period(content: PlanContent) -> list[FieldError]:
    """Evaluation dates of goals and measures fall within the plan period (R14 point 7, R16)."""
    period = content.period
    assert period is not None
    problems = []
    dated = [(f"goals[{n}]", g.evaluation_date) for n, g in enumerate(content.goals)]
    dated += [(f"measures[{n}]", m.evaluation_date) for n, m in enumerate(content.measures)]
    for where, d in dated:
        if d is None:
            continue
        if d < period.start:
            problems.append(
                FieldError(
                    field=f"{where}.evaluation_date", reason="is before the plan period starts"
                )
            )
        elif period.end is not None and d > period.end:
            problems.append(
                FieldError(field=f"{where}.evaluation_date", reason="is after the plan period ends")
            )
    return problems


def _party(field: str, kind: PartyKind, ref: str | None) -> list[FieldError]:
    if kind is not PartyKind.PERSON and not (ref or "").strip():
        return [FieldError(field=f"{field}.ref", reason="name the service, agency or relation")]
    return []


def _evaluations(where: str, evaluations: list[Evaluation]) -> list[FieldError]:
    days = [e.on for e in evaluations]
    if days != sorted(days):
        return [
            FieldError(field=f"{where}.evaluations", reason="evaluations are kept in date order")
        ]
    return []


def _period(period: PlanPeriod) -> list[FieldError]:
    problems = []
    if period.end is not None and period.end < period.start:
        problems.append(
            FieldError(field="period.end", reason="the plan period ends before it starts")
        )
    for n, d in enumerate(period.revision_dates):
        if d < period.start:
            problems.append(
                FieldError(
                    field=f"period.revision_dates[{n}]",
                    reason="a revision date is before the plan period starts",
                )
            )
        elif period.end is not None and d > period.end:
            problems.append(
                FieldError(
                    field=f"period.revision_dates[{n}]",
                    reason="a revision date is after the plan period ends",
                )
            )
    return problems


def history_problems(new: PlanContent, old: PlanContent, ever_used: int) -> list[FieldError]:
    """An edit may not invent ids, and may not rewrite evaluations already recorded (R16:
    the history of a goal or measure is kept)."""
    problems: list[FieldError] = []
    old_by_id = {i.id: i for s in SECTIONS for i in _items(old, s)}
    for section in SECTIONS:
        for n, item in enumerate(_items(new, section)):
            if item.id is None:
                continue
            number = _number(item.id, SECTIONS[section][0])
            if item.id not in old_by_id and (number is None or number > ever_used):
                problems.append(
                    FieldError(
                        field=f"{section}[{n}].id",
                        reason="no item with this id has been in the plan; leave the id out "
                        "for a new item",
                    )
                )
            before = old_by_id.get(item.id)
            if before is not None and section in ("goals", "measures"):
                kept = list(before.evaluations)
                if list(item.evaluations[: len(kept)]) != kept:
                    problems.append(
                        FieldError(
                            field=f"{section}[{n}].evaluations",
                            reason="recorded evaluations cannot be changed or removed; "
                            "add a new evaluation instead",
                        )
                    )
    return problems


def added_evaluation_problems(
    new: PlanContent, old: PlanContent, *, today: date, plan_made: date, author: str
) -> list[FieldError]:
    """Evaluations added in a save (R16) are held to what ``evaluate`` records: made on a day
    between the plan's making and today, by whoever saves them. A save cannot date an
    evaluation before the plan existed, into the future, or in someone else's name."""
    problems: list[FieldError] = []
    old_by_id = {i.id: i for s in ("goals", "measures") for i in _items(old, s)}
    for section in ("goals", "measures"):
        for n, item in enumerate(_items(new, section)):
            before = old_by_id.get(item.id) if item.id is not None else None
            kept = len(before.evaluations) if before is not None else 0
            for k, e in enumerate(item.evaluations[kept:], start=kept):
                where = f"{section}[{n}].evaluations[{k}]"
                if e.on > today:
                    problems.append(FieldError(field=f"{where}.on", reason="is in the future"))
                elif e.on < plan_made:
                    problems.append(
                        FieldError(
                            field=f"{where}.on", reason=f"is before the plan was made ({plan_made})"
                        )
                    )
                if e.by != author:
                    problems.append(
                        FieldError(
                            field=f"{where}.by",
                            reason=f"an evaluation is recorded by whoever records it: {author}",
                        )
                    )
    return problems


def number_new_items(content: PlanContent, used: int) -> tuple[PlanContent, dict[str, str], int]:
    """Give new items (no id) the next numbers; ids are never reused, across the plan's life."""
    assigned: dict[str, str] = {}
    data: dict[str, list[Any]] = {}
    for section, (prefix, _) in SECTIONS.items():
        rows = []
        for n, item in enumerate(_items(content, section)):
            if item.id is None:
                used += 1
                item = item.model_copy(update={"id": f"{prefix}{used}"})
                assigned[f"{section}[{n}]"] = item.id
            rows.append(item)
        data[section] = rows
    return content.model_copy(update=data), assigned, used


def highest_number(content: PlanContent) -> int:
    """The highest item number in a document."""
    numbers = [n for i in item_ids(content) if (n := _number(i)) is not None]
    return max(numbers, default=0)


# --- Evaluation (R16) ---------------------------------------------------------------------


def evaluate(
    content: PlanContent,
    item_id: str,
    evaluation: Evaluation,
    next_date: date | None,
) -> tuple[PlanContent, list[FieldError]]:
    """Record an evaluation of a goal or measure; the next evaluation date replaces the one
    that fell due (none: the item has no further evaluation planned)."""
    for section in ("goals", "measures"):
        items: list[Goal | Measure] = _items(content, section)
        for n, item in enumerate(items):
            if item.id != item_id:
                continue
            where = f"{section}[{n}]"
            if len(item.evaluations) >= MAX_EVALUATIONS:
                return content, [
                    FieldError(
                        field="item_id",
                        reason=f"{where} has {MAX_EVALUATIONS} evaluations, the most kept",
                    )
                ]
            if item.evaluations and evaluation.on < item.evaluations[-1].on:
                return content, [
                    FieldError(
                        field="evaluated_on",
                        reason="an evaluation of this item on a later date is already recorded",
                    )
                ]
            if next_date is not None and next_date <= evaluation.on:
                return content, [
                    FieldError(
                        field="next_evaluation_date",
                        reason="the next evaluation must come after this one",
                    )
                ]
            start = getattr(item, "start", None)
            if start is not None and evaluation.on < start:
                return content, [
                    FieldError(field="evaluated_on", reason=f"{where} has not started by then")
                ]
            changed = item.model_copy(
                update={
                    "evaluations": [*item.evaluations, evaluation],
                    "evaluation_date": next_date,
                }
            )
            items[n] = changed
            return content.model_copy(update={section: items}), []
    kind = _SECTION_OF_PREFIX.get(item_id[:1])
    reason = (
        "only goals and measures are evaluated"
        if kind not in (None, "goals", "measures")
        else "no goal or measure with this id in the plan"
    )
    return content, [FieldError(field="item_id", reason=reason)]


MAX_EVALUATIONS = 200  # as PlanContent allows per goal or measure


@dataclass(frozen=True)
class Due:
    """An evaluation that is planned and not yet done."""

    item_id: str
    item_kind: str  # goal, measure
    due_on: date


REVISION_WINDOW = timedelta(days=30)
"""A revision started this long before a revision date, or any time after it, meets it."""


def revision_item(on: date) -> str:
    """The schedule's id of a revision date: ``REV-2027-06-01``."""
    return f"REV-{on.isoformat()}"


def open_revisions(content: PlanContent, last_revision: date | None) -> list[date]:
    """The plan's revision dates (R14 point 7) not yet met by a revision of the plan: one that
    started within ``REVISION_WINDOW`` before the date, or after it."""
    if content.period is None:
        return []
    return sorted(
        {
            d
            for d in content.period.revision_dates
            if last_revision is None or last_revision < d - REVISION_WINDOW
        }
    )


def due_evaluations(content: PlanContent, last_revision: date | None = None) -> list[Due]:
    """Goals and measures with an evaluation date still to come or passed (not yet done):
    finished or stopped measures are not evaluated again. Revision dates of the plan not yet
    met by a revision (``last_revision``: the day the latest one started) fall due the same
    way (R14 point 7, R16)."""
    due = [Due(revision_item(d), "revision", d) for d in open_revisions(content, last_revision)]
    due += [
        Due(g.id, "goal", g.evaluation_date)
        for g in content.goals
        if g.id and g.evaluation_date is not None
    ]
    due += [
        Due(m.id, "measure", m.evaluation_date)
        for m in content.measures
        if m.id and m.evaluation_date is not None and m.status not in ("done", "stopped")
    ]
    return due


def schedule(content: PlanContent, last_revision: date | None = None) -> list[ScheduledItem]:
    """The dated goals and measures, for reminders: evaluation dates still to come or passed,
    and deadlines of measures not yet done or stopped, with the responsible party (R16); and
    the plan's revision dates not yet met (R14 point 7)."""
    items = [
        ScheduledItem(item_id=revision_item(d), item_kind="revision", evaluation_on=d)
        for d in open_revisions(content, last_revision)
    ]
    items += [
        ScheduledItem(item_id=g.id, item_kind="goal", evaluation_on=g.evaluation_date)
        for g in content.goals
        if g.id and g.evaluation_date is not None
    ]
    items += [
        ScheduledItem(
            item_id=m.id,
            item_kind="measure",
            evaluation_on=m.evaluation_date,
            deadline=m.deadline,
            responsible=m.responsible,
        )
        for m in content.measures
        if m.id
        and m.status not in ("done", "stopped")
        and (m.evaluation_date is not None or m.deadline is not None)
    ]
    return items


# --- The plan's life ----------------------------------------------------------------------

EDITABLE = {PlanStatus.DRAFT, PlanStatus.ACTIVE, PlanStatus.UNDER_REVISION}

_MOVES: dict[tuple[str, str], str] = {
    (PlanStatus.DRAFT, PlanStatus.ACTIVE): "activated",
    (PlanStatus.UNDER_REVISION, PlanStatus.ACTIVE): "revised",
    (PlanStatus.ACTIVE, PlanStatus.UNDER_REVISION): "revision_started",
    (PlanStatus.DRAFT, PlanStatus.CLOSED): "closed",
    (PlanStatus.ACTIVE, PlanStatus.CLOSED): "closed",
    (PlanStatus.UNDER_REVISION, PlanStatus.CLOSED): "closed",
    (PlanStatus.FROZEN, PlanStatus.CLOSED): "closed",  # e.g. the person no longer wants an IP
}


def edit_refusal(status: str) -> str | None:
    """Why a plan in ``status`` cannot be edited, or None."""
    if status == PlanStatus.FROZEN:
        return "the plan is frozen: the consent to an individual plan has ended (R7)"
    if status == PlanStatus.CLOSED:
        return "the plan is closed; closed plans are kept as they were"
    return None


def move(
    current: str, to: str, content: PlanContent, reason: str | None, close_reason: str | None
) -> tuple[str | None, list[FieldError]]:
    """The change name for a status move, or why it is refused. A frozen plan can only be
    closed."""
    refusal = edit_refusal(current)
    if refusal is not None and not (current == PlanStatus.FROZEN and to == PlanStatus.CLOSED):
        return None, [FieldError(field="to", reason=refusal)]
    change = _MOVES.get((current, to))
    if change is None:
        return None, [FieldError(field="to", reason=f"a plan that is {current} cannot become {to}")]
    if to == PlanStatus.ACTIVE:
        missing = []
        if not content.goals:
            missing.append(
                FieldError(field="content.goals", reason="an active plan has goals (R14)")
            )
        if content.period is None:
            missing.append(
                FieldError(field="content.period", reason="an active plan has a plan period (R14)")
            )
        elif not content.period.revision_dates:
            missing.append(
                FieldError(
                    field="content.period.revision_dates",
                    reason="an active plan has at least one date for adjustment and revision "
                    "(R14 point 7)",
                )
            )
        if missing:
            return None, missing
    if to == PlanStatus.UNDER_REVISION and not (reason or "").strip():
        return None, [FieldError(field="reason", reason="say why the plan is revised")]
    if to == PlanStatus.CLOSED and close_reason is None:
        return None, [FieldError(field="close_reason", reason="say why the plan closes")]
    return change, []


# --- Reading under consent (R7) -----------------------------------------------------------


def cut_to_parts(
    content: PlanContent, parts: Iterable[tuple[str, str]] | None
) -> tuple[PlanContent, list[str]]:
    """The document as a reader whose consents cover ``parts`` (life area, content kind) may
    see it, and the sections withheld in whole or part. None: the whole document."""
    if parts is None:
        return content, []
    allowed = set(parts)
    withheld: list[str] = []
    data: dict[str, list[Any]] = {}
    for section, (_, kind) in SECTIONS.items():
        rows = _items(content, section)
        if section in ("goals", "resources_needs", "measures"):
            keep = [i for i in rows if (i.life_area, kind) in allowed]
        else:
            keep = rows if _every_area(kind, allowed) else []
        if len(keep) != len(rows):
            withheld.append(section)
        data[section] = keep
    visible_goals = {g.id for g in data["goals"]}
    data["measures"] = [
        m.model_copy(update={"goal_ids": [g for g in m.goal_ids if g in visible_goals]})
        for m in data["measures"]
    ]
    return content.model_copy(update=data), withheld


def _every_area(kind: str, allowed: set[tuple[str, str]]) -> bool:
    """Parts without a life area (participants, contributions, cooperation, the group's
    minutes) may speak of any area, so the consent must cover the kind in every life area."""
    return all((area.value, kind) in allowed for area in LifeArea)


def may_see_meetings(parts: Iterable[tuple[str, str]] | None) -> bool:
    """Minutes and tasks are content kind ``meetings``, in every life area (R7)."""
    return parts is None or _every_area(ContentKind.MEETINGS, set(parts))


def may_see_contacts(parts: Iterable[tuple[str, str]] | None) -> bool:
    """Who takes part is content kind ``contacts``, in every life area (R7)."""
    return parts is None or _every_area(ContentKind.CONTACTS, set(parts))


# --- Comparing versions -------------------------------------------------------------------


def compare(
    old: PlanContent, new: PlanContent
) -> tuple[list[tuple[str, str | None, list[str]]], ...]:
    """(added, changed, removed) between two documents: (section, item id, changed fields)."""
    added: list[tuple[str, str | None, list[str]]] = []
    changed: list[tuple[str, str | None, list[str]]] = []
    removed: list[tuple[str, str | None, list[str]]] = []
    for section in SECTIONS:
        before = {i.id: i for i in _items(old, section)}
        after = {i.id: i for i in _items(new, section)}
        for item_id, item in after.items():
            if item_id not in before:
                added.append((section, item_id, []))
                continue
            a, b = before[item_id].model_dump(), item.model_dump()
            fields = [f for f in b if a.get(f) != b.get(f)]
            if fields:
                changed.append((section, item_id, fields))
        removed += [(section, i, []) for i in before if i not in after]
    if old.period != new.period:
        if old.period is None:
            added.append(("period", None, []))
        elif new.period is None:
            removed.append(("period", None, []))
        else:
            a, b = old.period.model_dump(), new.period.model_dump()
            changed.append(("period", None, [f for f in b if a[f] != b[f]]))
    return added, changed, removed


# --- Retention ----------------------------------------------------------------------------

ANONYMISED = "(anonymisert)"


def anonymise(content: PlanContent) -> PlanContent:
    """Keep the shape for statistics (life areas, dates, statuses, outcomes), drop every text
    and every party's name."""

    def evals(rows: list[Evaluation]) -> list[Evaluation]:
        return [e.model_copy(update={"comment": "", "by": "anonymisert"}) for e in rows]

    def party(p: Any) -> Any:
        return p.model_copy(update={"ref": None if p.kind is PartyKind.PERSON else ANONYMISED})

    return PlanContent(
        goals=[
            Goal(**{**g.model_dump(), "text": ANONYMISED, "evaluations": evals(g.evaluations)})
            for g in content.goals
        ],
        resources_needs=[
            ResourceNeed(**{**r.model_dump(), "text": ANONYMISED}) for r in content.resources_needs
        ],
        participants=[
            Participant(id=p.id, party=party(p.party), role=ANONYMISED)
            for p in content.participants
        ],
        contributions=[
            Contribution(id=c.id, party=party(c.party), text=ANONYMISED)
            for c in content.contributions
        ],
        measures=[
            Measure(
                **{
                    **m.model_dump(),
                    "title": ANONYMISED,
                    "scope": "",
                    "how": "",
                    "where": "",
                    "responsible": party(m.responsible) if m.responsible else None,
                    "evaluations": evals(m.evaluations),
                }
            )
            for m in content.measures
        ],
        period=content.period,
        cooperation=[
            Cooperation(id=c.id, agency=ANONYMISED, purpose=ANONYMISED) for c in content.cooperation
        ],
    )


def measure_of(content: PlanContent, measure_id: str) -> Measure | None:
    return next((m for m in content.measures if m.id == measure_id), None)


def is_responsible(measure: Measure, service: str) -> bool:
    """Is ``service`` (an organisation or service name, any case) the measure's responsible?"""
    party = measure.responsible
    return (
        party is not None
        and party.kind == "service"
        and (party.ref or "").strip().casefold() == service.strip().casefold()
    )


def set_measure_status(
    content: PlanContent, measure_id: str, status: str, service: str
) -> tuple[PlanContent, list[FieldError]]:
    """The responsible service reports a measure's status (R16); nobody else may this way."""
    measure = measure_of(content, measure_id)
    if measure is None:
        return content, [FieldError(field="measure_id", reason="no measure with this id")]
    if not is_responsible(measure, service):
        return content, [
            FieldError(
                field="measure_id",
                reason="the measure is not this service's responsibility; the coordinator "
                "edits the rest of the plan (R9)",
            )
        ]
    measures = [
        m.model_copy(update={"status": status}) if m.id == measure_id else m
        for m in content.measures
    ]
    return content.model_copy(update={"measures": measures}), []
