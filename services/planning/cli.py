"""``kenett planning ...``: the individual plan, its versions, the tool and the group.

Readable output is bokmål (what a KE user or coordinator reads); ``--json`` prints the reply as
one JSON object. Reading a plan names whom it is read as (``--as``): the consent gate decides,
and the content is cut to what that reader's consent covers (R7).
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from shared.client import KenettClient, RequestFailed
from shared.clock import OSLO
from shared.contracts import assignment as a
from shared.contracts import planning as c
from shared.contracts.consent import GateActor
from shared.contracts.envelope import Actor
from shared.runtime.clitools import (
    DEFAULT_NATS,
    DEFAULT_ORG,
    ActorOpt,
    CaseId,
    JsonOpt,
    NatsOpt,
    OrgOpt,
    actor,
    day,
    err,
    find_coordinator,
    local_time,
    out,
    request,
    show,
    with_client,
)

app = typer.Typer(
    help="Planning: the individual plan, versions, evaluations, tool and responsibility group.",
    no_args_is_help=True,
)

MEETING_STATUS = {"scheduled": "innkalt", "held": "holdt", "cancelled": "avlyst"}
STATUS = {
    "draft": "utkast",
    "active": "aktiv",
    "under_revision": "under revisjon",
    "frozen": "fryst (samtykket er trukket)",
    "closed": "avsluttet",
}
CHANGE = {
    "created": "opprettet",
    "saved": "lagret",
    "evaluated": "evaluert",
    "activated": "tatt i bruk",
    "revision_started": "revisjon startet",
    "revised": "revidert",
    "closed": "avsluttet",
}
SECTION = {
    "goals": "mål",
    "resources_needs": "ressurser og behov",
    "participants": "deltakere",
    "contributions": "bidrag",
    "measures": "tiltak",
    "cooperation": "samarbeid",
    "period": "planperiode",
}
CaseArg = CaseId
AsOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Read as KIND:ID (coordinator:<id>, provider:<service>, next_of_kin:<relation>, "
        "person:self). Default: the case's coordinator, if that is you (--actor).",
    ),
]


def _uuid(value: str, option: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter("not an id (a UUID)", param_hint=option) from None


def _who(value: str | None, nats: str, org: str, staff: str, case_id: uuid.UUID) -> GateActor:
    """The role to read or write in: ``--as``, or else the case's coordinator, if that is you
    (your staff id, ``--actor``). Whoever else runs the command says whom they read as: the
    role decides what they see (R7), and the audit trail records it."""
    if value is None:
        role = _as_my_coordinator_role(nats, org, staff, case_id)
        assert role is not None
        return role
    kind, _, ident = value.partition(":")
    try:
        who = GateActor(kind=kind, id=ident)  # type: ignore[arg-type]
    except ValidationError:
        raise typer.BadParameter(
            "use KIND:ID with KIND one of person, coordinator, provider, next_of_kin",
            param_hint="--as",
        ) from None
    if who.kind == "coordinator":
        return _as_coordinator(ident, nats, org, staff)
    return who


def _as_coordinator(ident: str, nats: str, org: str, staff: str) -> GateActor:
    """``--as coordinator:X`` by staff id or coordinator id, and only as yourself: reading as
    coordinator gives the whole plan (R9), so nobody claims another coordinator's role."""
    me = actor(staff)
    entry = find_coordinator(ident, "--as", nats, org, staff)
    if entry["staff_id"] != me.id:
        raise typer.BadParameter(
            f"you ({me.id}) are not coordinator {ident}: a coordinator reads and writes as "
            "themself; read in your own role (provider:, next_of_kin:) instead",
            param_hint="--as",
        )
    return GateActor(kind="coordinator", id=str(entry["coordinator_id"]))


async def _my_coordinator_role(
    client: KenettClient, me: Actor, case_id: uuid.UUID
) -> GateActor | None:
    """Your coordinator role on this case (the primary coordinator, or during a handover's
    overlap the one handing over, R11), or None."""
    view = await client.query("assignment", a.GetCoordination(actor=me, case_id=case_id))
    ids = [uuid.UUID(x["coordinator_id"]) for x in view["current"]]
    if ids:
        listing = await client.query(
            "assignment", a.ListCoordinators(actor=me, coordinator_ids=ids, include_inactive=True)
        )
        for coordinator in listing["coordinators"]:
            if coordinator["staff_id"] == me.id:
                return GateActor(kind="coordinator", id=str(coordinator["coordinator_id"]))
    return None


def _as_my_coordinator_role(
    nats: str, org: str, staff: str, case_id: uuid.UUID, *, required: bool = True
) -> GateActor | None:
    """Your coordinator role on this case; if you have none, a usage error (``required``) or
    None (also when assignment cannot tell now: the read goes on without what needs a role)."""
    me = actor(staff)

    async def go(client: KenettClient) -> dict[str, Any]:
        try:
            return {"role": await _my_coordinator_role(client, me, case_id)}
        except RequestFailed:
            if required:
                raise
            return {"role": None}

    role: GateActor | None = with_client(nats, org, "assignment", go)["role"]
    if role is None and required:
        err.print(
            f"[red]you ({me.id}) are not this case's coordinator[/]: say whom you read or write "
            "as with --as KIND:ID (coordinator:<id>, provider:<service>, next_of_kin:<relation>, "
            "person:self)"
        )
        raise typer.Exit(2)
    return role


@app.command("list")
def list_plans(
    coordinator: Annotated[str | None, typer.Option(help="Only this coordinator's plans.")] = None,
    status: Annotated[list[str] | None, typer.Option(help="Only these statuses.")] = None,
    overdue: Annotated[bool, typer.Option(help="Only plans with overdue evaluations.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    after: Annotated[str | None, typer.Option(help="The cursor the last page printed.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The KE's overview of plans (R18), by coordinator, status and overdue evaluations."""
    query = c.ListPlans(
        actor=actor(staff),
        coordinator_id=_uuid(coordinator, "--coordinator") if coordinator else None,
        status=status or None,
        overdue_evaluations=overdue,
        limit=limit,
        after=after,
    )
    result = request(nats, org, "planning", query)

    def render(r: dict[str, Any]) -> None:
        t = Table(title=f"Individuelle planer ({r['total']})")
        for col in ("Sak", "Status", "Verktøy", "Koordinator", "Versjon", "Endret", "Evaluering"):
            t.add_column(col)
        today = datetime.now(OSLO).date().isoformat()
        for p in r["plans"]:
            due = p["next_evaluation_on"] or "–"
            if p["next_evaluation_on"] and p["next_evaluation_on"] < today:
                due = f"[red]{due} (forfalt)[/]"
            t.add_row(
                p["case_ref"],
                STATUS.get(p["status"], p["status"]),
                "IP" if p["tool"] == "ip" else "møter",
                p["coordinator_id"],
                str(p["version"]),
                local_time(p["updated_at"]),
                due,
            )
        out.print(t)
        if r["next"]:
            out.print(f"Neste side: --after {r['next']}")

    show(result, as_json, render)


@app.command("show")
def show_plan(
    case: CaseArg,
    version: Annotated[int | None, typer.Option(min=1, help="An earlier version.")] = None,
    who: AsOpt = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The plan (a version of it) as the reader may see it (R7)."""
    reader = _who(who, nats, org, staff, case)
    result = request(
        nats,
        org,
        "planning",
        c.ViewPlan(actor=actor(staff), case_id=case, who=reader, version=version),
    )

    def render(r: dict[str, Any]) -> None:
        d = c.PlanDocument.model_validate(r["document"])
        out.print(
            f"[bold]Individuell plan, sak {d.case_ref}[/]  versjon {d.version}, "
            f"{STATUS.get(d.status, d.status)}, lagret {local_time(d.saved_at.isoformat())}"
        )
        if d.withheld:
            out.print(
                "[yellow]Noen deler er ikke med fordi samtykket ikke omfatter dem:[/] "
                + ", ".join(SECTION.get(s, s) for s in d.withheld)
            )
        for g in d.content.goals:
            out.print(f"  Mål {g.id} ({g.life_area}): {g.text}")
        for m in d.content.measures:
            resp = m.responsible.ref or m.responsible.kind if m.responsible else "–"
            out.print(f"  Tiltak {m.id} ({m.life_area}): {m.title}; ansvarlig {resp}; {m.status}")
        if d.content.period:
            out.print(f"  Planperiode: {d.content.period.start} – {d.content.period.end or '…'}")

    show(result, as_json, render)


@app.command()
def versions(
    case: CaseArg,
    who: AsOpt = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Every version: when, by whom, what kind of change (R16). The notes are free text: only
    for a reader who may see the whole plan (R7); without --as, as the case's coordinator if
    that is you, else without the notes."""
    reader = (
        _who(who, nats, org, staff, case)
        if who is not None
        else _as_my_coordinator_role(nats, org, staff, case, required=False)
    )
    result = request(
        nats,
        org,
        "planning",
        c.ListPlanVersions(actor=actor(staff), case_id=case, who=reader),
    )

    def render(r: dict[str, Any]) -> None:
        t = Table(title="Versjoner")
        for col in ("Versjon", "Tid", "Av", "Endring", "Status", "Merknad"):
            t.add_column(col)
        for v in r["versions"]:
            t.add_row(
                str(v["version"]),
                local_time(v["saved_at"]),
                v["saved_by"],
                CHANGE.get(v["change"], v["change"]),
                STATUS.get(v["status"], v["status"]),
                v["note"] or "",
            )
        out.print(t)
        if r.get("notes_withheld"):
            out.print(
                "Merknadene er fritekst og vises bare for den som kan lese hele planen "
                "(koordinatoren, eller --as med et samtykke som dekker hele planen)."
            )

    show(result, as_json, render)


@app.command()
def diff(
    case: CaseArg,
    from_version: Annotated[int, typer.Argument(min=1)],
    to_version: Annotated[int, typer.Argument(min=1)],
    who: AsOpt = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """What was added, changed and removed between two versions."""
    reader = _who(who, nats, org, staff, case)
    query = c.ComparePlanVersions(
        actor=actor(staff),
        case_id=case,
        who=reader,
        from_version=from_version,
        to_version=to_version,
    )
    result = request(nats, org, "planning", query)

    def render(r: dict[str, Any]) -> None:
        for key, label in (("added", "Lagt til"), ("changed", "Endret"), ("removed", "Fjernet")):
            for e in r[key]:
                fields = f" ({', '.join(e['fields'])})" if e["fields"] else ""
                section = SECTION.get(e["section"], e["section"])
                out.print(f"{label}: {section} {e['item_id'] or ''}{fields}")
        if not (r["added"] or r["changed"] or r["removed"]):
            out.print("Ingen forskjeller.")

    show(result, as_json, render)


@app.command()
def export(
    case: CaseArg,
    out_file: Annotated[Path, typer.Option("--out", help="Write here (JSON) to edit and save.")],
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
) -> None:
    """Write the latest content with its version number, for editing and `save`."""
    reader = _who(None, nats, org, staff, case)
    result = request(
        nats, org, "planning", c.ViewPlan(actor=actor(staff), case_id=case, who=reader)
    )
    doc = result["document"]
    out_file.write_text(
        json.dumps(
            {"version": doc["version"], "content": doc["content"]}, ensure_ascii=False, indent=2
        ),
        encoding="utf-8",
    )
    out.print(f"Versjon {doc['version']} skrevet til {out_file}. Rediger og lagre med `save`.")


@app.command()
def save(
    case: CaseArg,
    in_file: Annotated[Path, typer.Argument(help="A file from `export`, edited.")],
    note: Annotated[str | None, typer.Option(help="What changed, in a line.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Save edited content as a new version; refused if someone saved in between."""
    try:
        data = json.loads(in_file.read_text(encoding="utf-8"))
        content = c.PlanContent.model_validate(data["content"])
        version = int(data["version"])
    except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
        if isinstance(exc, ValidationError):
            for e in exc.errors(include_input=False, include_url=False):
                err.print(f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}")
        raise typer.BadParameter(
            "not a plan file from `export` (version and content)", param_hint="IN_FILE"
        ) from None
    by = _who(None, nats, org, staff, case)
    cmd = c.SavePlan(
        actor=actor(staff),
        case_id=case,
        expected_version=version,
        by=by,
        content=content,
        note=note,
    )
    result = request(nats, org, "planning", cmd)
    show(result, as_json, lambda r: out.print(f"Lagret som versjon {r['version']}."))


@app.command()
def status(
    case: CaseArg,
    to: Annotated[str, typer.Argument(help="active, under_revision or closed")],
    version: Annotated[int, typer.Option(min=1, help="The version you are looking at.")],
    reason: Annotated[str | None, typer.Option(help="Why (revision; closing).")] = None,
    close_reason: Annotated[c.CloseReason | None, typer.Option(help="Why the plan closes.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Move the plan: activate, start a revision, close."""
    if to not in ("active", "under_revision", "closed"):
        raise typer.BadParameter("active, under_revision or closed", param_hint="TO")
    by = _who(None, nats, org, staff, case)
    cmd = c.ChangePlanStatus(
        actor=actor(staff),
        case_id=case,
        expected_version=version,
        by=by,
        to=to,  # type: ignore[arg-type]
        reason=reason,
        close_reason=close_reason,
    )
    result = request(nats, org, "planning", cmd)
    show(
        result,
        as_json,
        lambda r: out.print(
            f"Planen er {STATUS.get(r['status'], r['status'])} (versjon {r['version']})."
        ),
    )


@app.command()
def evaluate(
    case: CaseArg,
    item: Annotated[str, typer.Argument(help="Goal or measure id, e.g. G1 or M4.")],
    outcome: Annotated[c.Outcome, typer.Argument()],
    version: Annotated[int, typer.Option(min=1, help="The version you are looking at.")],
    comment: Annotated[str, typer.Option()] = "",
    next_date: Annotated[
        str | None, typer.Option("--next", help="Next evaluation (YYYY-MM-DD).")
    ] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Evaluate a goal or measure (R16)."""
    by = _who(None, nats, org, staff, case)
    cmd = c.EvaluateItem(
        actor=actor(staff),
        case_id=case,
        expected_version=version,
        by=by,
        item_id=item,
        outcome=outcome,
        comment=comment,
        next_evaluation_date=day(next_date, "--next"),
    )
    result = request(nats, org, "planning", cmd)
    show(result, as_json, lambda r: out.print(f"Evaluert; planen er nå versjon {r['version']}."))


_CHOSEN_BY = {
    "person": "personen selv",
    "parent": "foreldre",
    "barnevern": "barnevernet",
    "representative": "representant",
}


@app.command()
def tool(
    case: CaseArg,
    choice: Annotated[c.CoordinationTool, typer.Argument(help="ip or meetings")],
    chosen_by: Annotated[
        str, typer.Option(help="person, parent, barnevern or representative (R6)")
    ] = "person",
    note: Annotated[str | None, typer.Option()] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Record the person's choice of tool (R13)."""
    if chosen_by not in ("person", "parent", "barnevern", "representative"):
        raise typer.BadParameter(
            "person, parent, barnevern or representative", param_hint="--chosen-by"
        )
    cmd = c.SwitchTool(
        actor=actor(staff),
        case_id=case,
        tool=choice,
        chosen_by=chosen_by,
        note=note,  # type: ignore[arg-type]
    )
    result = request(nats, org, "planning", cmd)

    def render(r: dict[str, Any]) -> None:
        for h in r["history"]:
            label = "individuell plan" if h["tool"] == "ip" else "ansvarsgruppemøter med referat"
            who = _CHOSEN_BY.get(h["chosen_by"], h["chosen_by"])
            out.print(f"{local_time(h['at'])}: {label} (valgt av {who})")

    show(result, as_json, render)


@app.command()
def group(
    case: CaseArg,
    who: AsOpt = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The responsibility group: members, meetings, tasks."""
    reader = _who(who, nats, org, staff, case)
    result = request(
        nats, org, "planning", c.GetGroup(actor=actor(staff), case_id=case, who=reader)
    )

    def render(r: dict[str, Any]) -> None:
        t = Table(title="Ansvarsgruppe")
        for col in ("Medlem", "Rolle", "Fra", "Til", "Id"):
            t.add_column(col, overflow="fold" if col == "Id" else "ellipsis")
        for m in r["members"]:
            t.add_row(
                m["party"]["ref"] or "personen selv",
                m["role"],
                m["from_date"],
                m["to_date"] or "",
                str(m["member_id"]),
            )
        out.print(t)
        for mt in r["meetings"]:
            status = MEETING_STATUS.get(mt["status"], mt["status"])
            out.print(
                f"Møte {local_time(mt['at'])}, {mt['place']}: {status} (møte {mt['meeting_id']})",
                soft_wrap=True,
            )
            for d in mt["decisions"]:
                out.print(f"  Vedtatt: {d}")
        for task in r["tasks"]:
            done = "utført" if task["done_at"] else f"frist {task['deadline']}"
            line = f"Oppgave: {task['text']} ({done}; oppgave {task['task_id']})"
            out.print(line, soft_wrap=True)

    show(result, as_json, render)


@app.command("add-member")
def add_member(
    case: CaseArg,
    party: Annotated[
        str,
        typer.Argument(
            help="KIND:REF: service:<name>, next_of_kin:<relation>, person, coordinator:<id>"
        ),
    ],
    role: Annotated[str, typer.Option(help="The member's role, e.g. fastlege.")],
    from_date: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD; today.")] = None,
    to_date: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Add a member to the responsibility group (R13)."""
    kind, _, ref = party.partition(":")
    try:
        member = c.Party(kind=kind, ref=ref or None)  # type: ignore[arg-type]
    except ValidationError:
        raise typer.BadParameter(
            "KIND is person, service, next_of_kin or coordinator", param_hint="PARTY"
        ) from None
    cmd = c.AddMember(
        actor=actor(staff),
        case_id=case,
        party=member,
        role=role,
        from_date=day(from_date, "--from"),
        to_date=day(to_date, "--to"),
    )
    result = request(nats, org, "planning", cmd)
    show(result, as_json, lambda r: out.print(f"Medlem lagt til: {r['id']}"))


@app.command()
def meeting(
    case: CaseArg,
    at: Annotated[str, typer.Option(help="YYYY-MM-DDTHH:MM (Norwegian time).")],
    place: Annotated[str, typer.Option()],
    agenda: Annotated[list[str] | None, typer.Option(help="An agenda item; repeat.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Call a responsibility-group meeting; the members are told."""
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        raise typer.BadParameter("not a time (YYYY-MM-DDTHH:MM)", param_hint="--at") from None
    when = when if when.tzinfo else when.replace(tzinfo=OSLO)
    cmd = c.ScheduleMeeting(
        actor=actor(staff), case_id=case, at=when, place=place, agenda=agenda or []
    )
    result = request(nats, org, "planning", cmd)
    show(result, as_json, lambda r: out.print(f"Møte kalt inn: {r['id']}"))


@app.command("cancel-meeting")
def cancel_meeting(
    case: CaseArg,
    meeting_id: Annotated[uuid.UUID, typer.Argument(help="The meeting (see `group`).")],
    reason: Annotated[str, typer.Option(help="Why; the members are told it is cancelled.")],
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Cancel a called meeting; the members are told and its reminders stop."""
    cmd = c.CancelMeeting(actor=actor(staff), case_id=case, meeting_id=meeting_id, reason=reason)
    result = request(nats, org, "planning", cmd)
    show(result, as_json, lambda r: out.print("Møtet er avlyst."))


@app.command()
def minutes(
    case: CaseArg,
    meeting_id: Annotated[uuid.UUID, typer.Argument(help="The meeting (see `group`).")],
    in_file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help='JSON: {"attended": [member ids], "summary": "...", "decisions": ["..."], '
            '"tasks": [{"member_id": "...", "text": "...", "deadline": "YYYY-MM-DD"}]} '
            "(else standard input).",
        ),
    ] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The minutes of a held meeting (R13): who came, what was decided, which tasks to whom.
    They may hold health details, so they come from a file or standard input, never from the
    command line (shell history, the process list)."""
    try:
        raw = in_file.read_text(encoding="utf-8") if in_file else sys.stdin.read()
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        given = {k: v for k, v in data.items() if k not in ("actor", "case_id", "meeting_id")}
        cmd = c.RecordMinutes(actor=actor(staff), case_id=case, meeting_id=meeting_id, **given)
    except ValidationError as exc:
        for e in exc.errors(include_input=False, include_url=False):
            err.print(f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}")
        raise typer.BadParameter("the minutes are not as described", param_hint="--file") from None
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(
            f"not minutes in JSON ({type(exc).__name__})", param_hint="--file"
        ) from None
    result = request(nats, org, "planning", cmd)
    show(result, as_json, lambda r: out.print("Referatet er lagret."))


@app.command("task-done")
def task_done(
    case: CaseArg,
    task_id: Annotated[uuid.UUID, typer.Argument(help="The task (see `group`).")],
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Mark a task from a meeting done."""
    cmd = c.CompleteTask(actor=actor(staff), case_id=case, task_id=task_id)
    result = request(nats, org, "planning", cmd)
    show(result, as_json, lambda r: out.print("Oppgaven er utført."))


@app.command("end-member")
def end_member(
    case: CaseArg,
    member_id: Annotated[uuid.UUID, typer.Argument(help="The membership (see `group`).")],
    to_date: Annotated[str | None, typer.Option("--to", help="Last day; default today.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """A member leaves the responsibility group; the membership stays in the history."""
    cmd = c.EndMember(
        actor=actor(staff), case_id=case, member_id=member_id, to_date=day(to_date, "--to")
    )
    result = request(nats, org, "planning", cmd)
    show(result, as_json, lambda r: out.print("Medlemskapet er avsluttet."))


@app.command()
def pdf(
    case: CaseArg,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Default: the suggested name.")
    ] = None,
    version: Annotated[int | None, typer.Option(min=1)] = None,
    who: AsOpt = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
) -> None:
    """The plan as a PDF for meetings (bokmål), cut to the reader's consent."""
    reader = _who(who, nats, org, staff, case)
    result = request(
        nats,
        org,
        "planning",
        c.RenderPlanPdf(actor=actor(staff), case_id=case, who=reader, version=version),
    )
    target = out_file or Path(result["filename"])
    target.write_bytes(base64.b64decode(result["pdf_base64"]))
    out.print(f"Skrevet til {target}.")


@app.command()
def fhir(
    case: CaseArg,
    who: AsOpt = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
) -> None:
    """The plan as a FHIR R4 Bundle (JSON on stdout)."""
    reader = _who(who, nats, org, staff, case)
    result = request(
        nats, org, "planning", c.ExportPlanFhir(actor=actor(staff), case_id=case, who=reader)
    )
    out.print_json(json.dumps(result["bundle"], ensure_ascii=False))


@app.command()
def purge(
    dry_run: Annotated[bool, typer.Option(help="Report only.")] = False,
    mode: Annotated[
        str | None, typer.Option(help="delete or anonymise (default: the setting).")
    ] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Retention: closed plans past the retention period are deleted or anonymised."""
    if mode not in (None, "delete", "anonymise"):
        raise typer.BadParameter("delete or anonymise", param_hint="--mode")
    result = request(
        nats,
        org,
        "planning",
        c.PurgePlans(actor=actor(staff), dry_run=dry_run, mode=mode),  # type: ignore[arg-type]
    )

    def render(r: dict[str, Any]) -> None:
        verb = {"delete": "slettet", "anonymise": "anonymisert"}[r["mode"]]
        when = "ville blitt" if r["dry_run"] else "ble"
        out.print(
            f"{r['plans']} planer avsluttet før {local_time(r['closed_before'])} {when} {verb} "
            f"({r['versions']} versjoner, {r['meetings']} møter)."
        )
        if r["case_refs"]:
            out.print("Saker: " + ", ".join(r["case_refs"]))

    show(result, as_json, render)


@app.command()
def sweep(
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Announce overdue evaluations now (the service does it every minute)."""
    result = request(nats, org, "planning", c.SweepPlanning(actor=actor(staff)))
    show(
        result,
        as_json,
        lambda r: out.print(f"{r['evaluations_overdue']} evalueringer har forfalt."),
    )
