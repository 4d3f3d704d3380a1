"""``kenett intake ...``: intake's commands and queries for operators and scripts.

Readable output is bokmål (it is what a KE user reads); ``--json`` prints the reply as one JSON
object. The identity number is never taken as an argument (it would stay in shell history and
the process list): it is prompted for, hidden, or read from standard input.
"""

from __future__ import annotations

import base64
import sys
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shared.contracts import intake as c
from shared.ids import new_id
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
    out,
    page_footer,
    read_national_id,
    request,
    show,
)

app = typer.Typer(
    help="Intake: reports of need, eligibility, decisions, letters, appeals.", no_args_is_help=True
)


class Form(StrEnum):
    ORAL = "oral"
    WRITTEN = "written"


class Duration(StrEnum):
    WEEKS = "weeks"
    MONTHS = "months"
    YEAR_OR_MORE = "year_or_more"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"


class Kind(StrEnum):
    IP = "ip"
    COORDINATOR = "coordinator"


class Reason(StrEnum):
    MOVED = "moved"
    DIED = "died"
    NO_LONGER_NEEDED = "no_longer_needed"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    DECLINED = "declined"


class OfferKind(StrEnum):
    HABILITATION = "habilitation"
    REHABILITATION = "rehabilitation"


class Level(StrEnum):
    MUNICIPAL = "municipal"
    SPECIALIST = "specialist"


PROPOSAL = {
    "meets": "oppfyller vilkårene",
    "does_not_meet": "oppfyller ikke vilkårene",
    "unclear": "uklart, må vurderes nærmere",
}
NEED = {"ip": "individuell plan", "coordinator": "koordinator"}
REPORTER = {
    "person": "personen selv",
    "next_of_kin": "pårørende",
    "employee": "ansatt",
    "hospital": "sykehuset",
    "ke": "koordinerende enhet",
}
FORM_TEXT = {"oral": "muntlig", "written": "skriftlig"}
STATUS = {
    "received": "mottatt",
    "under_assessment": "under vurdering",
    "decided": "vedtak fattet",
    "active": "aktiv",
    "closed": "avsluttet",
}


@app.command()
def report(
    reporter: Annotated[c.ReporterKind, typer.Option(help="Who reports (R2).")],
    need: Annotated[list[c.Need], typer.Option(help="ip and/or coordinator.")],
    form: Annotated[Form, typer.Option(help="oral or written.")] = Form.ORAL,
    service: Annotated[list[str] | None, typer.Option(help="Service type code (repeat).")] = None,
    relation: Annotated[str | None, typer.Option(help="Next of kin: relation.")] = None,
    unit: Annotated[str | None, typer.Option(help="Employee: unit.")] = None,
    department: Annotated[str | None, typer.Option(help="Hospital: department.")] = None,
    expected_discharge: Annotated[str | None, typer.Option(help="Hospital: YYYY-MM-DD.")] = None,
    basis: Annotated[
        c.DisclosureBasis | None,
        typer.Option(
            help="Hospital: why it could pass the report on, as it said (consent, or "
            "no_objection: told, and did not object)."
        ),
    ] = None,
    for_org: Annotated[str | None, typer.Option("--for-org", help="Municipality served.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Register a report of need (R2); the number is asked for, hidden, or read from stdin."""
    command = c.ReportNeed(
        actor=actor(staff),
        request_id=new_id(),
        national_id=read_national_id(),
        reporter=c.Reporter(
            kind=reporter,
            relation=relation,
            unit=unit,
            department=department,
            expected_discharge=day(expected_discharge, "--expected-discharge"),
            basis=basis,
        ),
        needs=need,
        services=service or [],
        form=form,
        org=for_org,  # type: ignore[arg-type]
    )
    result = request(nats, org, "intake", command)

    def render(r: dict[str, Any]) -> None:
        verb = "lagt til den åpne saken" if r["attached_to_open_case"] else "registrert"
        out.print(f"Melding om behov {verb}: sak [bold]{r['case_ref']}[/] ({r['case_id']})")

    show(result, as_json, render)


@app.command()
def assess(
    case_id: CaseId,
    duration: Annotated[Duration, typer.Option(help="Expected duration of the need.")],
    service: Annotated[
        list[str] | None, typer.Option(help="Override the reported services.")
    ] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Propose whether the right to an individual plan is met (R1)."""
    result = request(
        nats,
        org,
        "intake",
        c.AssessEligibility(
            actor=actor(staff),
            case_id=case_id,
            services=service or None,
            expected_duration=duration,  # type: ignore[arg-type]
        ),
    )

    def render(r: dict[str, Any]) -> None:
        out.print(f"Forslag: [bold]{PROPOSAL[r['proposal']]}[/]")
        for reason in r["reasons"]:
            out.print(f"  • {reason}")
        for offer in r["offers"]:
            out.print(f"  Aktuelt tilbud: {offer['name']} ({offer['level']}): {offer['contact']}")

    show(result, as_json, render)


@app.command()
def decide(
    case_id: CaseId,
    kind: Annotated[Kind, typer.Option(help="ip (enkeltvedtak, R3) or coordinator (R4).")],
    granted: Annotated[bool, typer.Option("--grant/--refuse", help="Granted or refused.")],
    grounds_file: Annotated[
        Path | None, typer.Option(help="Begrunnelse from a file (else stdin, or $EDITOR).")
    ] = None,
    notified_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Record a decision: IP has an appeal deadline (R3), coordinator has none (R4)."""
    # Grounds are health-related text: never an argument (shell history, process list).
    if grounds_file:
        text = grounds_file.read_text(encoding="utf-8")
    elif not sys.stdin.isatty():
        text = sys.stdin.read()
    else:
        text = (
            typer.edit("\n# Skriv begrunnelsen over. Linjer som starter med # tas ikke med.\n")
            or ""
        )
        text = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    if not text.strip():
        raise typer.BadParameter("the grounds (begrunnelse) are empty", param_hint="grounds")
    result = request(
        nats,
        org,
        "intake",
        c.MakeDecision(
            actor=actor(staff),
            case_id=case_id,
            kind=kind,
            granted=granted,  # type: ignore[arg-type]
            grounds=text,
            notified_on=day(notified_on, "--notified-on"),
        ),
    )

    def render(r: dict[str, Any]) -> None:
        what = "Vedtak om individuell plan" if r["kind"] == "ip" else "Beslutning om koordinator"
        out.print(f"{what}: {'innvilget' if r['granted'] else 'avslått'} ({r['decision_id']})")
        if r["appeal_deadline"]:
            out.print(f"Klagefrist: {r['appeal_deadline']}")
        else:
            out.print("Kan ikke påklages (R4).")

    show(result, as_json, render)


@app.command()
def letter(
    decision_id: uuid.UUID,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the HTML here.")] = None,
    pdf_file: Annotated[Path | None, typer.Option("--pdf", help="Write a PDF here.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The decision letter (HTML, bokmål)."""
    result = request(
        nats,
        org,
        "intake",
        c.RenderLetter(actor=actor(staff), decision_id=decision_id, pdf=pdf_file is not None),
    )
    if out_file:
        out_file.write_text(result["html"], encoding="utf-8")
    if pdf_file:
        pdf_file.write_bytes(base64.b64decode(result.pop("pdf_base64")))

    def render(r: dict[str, Any]) -> None:
        if pdf_file:
            out.print(f"{r['title']}: PDF skrevet til {pdf_file}")
        if out_file:
            out.print(f"{r['title']}: skrevet til {out_file}")
        elif not pdf_file:
            sys.stdout.write(r["html"])

    show(result, as_json, render)


@app.command()
def appeal(
    decision_id: uuid.UUID,
    received_on: Annotated[str, typer.Option(help="YYYY-MM-DD the appeal came in.")],
    sent_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD it was posted, if known.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Register an appeal of an IP decision (R3)."""
    result = request(
        nats,
        org,
        "intake",
        c.RegisterAppeal(
            actor=actor(staff),
            decision_id=decision_id,
            received_on=day(received_on, "--received-on"),
            sent_on=day(sent_on, "--sent-on"),
        ),
    )

    def render(r: dict[str, Any]) -> None:
        timing = "innen fristen" if r["in_time"] else "etter fristen"
        out.print(f"Klage registrert {timing} (frist {r['deadline']}).")

    show(result, as_json, render)


def _transition(r: dict[str, Any]) -> None:
    out.print(f"Sak {r['case_ref']}: {STATUS[r['previous']]} → {STATUS[r['status']]}")


@app.command()
def activate(
    case_id: CaseId,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Services have started: decided → active."""
    show(
        request(nats, org, "intake", c.ActivateCase(actor=actor(staff), case_id=case_id)),
        as_json,
        _transition,
    )


@app.command()
def close(
    case_id: CaseId,
    reason: Annotated[Reason, typer.Option(help="Why the case closes.")],
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Close a case with its reason."""
    show(
        request(
            nats, org, "intake", c.CloseCase(actor=actor(staff), case_id=case_id, reason=reason)
        ),  # type: ignore[arg-type]
        as_json,
        _transition,
    )


@app.command()
def case(
    case_id: CaseId,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """A case: status, reports, assessments, decisions (the read is audited)."""

    def render(r: dict[str, Any]) -> None:
        out.print(
            f"Sak [bold]{r['case_ref']}[/] ({r['case_id']}): {STATUS[r['status']]}"
            + (f" ({r['closed_reason']})" if r["closed_reason"] else "")
        )
        needs = ", ".join(NEED.get(n, n) for n in r["needs"])
        out.print(f"  Alder {r['age']}, kommune {r['served_org']}, behov: {needs}")
        for rep in r["reports"]:
            who = REPORTER.get(rep["reporter_kind"], rep["reporter_kind"])
            where = rep.get("department") or rep.get("unit") or rep.get("relation")
            out.print(
                f"  Melding {rep['received_at'][:10]} fra {who}"
                + (f" ({where})" if where else "")
                + f", {FORM_TEXT.get(rep['form'], rep['form'])}, registrert av {rep['recorded_by']}"
                + (
                    f"; grunnlag: {c.BASIS_TEXT[rep['basis']]}"
                    if rep.get("basis")
                    else "; grunnlag ikke oppgitt"
                    if rep["reporter_kind"] == "hospital"
                    else ""
                )
            )
        for a in r["assessments"]:
            out.print(f"  Vurdering {a['assessed_at'][:10]}: {PROPOSAL[a['proposal']]}")
        for d in r["decisions"]:
            out.print(
                f"  {'Vedtak IP' if d['kind'] == 'ip' else 'Beslutning koordinator'} "
                f"{d['decided_at'][:10]}: {'innvilget' if d['granted'] else 'avslått'}"
                + (f", klagefrist {d['appeal_deadline']}" if d["appeal_deadline"] else "")
            )
            for a in r.get("appeals", []):
                if a["decision_id"] == d["decision_id"]:
                    out.print(
                        f"    Klage mottatt {a['received_on']}: "
                        + ("innen fristen" if a["in_time"] else "etter fristen")
                        + " (sendes Statsforvalteren)"
                    )

    show(
        request(nats, org, "intake", c.GetCaseDetail(actor=actor(staff), case_id=case_id)),
        as_json,
        render,
    )


@app.command()
def deadlines(
    limit: Annotated[int, typer.Option(help="Decisions per page (at most 500).")] = 200,
    offset: Annotated[int, typer.Option(help="Skip this many: the next page's offset.")] = 0,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Open appeal windows, soonest deadline first (R3)."""

    def render(r: dict[str, Any]) -> None:
        if not r["windows"]:
            out.print("Ingen åpne klagefrister.")
            return
        table = Table(title=f"Klagefrister ({r['total']})")
        for col in ("sak", "frist", "dager igjen"):
            table.add_column(col)
        for w in r["windows"]:
            table.add_row(w["case_ref"], w["deadline"], str(w["days_left"]))
        out.print(table)
        page_footer(r, offset, "windows")

    query = c.ListAppealDeadlines(actor=actor(staff), limit=limit, offset=offset)
    show(request(nats, org, "intake", query), as_json, render)


@app.command("offer-add")
def offer_add(
    name: Annotated[str, typer.Option()],
    kind: Annotated[OfferKind, typer.Option(help="habilitation or rehabilitation.")],
    level: Annotated[Level, typer.Option(help="municipal or specialist.")],
    provider: Annotated[str, typer.Option()],
    contact: Annotated[str, typer.Option(help="The service's contact point.")],
    service: Annotated[
        list[str] | None, typer.Option(help="Related service type (repeat).")
    ] = None,
    target_group: Annotated[str | None, typer.Option()] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Add an offer to the KE's overview (R18)."""
    result = request(
        nats,
        org,
        "intake",
        c.RegisterOffer(
            actor=actor(staff),
            name=name,
            kind=kind,
            level=level,  # type: ignore[arg-type]
            provider=provider,
            contact=contact,
            target_group=target_group,
            service_types=service or [],
        ),
    )
    show(result, as_json, lambda r: out.print(f"Tilbud registrert ({r['offer_id']})"))


@app.command()
def offers(
    kind: Annotated[OfferKind | None, typer.Option()] = None,
    level: Annotated[Level | None, typer.Option()] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The KE's overview of habilitation and rehabilitation offers (R18)."""

    def render(r: dict[str, Any]) -> None:
        table = Table(title="Habiliterings- og rehabiliteringstilbud")
        for col in ("tilbud", "type", "nivå", "tilbyder", "kontakt"):
            table.add_column(col)
        for o in r["offers"]:
            table.add_row(o["name"], o["kind"], o["level"], o["provider"], o["contact"])
        out.print(table)

    show(
        request(nats, org, "intake", c.ListOffers(actor=actor(staff), kind=kind, level=level)),
        as_json,
        render,
    )  # type: ignore[arg-type]


@app.command("service-types")
def service_types(
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The catalogue of service types, and which count towards R1."""

    def render(r: dict[str, Any]) -> None:
        table = Table(title="Tjenestetyper")
        for col in ("kode", "navn", "teller (R1)"):
            table.add_column(col)
        for s in r["service_types"]:
            table.add_row(s["code"], s["name"], "ja" if s["counts"] else "nei")
        out.print(table)

    show(request(nats, org, "intake", c.ListServiceTypes(actor=actor(staff))), as_json, render)


@app.command()
def waiting(
    since: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Time from report to decision: per case, median and 90th percentile."""

    def render(r: dict[str, Any]) -> None:
        if not r["count"]:
            out.print(f"Ingen saker fikk vedtak i perioden {r['since']}–{r['until']}.")
            return
        out.print(
            f"Saksbehandlingstid {r['since']}–{r['until']}: {r['count']} saker, "
            f"median {r['median_days']} dager, 90-persentil {r['p90_days']} dager"
        )

    show(
        request(
            nats,
            org,
            "intake",
            c.WaitingTimes(
                actor=actor(staff),
                since=day(since, "--since"),
                until=day(until, "--until"),
            ),
        ),
        as_json,
        render,
    )


class CaseStatusOpt(StrEnum):
    RECEIVED = "received"
    UNDER_ASSESSMENT = "under_assessment"
    DECIDED = "decided"
    ACTIVE = "active"
    CLOSED = "closed"


@app.command()
def overview(
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The KE's overview: how many cases are in each status (counts only)."""

    def render(r: dict[str, Any]) -> None:
        table = Table(title="Saker etter status")
        table.add_column("status")
        table.add_column("saker", justify="right")
        for s in r["by_status"]:
            table.add_row(STATUS[s["status"]], str(s["cases"]))
        table.add_section()
        table.add_row("i alt", str(r["total"]))
        out.print(table)

    show(request(nats, org, "intake", c.CountCases(actor=actor(staff))), as_json, render)


@app.command()
def cases(
    status: Annotated[
        list[CaseStatusOpt] | None, typer.Option(help="Only cases in this status (repeat).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Cases per page (1-500).")] = 50,
    after: Annotated[str | None, typer.Option(help="The `next` cursor of the page before.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The cases in a status, longest waiting first, a page at a time (the read is audited)."""

    def render(r: dict[str, Any]) -> None:
        table = Table(title=f"Saker ({r['total']} treff)")
        for col in ("sak", "status", "kommune", "behov", "mottatt"):
            table.add_column(col)
        for row in r["cases"]:
            table.add_row(
                row["case_ref"],
                STATUS[row["status"]],
                row["served_org"],
                ", ".join(row["needs"]),
                row["received_at"][:10],
            )
        out.print(table)
        if r["next"]:
            out.print(f"Neste side: --after '{r['next']}'")

    query = c.ListCases(
        actor=actor(staff),
        status=[s.value for s in status] if status else None,
        limit=limit,
        after=after,
    )
    show(request(nats, org, "intake", query), as_json, render)
