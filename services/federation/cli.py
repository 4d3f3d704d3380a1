"""``kenett federation ...``: send to linked organisations and follow what happened.

Readable output is bokmål; ``--json`` prints the reply as one JSON object. The identity number
is never an argument: it is asked for (hidden) or read from standard input.

``config`` and ``up`` (the topology: hub, leaf nodes, keys) are added by the kernel's CLI,
since they run no service (shared/runtime/federation_cli.py).
"""

from __future__ import annotations

import tomllib
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shared.config import Durability
from shared.contracts import federation as c
from shared.contracts.intake import BASIS_TEXT, DisclosureBasis, Need
from shared.contracts.planning import MeasureStatus
from shared.federation.topology import OrgSpec, Topology
from shared.runtime.clitools import (
    DEFAULT_NATS,
    DEFAULT_ORG,
    ActorOpt,
    CaseId,
    JsonOpt,
    NatsOpt,
    OrgOpt,
    actor,
    coordinator_ref,
    day,
    err,
    local_time,
    out,
    page_footer,
    read_national_id,
    request,
    show,
)

from .domain import STATUS_TEXT

app = typer.Typer(
    help="Linked organisations: report a need, hand over coordination, follow receipts.",
    no_args_is_help=True,
)

ROLE = {"hospital_coordinator": "koordinator i sykehuset", "coordinator": "koordinator"}


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
    basis: Annotated[
        DisclosureBasis,
        typer.Option(
            help="Why it may be passed on: consent (the patient consented) or no_objection "
            "(the patient was told and did not object, hpl. § 45). If the patient objects, "
            "do not send."
        ),
    ],
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
            national_id=read_national_id(),
            needs=need,
            department=department,
            expected_discharge=day(expected_discharge, "--expected-discharge"),
            services=service or [],
            hospital_coordinator=hospital_coordinator,
            basis=basis,
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
    coordinator: Annotated[
        str | None,
        typer.Option(
            help="Who takes over, if the case has no coordinator yet: staff id or coordinator id."
        ),
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
            coordinator_id=coordinator_ref(coordinator, "--coordinator", nats, org, staff),
            reason=reason,
        ),
    )

    def render(r: dict[str, Any]) -> None:
        if r["accepted"]:
            out.print(f"Overføring godtatt: {r['coordinator']} tar over. Svar sendt.")
        else:
            out.print("Overføring avslått. Svar med begrunnelse sendt.")

    show(result, as_json, render)


@app.command("shared-plan")
def shared_plan(
    link_id: Annotated[uuid.UUID, typer.Argument(help="The case link.")],
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """What another organisation shared here: your measures in its plan, or a moved case's plan."""
    result = request(nats, org, "federation", c.GetSharedPlan(actor=actor(staff), link_id=link_id))

    def render(r: dict[str, Any]) -> None:
        if r["kind"] is None:
            out.print(
                "Ingenting er delt med dere på denne lenken (eller delingen er trukket tilbake)."
            )
            return
        out.print(f"Fra {r['from_org']} (sak {r['case_ref']}, planversjon {r['plan_version']})")
        if r["kind"] == "measures":
            table = Table(title="Tiltak dere har ansvar for")
            for col in ("id", "tiltak", "omfang", "start", "frist", "status"):
                table.add_column(col)
            for m in r["measures"]:
                table.add_row(
                    m["id"],
                    m["title"],
                    m["scope"],
                    m["start"] or "",
                    m["deadline"] or "",
                    m["status"],
                )
            out.print(table)
        else:
            plan = r["plan"] or {}
            out.print(
                f"Overført plan: {len(plan.get('goals', []))} mål, "
                f"{len(plan.get('measures', []))} tiltak"
            )
            if r["withheld"]:
                out.print("Ikke delt (samtykket dekker det ikke): " + ", ".join(r["withheld"]))

    show(result, as_json, render)


@app.command("update-measure")
def update_measure(
    link_id: Annotated[uuid.UUID, typer.Argument(help="The case link.")],
    measure_id: Annotated[str, typer.Argument(help="The measure, e.g. M1.")],
    status: Annotated[MeasureStatus, typer.Option(help="planned, ongoing, done or stopped.")],
    note: Annotated[str | None, typer.Option(help="A short note for the version history.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Report the status of a measure you are responsible for back to the plan's owner (R16)."""
    result = request(
        nats,
        org,
        "federation",
        c.UpdateMeasure(
            actor=actor(staff), link_id=link_id, measure_id=measure_id, status=status, note=note
        ),
    )
    show(
        result,
        as_json,
        lambda r: out.print(
            f"Status sendt til {r['to']} (melding {r['message_id']}); "
            "kvittering i `kenett federation link`."
        ),
    )


@app.command()
def transfer(
    case_id: CaseId,
    to: Annotated[str, typer.Option(help="The new home municipality (organisation code).")],
    moving_on: Annotated[str | None, typer.Option(help="Moving date, YYYY-MM-DD.")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The person moves: send the case and the consented part of the plan; the case here closes
    ("moved") when the new municipality confirms."""
    result = request(
        nats,
        org,
        "federation",
        c.TransferCase(
            actor=actor(staff), case_id=case_id, to=to, moving_on=day(moving_on, "--moving-on")
        ),
    )
    show(
        result,
        as_json,
        lambda r: out.print(
            f"Saken er sendt til {r['to']} (lenke {r['link_id']}). Den avsluttes her når {r['to']} "
            "har bekreftet."
        ),
    )


@app.command()
def links(
    limit: Annotated[int, typer.Option(help="Links per page (at most 500).")] = 200,
    offset: Annotated[int, typer.Option(help="Skip this many: the next page's offset.")] = 0,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """This organisation's case links."""
    query = c.ListLinks(actor=actor(staff), limit=limit, offset=offset)
    result = request(nats, org, "federation", query)

    def render(r: dict[str, Any]) -> None:
        table = Table(title=f"Saker delt med andre virksomheter ({r['total']})")
        for col in ("lenke", "sak her", "parter", "referanser", "opprettet"):
            table.add_column(col)
        for link in r["links"]:
            refs = ", ".join(f"{k}: {v}" for k, v in link["references"].items())
            table.add_row(
                link["link_id"],
                link["case_ref"] or "–",
                ", ".join(link["parties"]),
                refs or "–",
                local_time(link["created_at"]),
            )
        out.print(table)
        page_footer(r, offset, "links")

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
                local_time(m["at"]),
                "ut" if m["direction"] == "out" else "inn",
                m["org"],
                m["title"] + (f" (grunnlag: {BASIS_TEXT[m['basis']]})" if m.get("basis") else ""),
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
                local_time(m["at"]),
                "ut" if m["direction"] == "out" else "inn",
                m["org"],
                m["title"] + (f" (grunnlag: {BASIS_TEXT[m['basis']]})" if m.get("basis") else ""),
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

    def render(r: dict[str, Any]) -> None:
        out.print(f"Meldinger uten kvittering i tide: {r['overdue']}")
        out.print(f"Saker avsluttet fordi personen har flyttet: {r['moved_cases_closed']}")

    show(result, as_json, render)


# --- the topology: configuration and a local federation --------------------------------------


def _org_spec(value: str) -> OrgSpec:
    code, _, rest = value.partition(":")
    kind, _, name = rest.partition(":")
    if kind not in ("municipality", "hospital"):
        raise ValueError(f"--org {value!r}: use CODE:KIND[:NAME], KIND municipality or hospital")
    return OrgSpec(code, kind, name or code)  # type: ignore[arg-type]


@app.command()
def config(
    org: Annotated[
        list[str] | None,
        typer.Option(help="CODE:KIND[:NAME], e.g. lund:municipality:'Lund kommune'; repeat."),
    ] = None,
    file: Annotated[
        Path | None, typer.Option(help="A TOML file with [[org]] code, kind, name tables.")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write.")] = Path(
        "deploy/federation/generated"
    ),
    hub_url: Annotated[
        str, typer.Option(help="How leaf servers reach the hub's leaf-node port.")
    ] = "nats-leaf://hub:7422",
    hub_port: Annotated[int, typer.Option(help="The hub's client port.")] = 4222,
    hub_leaf_port: Annotated[int, typer.Option(help="The hub's leaf-node port.")] = 7422,
    store_dir: Annotated[
        str, typer.Option(help="A leaf's JetStream directory ({org} is replaced).")
    ] = "/data",
    durability: Annotated[
        Durability,
        typer.Option(
            help="power (the default): each leaf syncs every stored message to disk before it "
            "acknowledges it (sync_interval: always), so a power cut loses nothing acknowledged; "
            "crash: nats-server's default, synced every two minutes (faster).",
        ),
    ] = Durability.POWER,
) -> None:
    """Write the hub's configuration (one account per organisation) and, per organisation, its
    leaf-node configuration and federation file with a new key, into --out."""
    try:
        specs = [_org_spec(v) for v in org or []]
    except ValueError as exc:
        err.print(f"[red]cannot write the federation[/]: {exc}")
        raise typer.Exit(2) from None
    if file is not None:
        try:
            data = tomllib.loads(file.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise typer.BadParameter(f"{file}: {exc}", param_hint="--file") from None
        for n, entry in enumerate(data.get("org", [])):
            try:
                specs.append(
                    OrgSpec(entry["code"], entry["kind"], entry.get("name", entry["code"]))
                )
            except KeyError as exc:
                raise typer.BadParameter(
                    f"{file}: org {n + 1} has no {exc}", param_hint="--file"
                ) from None
    try:
        topology = Topology(
            orgs=specs,
            hub_url=hub_url,
            hub_port=hub_port,
            hub_leaf_port=hub_leaf_port,
            store_dir=store_dir,
            sync_always=durability is Durability.POWER,
        )
        written = topology.write(out_dir)
    except ValueError as exc:
        err.print(f"[red]cannot write the federation[/]: {exc}")
        raise typer.Exit(2) from None
    for path in written:
        secret = path.name in ("nats-leaf.conf", "federation.json")
        out.print(f"{path}" + ("  (hemmelig: organisasjonens nøkkel, mode 0600)" if secret else ""))
    out.print(
        f"Hub: nats-server -c {out_dir / 'hub.conf'}; per organisasjon: nats-server -c "
        f"{out_dir}/<org>/nats-leaf.conf, og kenett med KENETT_FEDERATION_FILE="
        f"{out_dir}/<org>/federation.json."
    )


@app.command()
def up(
    root: Annotated[Path, typer.Option(help="Where the federation keeps its data.")] = Path(
        "var/federation"
    ),
    demo: Annotated[bool, typer.Option(help="Run the four flows once it is up.")] = False,
    exit_after: Annotated[
        bool, typer.Option("--exit", help="Stop after the demo instead of running on.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """A hub, a hospital and two municipalities on this machine (loopback), each with its own
    nats-server (a leaf node in its own JetStream domain), services and SQLite databases.
    Ctrl-C stops everything. Each start is a fresh federation under --root."""
    import asyncio
    import json
    import shutil
    import signal

    from shared.runtime.federation import DEMO_ORGS, LocalFederation, OrgProcess

    if root.exists():
        shutil.rmtree(root)
    servers = LocalFederation(root.resolve(), DEMO_ORGS)
    procs: list[OrgProcess] = []
    stopping = {"now": False}

    def on_signal(*_: object) -> None:
        stopping["now"] = True
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        servers.start()
        asyncio.run(servers.prepare_streams())
        for spec in servers.orgs:
            proc = OrgProcess(
                servers,
                spec,
                ["intake", "consent", "assignment", "planning", "notifications", "federation"],
            )
            proc.env["KENETT_AUTO_APPOINT"] = "1"
            procs.append(proc.start())
        # Lines, not a table: a URL or a path cut or folded at the terminal's edge cannot be
        # copied, and these are there to be copied.
        shown = out if not as_json else err
        shown.print(f"[bold]kenett federation[/] ({root})", soft_wrap=True)
        shown.print(f"  hub: {servers.hub.url}", soft_wrap=True, highlight=False)
        shown.print(f"       logg: {root / 'hub' / 'nats-server.log'}", soft_wrap=True)
        for proc in procs:
            kind = "sykehus" if proc.org.kind == "hospital" else "kommune"
            shown.print(
                f"  {proc.org.code} ({proc.org.name}, {kind}): {servers.leaf_url(proc.org.code)}",
                soft_wrap=True,
                highlight=False,
            )
            shown.print(f"       logg: {proc.log}", soft_wrap=True)
        hospital, home, new_home = (o.code for o in servers.orgs)
        (out if not as_json else err).print(
            f"Prøv: kenett federation links --org {home} --nats {servers.leaf_url(home)}"
        )
        if demo:
            from .demo import run_flows

            say = (lambda line: err.print(line)) if as_json else (lambda line: out.print(line))
            result = asyncio.run(
                run_flows(
                    {o.code: servers.leaf_url(o.code) for o in servers.orgs},
                    hospital,
                    home,
                    new_home,
                    say,
                )
            )
            if as_json:
                print(json.dumps(result.__dict__))
        if exit_after:
            return
        err.print("Ctrl-C stopper alt.")
        signal.pause()
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        err.print(f"[red]federation up failed[/]: {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None
    finally:
        for proc in procs:
            proc.stop()
        servers.stop()
        signal.signal(signal.SIGTERM, previous)
        err.print("kenett federation stopped.")
