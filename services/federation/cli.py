"""``kenett federation ...``: send to linked organisations and follow what happened.

Readable output is bokmål; ``--json`` prints the reply as one JSON object. The identity number
is never an argument: it is asked for (hidden) or read from standard input.

``config`` and ``up`` (the topology: hub, leaf nodes, keys) are added by the kernel's CLI,
since they run no service (shared/runtime/federation_cli.py).
"""

from __future__ import annotations

import sys
import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from shared.contracts import federation as c
from shared.contracts.intake import Need
from shared.runtime.clitools import (
    DEFAULT_NATS,
    DEFAULT_ORG,
    ActorOpt,
    JsonOpt,
    NatsOpt,
    OrgOpt,
    actor,
    day,
    out,
    request,
    show,
)

from .domain import STATUS_TEXT

app = typer.Typer(
    help="Linked organisations: report a need, hand over coordination, follow receipts.",
    no_args_is_help=True,
)

ROLE = {"hospital_coordinator": "koordinator i sykehuset", "coordinator": "koordinator"}


def _national_id() -> str:
    if sys.stdin.isatty():
        return str(typer.prompt("Fødselsnummer eller D-nummer", hide_input=True))
    return sys.stdin.readline().strip()


def _status(m: dict[str, Any]) -> str:
    text = STATUS_TEXT.get(m["status"], m["status"])
    if m.get("reason"):
        text += f": {m['reason']}"
    if m.get("reference"):
        text += f" (ref. {m['reference']})"
    if m.get("answer"):
        text += "; svar: " + ("godtatt" if m["answer"] == "accepted" else "avslått")
        if m.get("answer_reason"):
            text += f" ({m['answer_reason']})"
    return text


@app.command("report-need")
def report_need(
    to: Annotated[str, typer.Option(help="The person's home municipality (organisation code).")],
    need: Annotated[list[Need], typer.Option(help="ip and/or coordinator.")],
    department: Annotated[str, typer.Option(help="The department with daily responsibility.")],
    expected_discharge: Annotated[
        str | None, typer.Option(help="Expected discharge date, YYYY-MM-DD.")
    ] = None,
    service: Annotated[
        list[str] | None, typer.Option(help="Service types the person receives or needs.")
    ] = None,
    hospital_coordinator: Annotated[
        str | None, typer.Option(help="Staff id of the hospital coordinator, if appointed.")
    ] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Report a need for IP/coordinator for an inpatient to the home municipality (R17)."""
    result = request(
        nats,
        org,
        "federation",
        c.SendNeedReport(
            actor=actor(staff),
            to=to,
            national_id=_national_id(),
            needs=need,
            department=department,
            expected_discharge=day(expected_discharge, "--expected-discharge"),
            services=service or [],
            hospital_coordinator=hospital_coordinator,
        ),
    )
    show(
        result,
        as_json,
        lambda r: out.print(
            f"Melding om behov sendt til {r['to']}: lenke {r['link_id']} "
            f"(melding {r['message_id']}). Kvittering vises med `kenett federation link`."
        ),
    )


@app.command("propose-handover")
def propose_handover(
    link_id: Annotated[uuid.UUID, typer.Argument(help="The case link.")],
    coordinator: Annotated[str, typer.Option(help="Your coordinator's staff id.")],
    start: Annotated[str, typer.Option(help="When the other party takes over, YYYY-MM-DD.")],
    overlap_days: Annotated[int, typer.Option(help="Days both are listed.")] = 7,
    to: Annotated[str | None, typer.Option(help="Needed if the link has several parties.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Propose that the other organisation takes over coordination (at discharge)."""
    start_day = day(start, "--start")
    assert start_day is not None
    result = request(
        nats,
        org,
        "federation",
        c.ProposeHandover(
            actor=actor(staff),
            link_id=link_id,
            to=to,
            coordinator=coordinator,
            start=start_day,
            overlap_days=overlap_days,
        ),
    )
    show(
        result,
        as_json,
        lambda r: out.print(
            f"Forslag om overføring sendt til {r['to']} (melding {r['message_id']})."
        ),
    )


@app.command("answer-handover")
def answer_handover(
    proposal_id: Annotated[uuid.UUID, typer.Argument(help="The proposal (a received message).")],
    accept: Annotated[bool, typer.Option("--accept/--refuse", help="Accept or refuse.")],
    coordinator_id: Annotated[
        uuid.UUID | None, typer.Option(help="Who takes over, if the case has no coordinator yet.")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why not (required to refuse).")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Accept or refuse a proposed handover of coordination."""
    result = request(
        nats,
        org,
        "federation",
        c.AnswerHandover(
            actor=actor(staff),
            proposal_id=proposal_id,
            accept=accept,
            coordinator_id=coordinator_id,
            reason=reason,
        ),
    )

    def render(r: dict[str, Any]) -> None:
        if r["accepted"]:
            out.print(f"Overføring godtatt: {r['coordinator']} tar over. Svar sendt.")
        else:
            out.print("Overføring avslått. Svar med begrunnelse sendt.")

    show(result, as_json, render)


@app.command()
def links(
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """This organisation's case links."""
    result = request(nats, org, "federation", c.ListLinks(actor=actor(staff)))

    def render(r: dict[str, Any]) -> None:
        table = Table(title="Saker delt med andre virksomheter")
        for col in ("lenke", "sak her", "parter", "referanser", "opprettet"):
            table.add_column(col)
        for link in r["links"]:
            refs = ", ".join(f"{k}: {v}" for k, v in link["references"].items())
            table.add_row(
                link["link_id"],
                link["case_ref"] or "–",
                ", ".join(link["parties"]),
                refs or "–",
                link["created_at"][:16],
            )
        out.print(table)

    show(result, as_json, render)


@app.command()
def link(
    link_id: Annotated[uuid.UUID, typer.Argument(help="The case link.")],
    on: Annotated[str | None, typer.Option(help="Coordinators listed on this day.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """One case link: parties, coordinators (both during an overlap), messages and receipts."""
    result = request(
        nats, org, "federation", c.GetLink(actor=actor(staff), link_id=link_id, on=day(on, "--on"))
    )

    def render(r: dict[str, Any]) -> None:
        out.print(f"Lenke {r['link_id']}  parter: {', '.join(r['parties'])}")
        if r["case_ref"]:
            out.print(f"Sak her: {r['case_ref']}")
        for org_code, ref in r["references"].items():
            out.print(f"Sak hos {org_code}: {ref}")
        if r["coordinators"]:
            out.print("Koordinatorer:")
            for k in r["coordinators"]:
                period = f"{k['since'] or '…'} – {k['until'] or ''}"
                mark = "●" if k["active"] else "○"
                role = ROLE.get(k["role"], k["role"])
                out.print(f"  {mark} {k['org']}: {k['staff_id']} ({role}) {period}")
        table = Table(title="Meldinger")
        for col in ("tid", "retning", "virksomhet", "melding", "status"):
            table.add_column(col)
        for m in r["messages"]:
            table.add_row(
                m["at"][:16],
                "ut" if m["direction"] == "out" else "inn",
                m["org"],
                m["title"],
                _status(m),
            )
        out.print(table)

    show(result, as_json, render)


@app.command()
def messages(
    direction: Annotated[str | None, typer.Option(help="out or in.")] = None,
    status: Annotated[str | None, typer.Option(help="e.g. sent (no receipt yet), pending.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Messages in and out, e.g. `--status pending` for proposals waiting for your answer."""
    if direction not in (None, "out", "in"):
        raise typer.BadParameter("out or in", param_hint="--direction")
    result = request(
        nats,
        org,
        "federation",
        c.ListMessages(actor=actor(staff), direction=direction, status=status),
    )  # type: ignore[arg-type]

    def render(r: dict[str, Any]) -> None:
        table = Table(title="Meldinger til og fra andre virksomheter")
        for col in ("melding", "tid", "retning", "virksomhet", "type", "status"):
            table.add_column(col)
        for m in r["messages"]:
            table.add_row(
                m["message_id"],
                m["at"][:16],
                "ut" if m["direction"] == "out" else "inn",
                m["org"],
                m["title"],
                _status(m),
            )
        out.print(table)

    show(result, as_json, render)


@app.command()
def directory(
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The organisations this instance is linked with."""
    result = request(nats, org, "federation", c.GetDirectory(actor=actor(staff)))

    def render(r: dict[str, Any]) -> None:
        if not r["federated"]:
            out.print("Denne instansen er ikke koblet til andre virksomheter.")
            return
        for e in r["entries"]:
            me = " (denne)" if e["me"] else ""
            kind = "sykehus" if e["kind"] == "hospital" else "kommune"
            out.print(f"{e['code']}: {e['name']}, {kind}{me}")

    show(result, as_json, render)


@app.command()
def sweep(
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Tell the KE now of messages without a receipt in time (the service does this itself)."""
    result = request(nats, org, "federation", c.SweepFederation(actor=actor(staff)))
    show(result, as_json, lambda r: out.print(f"Meldinger uten kvittering i tide: {r['overdue']}"))
