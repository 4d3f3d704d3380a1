"""``kenett assignment ...``: the coordinator registry, suggestions, appointment and handover.

Readable output is bokmål (what a KE user reads); ``--json`` prints the reply as one JSON object.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from shared.clock import OSLO
from shared.contracts import assignment as c
from shared.runtime.clitools import (
    DEFAULT_NATS,
    DEFAULT_ORG,
    ActorOpt,
    CaseId,
    JsonOpt,
    NatsOpt,
    OrgOpt,
    actor,
    case_option,
    coordinator_ref,
    day,
    local_end,
    local_time,
    moment,
    out,
    page_footer,
    request,
    show,
)

app = typer.Typer(
    help="Assignment: coordinator registry, suggestions, appointment, handover, caseloads.",
    no_args_is_help=True,
)

KIND = {
    "municipal": "koordinator",
    "hospital": "koordinator i sykehus",
    "child": "barnekoordinator",
}
ROLE = {"primary": "koordinator", "handing_over": "overlater"}
CAUSE = {
    "new": "nytt samtykke, ingen koordinator oppnevnt",
    "no_capacity": "ingen ledig kapasitet",
    "coordinator_deactivated": "koordinatoren har sluttet",
    "released": "koordinatoren er fritatt",
    "handover_cancelled": "planlagt overtakelse falt bort",
}
DUTY = {
    "map_children": "kartlegge barn som pårørende og søsken (R12)",
    "inform_rights": "informere om rettigheter (R19)",
    "first_meeting": "kalle inn til første møte i ansvarsgruppen",
}


def instant(
    value: str | None, option: str, *, today_is_now: bool = False, through: bool = False
) -> datetime | None:
    """YYYY-MM-DD (the start of that day in Norway; with ``through``, the whole of that day)
    or a full ISO time (``clitools.moment``). With ``today_is_now``, today means from now on."""
    if today_is_now and value is not None and len(value) == 10:
        with contextlib.suppress(ValueError):
            if date.fromisoformat(value) == datetime.now(OSLO).date():
                return None
    at = moment(value, option, through=through)
    return None if at is None else at.astimezone(UTC)


def _coordinator_table(rows: list[dict[str, Any]], title: str) -> Table:
    t = Table(title=title)
    for col in ("Ansatt", "Navn", "Enhet", "Saker", "Grense", "Ledig", "Status"):
        t.add_column(col)
    for v in rows:
        status = (
            "inaktiv"
            if not v["active"]
            else ("[red]over grensen[/]" if v["over_limit"] else "aktiv")
        )
        t.add_row(
            v["staff_id"],
            v["display_name"],
            v["unit"],
            str(v["caseload"]),
            str(v["caseload_limit"]),
            str(v["free"]),
            status,
        )
    return t


@app.command()
def register(
    staff_id: Annotated[str, typer.Option(help="The employee's id.")],
    name: Annotated[str, typer.Option(help="Name as colleagues know it.")],
    unit: Annotated[str, typer.Option(help="e.g. Helse og omsorg.")],
    profession: Annotated[str | None, typer.Option(help="e.g. sykepleier.")] = None,
    health_personnel: Annotated[bool, typer.Option(help="Helsepersonell (R17).")] = False,
    trained_on: Annotated[str | None, typer.Option(help="Training completed, YYYY-MM-DD.")] = None,
    language: Annotated[list[str] | None, typer.Option(help="Language code (repeat).")] = None,
    limit: Annotated[int | None, typer.Option(help="Individual caseload limit (R10).")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Add a coordinator to the registry."""
    result = request(
        nats,
        org,
        "assignment",
        c.RegisterCoordinator(
            actor=actor(staff),
            staff_id=staff_id,
            display_name=name,
            unit=unit,
            profession=profession,
            health_personnel=health_personnel,
            training_completed_on=day(trained_on, "--trained-on"),
            languages=language or ["nb"],
            caseload_limit=limit,
        ),
    )
    show(result, as_json, lambda r: out.print(f"Koordinator registrert: {r['coordinator_id']}"))


@app.command()
def deactivate(
    coordinator: Annotated[
        str, typer.Argument(help="The coordinator: staff id or coordinator id.")
    ],
    reason: Annotated[str, typer.Option(help="Why (kept in the registry).")],
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """A coordinator leaves: their cases are flagged for a new coordinator at once (R11)."""
    result = request(
        nats,
        org,
        "assignment",
        c.DeactivateCoordinator(
            actor=actor(staff),
            coordinator_id=coordinator_ref(coordinator, "COORDINATOR", nats, org, staff),
            reason=reason,
        ),
    )

    def render(r: dict[str, Any]) -> None:
        out.print(f"Deaktivert. {len(r['flagged_case_ids'])} saker trenger ny koordinator.")
        if r["cancelled_handover_ids"]:
            out.print(f"{len(r['cancelled_handover_ids'])} planlagte overtakelser er avlyst.")

    show(result, as_json, render)


@app.command()
def coordinators(
    unit: Annotated[str | None, typer.Option(help="Only this unit.")] = None,
    limit: Annotated[int, typer.Option(help="Coordinators per page (1-500).")] = 500,
    offset: Annotated[int, typer.Option(help="Coordinators to skip (the next page's).")] = 0,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The registry with caseloads, in the order of registration."""
    result = request(
        nats,
        org,
        "assignment",
        c.ListCoordinators(actor=actor(staff), unit=unit, limit=limit, offset=offset),
    )

    def render(r: dict[str, Any]) -> None:
        out.print(_coordinator_table(r["coordinators"], "Koordinatorer"))
        page_footer(r, offset, "coordinators")

    show(result, as_json, render)


@app.command()
def caseload(
    unit: Annotated[str | None, typer.Option(help="Only this unit.")] = None,
    limit: Annotated[int, typer.Option(help="Coordinators per page (1-500).")] = 100,
    offset: Annotated[int, typer.Option(help="Coordinators to skip (the next page's).")] = 0,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Caseloads per coordinator and per unit; over the limit first, in red (R10)."""
    result = request(
        nats,
        org,
        "assignment",
        c.CaseloadOverview(actor=actor(staff), unit=unit, limit=limit, offset=offset),
    )

    def render(r: dict[str, Any]) -> None:
        t = Table(title=f"Saksmengde per enhet (grense {r['default_limit']} hvis ikke annet satt)")
        for col in ("Enhet", "Koordinatorer", "Aktive", "Saker", "Kapasitet", "Over grensen"):
            t.add_column(col)
        for u in r["units"]:
            over = f"[red]{u['over_limit']}[/]" if u["over_limit"] else "0"
            t.add_row(
                u["unit"],
                str(u["coordinators"]),
                str(u["active"]),
                str(u["caseload"]),
                str(u["capacity"]),
                over,
            )
        out.print(t)
        out.print(_coordinator_table(r["coordinators"], "Saksmengde per koordinator"))
        page_footer(r, offset, "coordinators")

    show(result, as_json, render)


@app.command()
def needing(
    limit: Annotated[int, typer.Option(help="Cases per page (1-500).")] = 200,
    offset: Annotated[int, typer.Option(help="Cases to skip (the next page's).")] = 0,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Cases that need a (new) coordinator, oldest first."""
    result = request(
        nats,
        org,
        "assignment",
        c.ListCasesNeedingCoordinator(actor=actor(staff), limit=limit, offset=offset),
    )

    def render(r: dict[str, Any]) -> None:
        if not r["cases"]:
            out.print("Ingen saker venter på koordinator.")
            return
        t = Table(title="Saker som trenger koordinator")
        for col in ("Sak", "Hvorfor", "Siden", "Ansvarlig nå"):
            t.add_column(col)
        for n in r["cases"]:
            t.add_row(
                n["case_ref"],
                CAUSE.get(n["cause"], n["cause"]),
                local_time(n["since"]),
                n["responsible_coordinator_id"] or "–",
            )
        out.print(t)
        page_footer(r, offset, "cases")

    show(result, as_json, render)


@app.command()
def needs(
    case_id: CaseId,
    wish: Annotated[
        str | None, typer.Option(help="Wished coordinator (R9): staff id or coordinator id.")
    ] = None,
    language: Annotated[str | None, typer.Option(help="The person's language code.")] = None,
    unit: Annotated[str | None, typer.Option(help="The unit that fits.")] = None,
    kind: Annotated[c.CoordinatorKind | None, typer.Option(help="Kind of coordinator.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Record the person's wish and needs for a coordinator (R9, R20)."""
    given: dict[str, Any] = {"actor": actor(staff), "case_id": case_id}
    for key, value in (
        ("wished_coordinator_id", coordinator_ref(wish, "--wish", nats, org, staff)),
        ("language", language),
        ("unit", unit),
        ("kind", kind),
    ):
        if value is not None:
            given[key] = value
    result = request(nats, org, "assignment", c.SetCoordinatorNeeds(**given))
    show(result, as_json, lambda r: out.print(f"Lagret ({KIND[r['kind']]})."))


@app.command()
def suggest(
    case_id: CaseId,
    limit: Annotated[int, typer.Option(help="How many candidates.")] = 10,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Ranked candidates for a case, with reasons (R9, R10)."""
    result = request(
        nats,
        org,
        "assignment",
        c.SuggestCoordinators(actor=actor(staff), case_id=case_id, limit=limit),
    )

    def render(r: dict[str, Any]) -> None:
        out.print(f"Forslag til {KIND[r['kind']]} for sak [bold]{r['case_ref']}[/]:")
        for i, s in enumerate(r["candidates"], 1):
            mark = (
                ""
                if s["appointable"]
                else (
                    " [yellow](krever overstyring)[/]"
                    if s["needs_override"]
                    else " [red](kan ikke oppnevnes)[/]"
                )
            )
            out.print(
                f"{i}. [bold]{s['display_name']}[/] ({s['staff_id']}, {s['unit']}), "
                f"{s['score']} poeng{mark}  id {s['coordinator_id']}"
            )
            for reason in s["reasons"]:
                out.print(f"     • {reason['text']}")

    show(result, as_json, render)


@app.command()
def appoint(
    case_id: CaseId,
    coordinator: Annotated[
        str, typer.Argument(help="The coordinator: staff id or coordinator id.")
    ],
    kind: Annotated[c.CoordinatorKind | None, typer.Option(help="Kind of coordinator.")] = None,
    override_reason: Annotated[
        str | None, typer.Option(help="Appoint over the caseload limit, with this reason (R10).")
    ] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Appoint the case's first coordinator (needs coordinator consent)."""
    result = request(
        nats,
        org,
        "assignment",
        c.AppointCoordinator(
            actor=actor(staff),
            case_id=case_id,
            coordinator_id=coordinator_ref(coordinator, "COORDINATOR", nats, org, staff),
            kind=kind,
            override_limit=override_reason is not None,
            override_reason=override_reason,
        ),
    )
    show(
        result,
        as_json,
        lambda r: out.print(
            f"Koordinator oppnevnt. {len(r['duty_ids'])} oppgaver med frist er opprettet."
        ),
    )


@app.command()
def handover(
    case_id: CaseId,
    to: Annotated[str, typer.Option(help="The new coordinator: staff id or coordinator id.")],
    until: Annotated[
        str,
        typer.Option(help="Overlap through this day (YYYY-MM-DD), or until YYYY-MM-DDTHH:MM."),
    ],
    start: Annotated[str | None, typer.Option(help="Overlap starts (default now).")] = None,
    reason: Annotated[str | None, typer.Option(help="Why the change.")] = None,
    override_reason: Annotated[
        str | None, typer.Option(help="Over the limit, with reason.")
    ] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Plan a change of coordinator with an overlap (R11)."""
    end = instant(until, "--until", through=True)
    assert end is not None
    result = request(
        nats,
        org,
        "assignment",
        c.PlanHandover(
            actor=actor(staff),
            case_id=case_id,
            to_coordinator_id=coordinator_ref(to, "--to", nats, org, staff),
            overlap_start=instant(start, "--start", today_is_now=True),
            overlap_end=end,
            reason=reason,
            override_limit=override_reason is not None,
            override_reason=override_reason,
        ),
    )
    show(
        result,
        as_json,
        lambda r: out.print(
            f"Overtakelse planlagt: ny koordinator fra {local_time(r['overlap_start'])}, "
            f"overlapp {local_end(r['overlap_end'])}."
        ),
    )


@app.command()
def release(
    case_id: CaseId,
    reason: Annotated[c.ReleaseReason, typer.Option(help="Why.")],
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Release the coordinator: they stay responsible until a successor takes over (R11)."""
    result = request(
        nats,
        org,
        "assignment",
        c.ReleaseCoordinator(actor=actor(staff), case_id=case_id, reason=reason),
    )
    show(
        result,
        as_json,
        lambda r: out.print("Saken står nå på listen over saker som trenger koordinator."),
    )


@app.command()
def show_case(
    case_id: CaseId,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """A case's coordinators over time, handovers and duties."""
    result = request(
        nats, org, "assignment", c.GetCoordination(actor=actor(staff), case_id=case_id)
    )

    def render(r: dict[str, Any]) -> None:
        out.print(f"Sak [bold]{r['case_ref']}[/]")
        if r["needs_coordinator"]:
            out.print(f"[yellow]Trenger koordinator[/]: {CAUSE[r['needs_coordinator']]}")
        for e in r["episodes"]:
            out.print(
                f"{KIND[e['kind']]}: {local_time(e['opened_at'])} – {local_time(e['closed_at'])}"
            )
            for a in e["appointments"]:
                period = f"{local_time(a['start'])} – {local_time(a['end'])}"
                out.print(f"  {ROLE[a['role']]} {a['coordinator_id']}: {period}")
        for d in r["duties"]:
            state = "utført" if d["done_at"] else ("[red]forfalt[/]" if d["overdue"] else "åpen")
            out.print(f"  Oppgave: {DUTY[d['kind']]}, frist {d['due_on']}: {state}")

    show(result, as_json, render)


def _children_text(m: dict[str, Any] | None) -> str:
    if not m:
        return ""
    parts = [
        "barn under 18 som pårørende" if m["minor_children"] else "ingen barn under 18",
        "søsken trenger oppfølging" if m["siblings_need_follow_up"] else "søsken: ikke behov",
    ]
    if m["follow_up_arranged"] is not None:
        parts.append(
            "oppfølging ivaretatt" if m["follow_up_arranged"] else "[red]ikke ivaretatt[/]"
        )
    return "; ".join(parts)


@app.command()
def duties(
    case_id: Annotated[
        uuid.UUID | None,
        case_option("One case: its id or case number."),
    ] = None,
    coordinator: Annotated[
        str | None,
        typer.Option(
            help="The cases this coordinator is responsible for: staff id or coordinator id."
        ),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Done ones too.")] = False,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Duties after an appointment (R9, R12, R19): open ones, or --all."""
    result = request(
        nats,
        org,
        "assignment",
        c.ListDuties(
            actor=actor(staff),
            case_id=case_id,
            coordinator_id=coordinator_ref(coordinator, "--coordinator", nats, org, staff),
            open_only=not all_,
        ),
    )

    def render(r: dict[str, Any]) -> None:
        t = Table(title="Oppgaver")
        for col in ("Oppgave", "Sak", "Hva", "Frist", "Status"):
            t.add_column(col)
        for d in r["duties"]:
            state = "utført" if d["done_at"] else ("[red]forfalt[/]" if d["overdue"] else "åpen")
            found = _children_text(d.get("children"))
            t.add_row(
                d["duty_id"],
                d["case_ref"],
                DUTY[d["kind"]] + (f"\n{found}" if found else ""),
                d["due_on"],
                state,
            )
        out.print(t)

    show(result, as_json, render)


def _yes_no(value: str | None, option: str) -> bool | None:
    if value is None:
        return None
    if value in ("ja", "yes"):
        return True
    if value in ("nei", "no"):
        return False
    raise typer.BadParameter("answer ja or nei", param_hint=option)


@app.command("duty-done")
def duty_done(
    duty_id: uuid.UUID,
    note: Annotated[str | None, typer.Option(help="Kept in assignment only.")] = None,
    children: Annotated[
        str | None, typer.Option(help="R12: children under 18 as next of kin? ja/nei.")
    ] = None,
    siblings: Annotated[
        str | None, typer.Option(help="R12: siblings who need follow-up? ja/nei.")
    ] = None,
    followed_up: Annotated[
        str | None, typer.Option(help="R12: their follow-up is arranged? ja/nei.")
    ] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Mark a duty done. Mapping children (R12) says what it found: --children, --siblings
    and, where either is ja, --followed-up."""
    answers = {
        "minor_children": _yes_no(children, "--children"),
        "siblings_need_follow_up": _yes_no(siblings, "--siblings"),
        "follow_up_arranged": _yes_no(followed_up, "--followed-up"),
    }
    mapping = None
    if any(v is not None for v in answers.values()):
        for field, option in (
            ("minor_children", "--children"),
            ("siblings_need_follow_up", "--siblings"),
        ):
            if answers[field] is None:
                raise typer.BadParameter(
                    "missing: mapping children says both --children and --siblings (ja or nei), "
                    "and --followed-up where either is ja (R12)",
                    param_hint=option,
                )
        mapping = c.ChildrenMapping(**answers)  # type: ignore[arg-type]
    result = request(
        nats,
        org,
        "assignment",
        c.CompleteDuty(actor=actor(staff), duty_id=duty_id, note=note, children=mapping),
    )
    show(result, as_json, lambda r: out.print("Oppgaven er registrert som utført."))
