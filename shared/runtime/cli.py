"""The ``kenett`` command: run modes (up, run), plugins, demo, dead letters, streams."""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from shared.config import Durability, Settings
from shared.contracts.audit import ANY_SERVICE_TEXT, action_text
from shared.contracts.intake import BASIS_TEXT
from shared.contracts.status import InstanceStatus
from shared.logging import configure_logging
from shared.natsconn import connect_once
from shared.plugins import PluginError, discover, select
from shared.runtime import nb
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
    local_time,
    show,
    with_client,
)
from shared.runtime.loop import loop_in_use
from shared.runtime.loop import run as run_loop
from shared.runtime.natsserver import NatsServer, NatsServerError

app = typer.Typer(
    name="kenett",
    help="kenett: koordinerende enhet, individuell plan and koordinator, on NATS.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)


def _settings(**overrides: object) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        for e in exc.errors(include_input=False):
            field = ".".join(str(p) for p in e["loc"])
            err.print(f"[red]configuration error[/]: KENETT_{field.upper()}: {e['msg']}")
        raise typer.Exit(2) from None


async def _serve(settings: Settings, names: list[str] | None) -> None:
    """Run until SIGINT/SIGTERM. A signal while starting (e.g. NATS or the database not there
    yet) cancels the start; a second signal while stopping cancels the graceful stop."""
    from shared.runtime.host import ServiceHost

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    state = {"started": False, "signals": 0}

    def on_signal() -> None:
        state["signals"] += 1
        if state["started"] and state["signals"] == 1:
            stop.set()
        else:
            main.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    host = ServiceHost(settings, select(names))
    try:
        await host.start()
        state["started"] = True
        await stop.wait()
    except asyncio.CancelledError:
        err.print("interrupted")
    finally:
        state["started"] = False
        try:
            await host.stop()
        except asyncio.CancelledError:
            err.print("stop interrupted")


@app.command()
def up(
    nats_port: Annotated[int | None, typer.Option(help="Port of the embedded nats-server.")] = None,
    var_dir: Annotated[
        Path | None, typer.Option(help="Where data is kept (default ./var).")
    ] = None,
    org: Annotated[str | None, typer.Option(help="This instance's organisation.")] = None,
    durability: Annotated[
        Durability | None,
        typer.Option(
            help="crash (default): what is acked survives a crash of kenett or nats-server; "
            "power: also a power cut (every commit and stored message synced to disk; slower).",
        ),
    ] = None,
) -> None:
    """All-in-one: an embedded nats-server and every service in this process, data under ./var."""
    settings = _settings(nats_port=nats_port, var_dir=var_dir, org=org, durability=durability)
    configure_logging(settings.log_format, settings.log_level)
    var = settings.var_dir.resolve()
    server = NatsServer(
        var / "nats",
        port=settings.nats_port,
        log_file=var / "nats-server.log",
        sync_always=settings.durability == "power",
    )
    try:
        server.start()
    except NatsServerError as exc:
        err.print(f"[red]cannot start nats-server[/]: {exc}")
        raise typer.Exit(2) from None
    settings = settings.model_copy(update={"nats_url": server.url})
    err.print(
        f"kenett all-in-one: org={settings.org} nats={server.url} data={var} "
        f"durability={settings.durability} loop={loop_in_use(settings.event_loop)}"
    )
    err.print("Ctrl-C stops everything.")
    try:
        run_loop(_serve(settings, None), settings.event_loop)
    except PluginError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    finally:
        server.stop()
    err.print("kenett stopped.")


@app.command()
def run(
    services: Annotated[list[str], typer.Argument(help="Services to run in this process.")],
) -> None:
    """Distributed mode: the named services against KENETT_NATS_URL and KENETT_DATABASE_URL."""
    settings = _settings()
    configure_logging(settings.log_format, settings.log_level)
    if not settings.nats_url:
        err.print("[red]KENETT_NATS_URL is not set[/] (distributed mode needs an existing NATS)")
        raise typer.Exit(2)
    try:
        select(services)
        run_loop(_serve(settings, services), settings.event_loop)
    except PluginError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None


@app.command()
def plugins(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the installed plugins: services (entry point group kenett.services) and
    notification channels (kenett.channels)."""
    from shared.channels import ChannelPluginError, discover_channels

    try:
        found = discover()
        channels = discover_channels()
    except (PluginError, ChannelPluginError) as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    rows = [
        ("service", name, p.plugin.description, p.entry_point, p.distribution, p.version)
        for name, p in found.items()
    ]
    rows += [
        ("channel", name, c.plugin.description, c.entry_point, c.distribution, c.version)
        for name, c in channels.items()
    ]
    if as_json:
        import json

        for kind, name, _, entry_point, distribution, version in rows:
            print(
                json.dumps(
                    {
                        "kind": kind,
                        "name": name,
                        "entry_point": entry_point,
                        "distribution": distribution,
                        "version": version,
                    }
                )
            )
        return
    table = Table(title="kenett plugins")
    for col in ("kind", "name", "description", "entry point", "distribution"):
        table.add_column(col)
    for kind, name, description, entry_point, distribution, version in rows:
        table.add_row(kind, name, description, entry_point, f"{distribution} {version}")
    out.print(table)


@app.command()
def demo(
    as_json: Annotated[
        bool, typer.Option("--json", help="Last line of stdout: one JSON object.")
    ] = False,
    nats_url: Annotated[str | None, typer.Option("--nats", help="A running kenett's NATS.")] = None,
    org: Annotated[str | None, typer.Option(help="Organisation.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the flow.")] = 30.0,
) -> None:
    """One synthetic case through all services; starts (and stops) its own system without --nats."""
    from shared.runtime.demo import DemoResult, run_demo

    settings = _settings(org=org, log_level="WARNING")
    configure_logging(settings.log_format, "WARNING")

    async def against_own_system() -> DemoResult:
        from shared.runtime.host import ServiceHost

        with tempfile.TemporaryDirectory(prefix="kenett-demo-") as tmp:
            server = NatsServer(Path(tmp) / "nats").start()
            try:
                own = settings.model_copy(
                    update={"nats_url": server.url, "var_dir": Path(tmp), "database_url": ""}
                )
                async with ServiceHost(own, select(None)):
                    return await run_demo(server.url, settings.org, timeout)
            finally:
                server.stop()

    try:
        if nats_url:
            result = asyncio.run(run_demo(nats_url, settings.org, timeout))
        else:
            result = asyncio.run(against_own_system())
    except Exception as exc:
        err.print(f"[red]demo failed[/]: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        print(result.as_json())
    else:
        for key, value in result.__dict__.items():
            out.print(f"{key:>16}: {value}")


@app.command()
def dlq(
    nats_url: Annotated[
        str | None, typer.Option("--nats", help="NATS URL (else KENETT_NATS_URL).")
    ] = None,
    org: Annotated[str | None, typer.Option(help="Only this organisation.")] = None,
    resend: Annotated[
        int | None,
        typer.Option(
            "--resend",
            metavar="SEQ",
            help="Send the dead letter with this sequence number again (an event goes back "
            "to its consumers; a notification back to its channel), then remove it.",
        ),
    ] = None,
) -> None:
    """List dead-lettered messages with their reasons, or send one again."""
    from shared.bus.deadletter import read_dead_letters, resend_dead_letter
    from shared.contracts.envelope import Actor
    from shared.runtime.clitools import default_actor

    settings = _settings()
    url = nats_url or settings.nats_url or f"nats://127.0.0.1:{settings.nats_port}"
    if resend is not None:

        async def again() -> str:
            nc = await connect_once(url, "kenett-cli")
            try:
                return await resend_dead_letter(nc, resend, Actor(kind="user", id=default_actor()))
            finally:
                await nc.close()

        try:
            what = asyncio.run(again())
        except Exception as exc:
            err.print(f"[red]dead letter {resend} was not sent again[/]: {exc}")
            raise typer.Exit(1) from None
        out.print(f"dead letter {resend}: {what}")
        return

    async def read() -> list[object]:
        nc = await connect_once(url, "kenett-cli")
        try:
            return list(await read_dead_letters(nc.jetstream(), org))
        finally:
            await nc.close()

    try:
        letters = asyncio.run(read())
    except Exception as exc:
        err.print(f"[red]cannot read the dead-letter stream at {url}[/]: {exc}")
        raise typer.Exit(2) from None
    table = Table(title=f"dead letters ({len(letters)})")
    for col in ("seq", "consumer", "subject", "deliveries", "at", "reason"):
        table.add_column(col)
    for d in letters:
        table.add_row(str(d.seq), d.consumer, d.subject, str(d.deliveries), d.at, d.reason)  # type: ignore[attr-defined]
    out.print(table)


_DURABILITY_TEXT = {
    "crash": "krasj",
    "power": "strømbrudd",
    "postgresql": "som PostgreSQL",
}
"""What an acknowledged commit survives (``InstanceStatus.durability``), for the table."""


def _durability_text(instance: InstanceStatus) -> str:
    text = _DURABILITY_TEXT.get(instance.durability, instance.durability)
    if instance.synchronous_commit is not None:
        text += f" (synchronous_commit={instance.synchronous_commit})"
    return text


@app.command()
def status(
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    service: Annotated[
        list[str] | None,
        typer.Option(
            "--service", help="Expect this service to run (repeat; default: every installed one)."
        ),
    ] = None,
    here: Annotated[
        bool,
        typer.Option(
            "--here",
            help="Only the processes on this machine, and not the streams: a container's "
            "health check.",
        ),
    ] = False,
    wait: Annotated[
        float, typer.Option(help="Seconds to gather the processes' answers.", min=0.1, max=30)
    ] = 1.0,
    stuck_after: Annotated[
        float, typer.Option(help="An event unpublished this many seconds is a problem.", min=1)
    ] = 60.0,
    as_json: JsonOpt = False,
) -> None:
    """Which processes run which services, whether each reaches its database and publishes its
    events, how far the event consumers are behind, and how many dead letters wait. Exit 0 when
    every expected service runs and is well, 1 when not, 2 without NATS."""
    import socket

    from shared.bus.deadletter import describe_error
    from shared.client import KenettClient

    installed = sorted(discover())
    expected = service or installed
    unknown = sorted(set(expected) - set(installed))
    if unknown:
        raise typer.BadParameter(
            f"not an installed service: {', '.join(unknown)} (installed: {', '.join(installed)})",
            param_hint="--service",
        )

    async def gather() -> dict[str, Any]:
        nc = await connect_once(nats, "kenett-cli-status")
        try:
            mine = socket.gethostname() if here else None
            instances = await KenettClient(nc, org).status(wait=wait, host=mine)
            streams = None if here else await _stream_state(nc.jetstream(), org)
        finally:
            await nc.close()
        if here:
            host = socket.gethostname()
            instances = [i for i in instances if i.host == host]
        return {"instances": [i.model_dump(mode="json") for i in instances], "streams": streams}

    try:
        found = asyncio.run(gather())
    except Exception as exc:
        err.print(f"[red]cannot ask the processes at {nats}[/]: {describe_error(exc)}")
        raise typer.Exit(2) from None
    instances = [InstanceStatus.model_validate(i) for i in found["instances"]]
    problems = [p for i in instances for p in i.problems(stuck_after)]
    running = {s.name for i in instances for s in i.services}
    problems += [
        f"{name}: no process answered" + (" on this machine" if here else "")
        for name in expected
        if name not in running
    ]
    result = {**found, "expected": expected, "problems": problems, "ok": not problems}

    def render(r: dict[str, Any]) -> None:
        table = Table(title=f"Prosesser ({org}, {len(instances)})")
        for col in (
            "Prosess",
            "Versjon",
            "Startet",
            "Tåler",
            "Tjeneste",
            "Database",
            "Usendte hendelser",
            "Konsumenter",
        ):
            table.add_column(col)
        for i in instances:
            for n, s in enumerate(i.services):
                backlog = "–"
                if s.outbox_backlog is not None:
                    backlog = str(s.outbox_backlog)
                    if s.oldest_unpublished_s is not None:
                        backlog += f" (eldste {s.oldest_unpublished_s:.0f} s)"
                table.add_row(
                    i.instance if n == 0 else "",
                    i.version if n == 0 else "",
                    local_time(i.started_at.isoformat()) if n == 0 else "",
                    _durability_text(i) if n == 0 else "",
                    s.name,
                    "ok" if s.database == "ok" else f"[red]{s.database}[/]",
                    backlog,
                    f"{s.consumers}/{s.consumers_declared}",
                )
        out.print(table)
        streams = r["streams"]
        if streams is not None:
            # Only the consumers with something waiting: the rest are up to date (--json: all).
            behind = [c for c in streams["consumers"] if c["pending"] or c["ack_pending"]]
            if behind:
                lag = Table(title="Hendelseskonsumenter med kø")
                for col in ("Konsument", "Ikke levert", "Under behandling", "Levert på nytt"):
                    lag.add_column(col, justify="left" if col == "Konsument" else "right")
                for c in behind:
                    lag.add_row(
                        c["name"], str(c["pending"]), str(c["ack_pending"]), str(c["redelivered"])
                    )
                out.print(lag)
            out.print(
                f"Hendelseskonsumenter: {len(streams['consumers'])}, "
                + (f"{len(behind)} med kø." if behind else "ingen med kø.")
            )
            out.print(f"Døde meldinger: {streams['dead_letters']} (se kenett dlq)")
        for p in r["problems"]:
            err.print(f"[red]problem[/]: {p}")
        if not r["problems"]:
            out.print("Alt i orden: " + ", ".join(expected) + " kjører.")

    show(result, as_json, render)
    if problems:
        raise typer.Exit(1)


async def _stream_state(js: Any, org: str) -> dict[str, Any]:
    """The organisation's event consumers (how far behind) and its dead letters."""
    from shared.contracts.subjects import DEAD_LETTER_STREAM, EVENTS_STREAM

    mine = f"kenett.{org}."
    consumers = []
    for info in await js.consumers_info(EVENTS_STREAM):
        if not (info.config.filter_subject or "").startswith(mine):
            continue
        consumers.append(
            {
                "name": info.name,
                "pending": info.num_pending or 0,
                "ack_pending": info.num_ack_pending or 0,
                "redelivered": info.num_redelivered or 0,
            }
        )
    consumers.sort(key=lambda c: c["name"])
    dlq = await js.stream_info(DEAD_LETTER_STREAM, subjects_filter=f"kenett.{org}.dlq.>")
    dead = sum((dlq.state.subjects or {}).values())
    return {"consumers": consumers, "dead_letters": dead}


@app.command("access-log")
def access_log(
    case: CaseId,
    since: Annotated[str | None, typer.Option(help="Only from this day (YYYY-MM-DD).")] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Who has read or changed a case's data, and when: every service's audit trail, merged
    (the person's right to know who had access). Reading it is logged too."""
    from datetime import datetime, time

    from shared.client import KenettClient
    from shared.clock import OSLO

    first_day = day(since, "--since")
    start = None if first_day is None else datetime.combine(first_day, time(), OSLO)
    who = actor(staff)

    async def go(client: KenettClient) -> dict[str, Any]:
        return (await client.access_log(who, case, since=start)).model_dump(mode="json")

    result = with_client(nats, org, "access-log", go)

    def render(r: dict[str, Any]) -> None:
        entries = r["entries"]
        orgs = ", ".join(sorted({e["org"] for e in entries})) or org
        rows: list[list[str]] = []
        services: list[set[str]] = []
        started: list[datetime] = []
        asked: list[str] = []  # each row's action without its service ("access_log")
        for e in entries:
            at = datetime.fromisoformat(e["at"]).astimezone(OSLO)
            outcome = str(e["outcome"])
            row = [
                at.strftime("%d.%m.%Y %H:%M"),
                _ACTOR_KIND.get(e["actor_kind"], e["actor_kind"]) + " " + e["actor_id"],
                _ACCESS.get(e["access"], e["access"]),
                _action_text(e),
                _outcome(outcome),
            ]
            # One ask of every service at once (this very log, say) is one row, not six: the
            # same who, what and outcome, within a few seconds, each service once.
            what = str(e["action"]).split(".", 1)[-1]
            if (
                rows
                and rows[-1][1:3] + rows[-1][4:] == row[1:3] + row[4:]
                and e["service"] not in services[-1]
                and asked[-1] == what
                and at - started[-1] <= _ONE_ASK
            ):
                services[-1].add(e["service"])
                if row[3] != rows[-1][3]:
                    # The same ask of several services, each called its own way ("planen i
                    # FHIR-format", "samtykker i FHIR-format"): the common name.
                    rows[-1][3] = ANY_SERVICE_TEXT.get(what, what) + _as_role(e.get("role"))
                continue
            rows.append(row)
            services.append({e["service"]})
            started.append(at)
            asked.append(what)
        # The title counts the rows shown (an ask of every service is one).
        table = Table(title=f"Hvem har lest eller endret saken ({orgs}, {len(rows)} oppføringer)")
        for col in ("Tidspunkt", "Hvem", "Tilgang", "Handling", "Utfall"):
            table.add_column(col)
        for row, each in zip(rows, services, strict=True):
            if len(each) > 1:
                row[3] += f" ({len(each)} tjenester)"
            table.add_row(*row)
        out.print(table)
        _incomplete(r["unanswered"], "Loggen")

    show(result, as_json, render)
    if result["unanswered"]:
        raise typer.Exit(4)


@app.command("audit-trail")
def audit_trail(
    since: Annotated[str, typer.Option(help="From this day (YYYY-MM-DD), Norwegian time.")],
    until: Annotated[
        str | None, typer.Option(help="To and with this day (YYYY-MM-DD); default: today.")
    ] = None,
    who: Annotated[
        str | None, typer.Option("--who", help="One staff id: every record of theirs.")
    ] = None,
    refused: Annotated[bool, typer.Option(help="Only attempts that were turned away.")] = False,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The organisation's review of access over a period (helsepersonelloven § 21 a: no
    access without need): per staff id, how many cases they read, changed or disclosed, and
    what was refused; with --who or --refused, every record. Reading it is logged too."""
    from datetime import datetime, time

    from shared.client import KenettClient
    from shared.clock import OSLO

    first = day(since, "--since")
    today = datetime.now(OSLO).date()
    assert first is not None
    if until is None and first > today:
        raise typer.BadParameter(f"{first} is in the future", param_hint="--since")
    last = day(until, "--until") or today
    if last < first:
        raise typer.BadParameter("before --since", param_hint="--until")
    start = datetime.combine(first, time(), OSLO)
    end = datetime.combine(last + timedelta(days=1), time(), OSLO)
    asker = actor(staff)

    async def go(client: KenettClient) -> dict[str, Any]:
        review = await client.audit_trail(
            asker, start, until=end, actor_id=who, refused_only=refused
        )
        return review.model_dump(mode="json")

    result = with_client(nats, org, "audit-trail", go)

    def render(r: dict[str, Any]) -> None:
        entries = r["entries"]
        period = f"{first:%d.%m.%Y}–{last:%d.%m.%Y}"
        if who is None and not refused:
            _audit_summary(entries, period, org)
        else:
            table = Table(title=f"Tilganger {period} ({org}, {len(entries)} oppføringer)")
            for col in ("Tidspunkt", "Hvem", "Sak", "Tilgang", "Handling", "Utfall"):
                table.add_column(col)
            for e in entries:
                table.add_row(
                    local_time(e["at"]),
                    _ACTOR_KIND.get(e["actor_kind"], e["actor_kind"]) + " " + e["actor_id"],
                    e["case_id"] or "–",
                    _ACCESS.get(e["access"], e["access"]),
                    _action_text(e),
                    _outcome(str(e["outcome"])),
                )
            out.print(table)
        _incomplete(r["unanswered"], "Oversikten")

    show(result, as_json, render)
    if result["unanswered"]:
        raise typer.Exit(4)


def _incomplete(unanswered: list[str], what: str) -> None:
    """Say which services did not answer, so a partial log is never taken for a whole one."""
    if unanswered:
        err.print(
            f"[yellow]{what} er ikke fullstendig[/]: ingen svar fra "
            + ", ".join(unanswered)
            + ". Prøv igjen når tjenestene kjører."
        )


def _action_text(e: dict[str, Any]) -> str:
    """The action, the role it was made in, and for a disclosure whom to and on what basis."""
    text = action_text(str(e["action"])) + _as_role(e.get("role"))
    if e.get("to"):
        basis = f", grunnlag: {_BASIS[e['basis']]}" if e.get("basis") else ""
        text += f" (til {e['to']}{basis})"
    return text


def _outcome(outcome: str) -> str:
    return "tillatt" if outcome == "ok" else f"avvist ({outcome.removeprefix('refused:')})"


def _audit_summary(entries: list[dict[str, Any]], period: str, org: str) -> None:
    """Per staff id: how many cases they touched, how many reads, changes and disclosures
    they made (with or without a case: a list read, a hospital's report of need), and their
    refused attempts; the most cases first (what a review looks at first)."""
    cases: dict[str, set[str]] = {}
    counts: dict[str, dict[str, int]] = {}
    services = 0
    for e in entries:
        if e["actor_kind"] != "user":
            services += 1
            continue
        mine = counts.setdefault(
            e["actor_id"], {"read": 0, "change": 0, "disclose": 0, "refused": 0}
        )
        touched = cases.setdefault(e["actor_id"], set())
        if e["outcome"] != "ok":
            mine["refused"] += 1
            continue
        mine[e["access"]] += 1
        if e["case_id"]:
            touched.add(e["case_id"])
    table = Table(title=f"Tilgangskontroll {period} ({org}): {len(counts)} ansatte")
    for col in ("Ansatt", "Saker", "Lesinger", "Endringer", "Utleveringer", "Avvist"):
        table.add_column(col, justify="left" if col == "Ansatt" else "right")
    for staff_id in sorted(counts, key=lambda k: (-len(cases[k]), k)):
        mine = counts[staff_id]
        table.add_row(
            staff_id,
            str(len(cases[staff_id])),
            *(str(mine[k]) for k in ("read", "change", "disclose", "refused")),
        )
    out.print(table)
    out.print(
        f"{services} handlinger av tjenestene selv er ikke med. Saker: ulike saker; de andre "
        "kolonnene teller handlinger, også de uten én sak (lister, meldinger til andre "
        "virksomheter). Se alt for én ansatt med --who, og avviste forsøk med --refused."
    )


_ACTOR_KIND = {"user": "ansatt", "service": "tjenesten", "system": "systemet"}
_ONE_ASK = timedelta(seconds=5)
_ACCESS = {"read": "lest", "change": "endret", "disclose": "utlevert"}
_BASIS = {basis.value: text for basis, text in BASIS_TEXT.items()}
_ROLE = {
    "coordinator": "som koordinator",
    "provider": "som tjenesteyter",
    "person": "som personen selv",
    "next_of_kin": "som pårørende",
}


def _as_role(role: str | None) -> str:
    """ "as provider hjemmesykepleien" → " (som tjenesteyter hjemmesykepleien)"."""
    if not role:
        return ""
    kind, _, ident = role.removeprefix("as ").partition(" ")
    return f" ({_ROLE.get(kind, kind)}{' ' + ident if ident else ''})"


@app.command()
def streams(
    nats_url: Annotated[
        str | None, typer.Option("--nats", help="NATS URL (else KENETT_NATS_URL).")
    ] = None,
) -> None:
    """Declare (create or update) every stream kenett uses; services do this at start-up too."""
    from shared.bus.streams import ensure_streams

    settings = _settings()
    url = nats_url or settings.nats_url
    if not url:
        err.print("[red]give --nats or KENETT_NATS_URL[/]")
        raise typer.Exit(2)

    async def declare() -> list[str]:
        nc = await connect_once(url, "kenett-cli")
        try:
            names = await ensure_streams(nc.jetstream())
            if settings.federation_file is not None:
                # Linked: the organisation's two cross-organisation streams too.
                from shared.federation.streams import ensure_federation_streams
                from shared.federation.topology import load_org_file

                fed = load_org_file(settings.federation_file)
                names += await ensure_federation_streams(nc.jetstream(), fed)
            return names
        finally:
            await nc.close()

    for name in asyncio.run(declare()):
        out.print(f"stream {name}: declared")


@app.command()
def asyncapi(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for <service>.json.")] = Path(
        "docs/asyncapi"
    ),
) -> None:
    """Write the AsyncAPI 3.0 document of every installed service (from the contracts)."""
    import json

    from shared import __version__
    from shared.runtime.asyncapi import service_document

    out_dir.mkdir(parents=True, exist_ok=True)
    for name, installed in discover().items():
        doc = service_document(installed.plugin, __version__)
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        out.print(f"{path}: {len(doc['channels'])} channels, {len(doc['operations'])} operations")


bench_app = typer.Typer(help="Benchmarks: figures you can reproduce on your own hardware.")
app.add_typer(bench_app, name="bench")


@bench_app.command("gate")
def bench_gate(
    rate: Annotated[float, typer.Option(help="Offered load, queries per second.")] = 500,
    seconds: Annotated[float, typer.Option(help="How long to offer it.")] = 10,
    cases: Annotated[int, typer.Option(help="Cases with consents to ask about.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")] = False,
) -> None:
    """The consent gate (R5-R8): latency of "may ACTOR do ACTION?" at a fixed offered rate."""
    import json

    from shared.runtime.bench import run_gate

    configure_logging("console", "WARNING")
    figures = run_gate(cases, rate, seconds)
    table = Table(title="kenett bench gate (loopback, open loop)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, str(value))
    out.print(table)
    if as_json:
        print(json.dumps(figures))


class EventLoopChoice(StrEnum):
    UVLOOP = "uvloop"
    ASYNCIO = "asyncio"


PIPELINE_TARGETS = {
    "efficiency": (">=", 0.5),
    "cases_per_s": (">=", 100),
    "p50_ms": ("<=", 50),
    "p99_ms": ("<=", 200),
}


@bench_app.command("pipeline")
def bench_pipeline(
    cases: Annotated[int, typer.Option(help="Cases driven as fast as they are taken.")] = 1000,
    rate: Annotated[float, typer.Option(help="Offered cases/s for the latency figures.")] = 20,
    seconds: Annotated[float, typer.Option(help="How long to offer --rate.")] = 20,
    concurrency: Annotated[int, typer.Option(help="Clients at once in the throughput run.")] = 32,
    bare_seconds: Annotated[float, typer.Option(help="How long to measure the bare bus.")] = 10,
    database_url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL URL (fresh schemas, dropped after); SQLite if absent."),
    ] = None,
    split: Annotated[
        bool,
        typer.Option(
            "--split",
            help="Each service in a process of its own (scaled separately), not all in one.",
        ),
    ] = False,
    durability: Annotated[
        Durability,
        typer.Option(
            help="crash (the default of kenett up) or power: every commit and stored message "
            "synced to disk, the bare bus's nats-server too (KENETT_DURABILITY).",
        ),
    ] = Durability.CRASH,
    loop: Annotated[
        EventLoopChoice,
        typer.Option(
            help="The event loop of the services and of the bare bus (KENETT_EVENT_LOOP): "
            "uvloop (the default of kenett up and kenett run) or asyncio.",
        ),
    ] = EventLoopChoice.UVLOOP,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")] = False,
) -> None:
    """Whole cases through intake, consent, assignment, planning and notifications in one
    process (or, with --split, one process each), against the bare bus on the same nats-server
    (docs/benchmarks.md)."""
    import json

    from shared.runtime.bench_pipeline import run_pipeline

    configure_logging("console", "WARNING")
    if cases < 1 or rate <= 0 or seconds <= 0 or concurrency < 1 or bare_seconds <= 0:
        err.print("[red]--cases, --rate, --seconds, --concurrency, --bare-seconds: must be > 0[/]")
        raise typer.Exit(2)
    figures = run_pipeline(
        cases=cases,
        rate=rate,
        seconds=seconds,
        concurrency=concurrency,
        bare_seconds=bare_seconds,
        database_url=database_url,
        split=split,
        durability=durability.value,
        event_loop=loop.value,
    )
    table = Table(title=f"kenett bench pipeline ({figures['mode']}, {figures['database']})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    for key, value in figures.items():
        target = PIPELINE_TARGETS.get(key)
        if target is None:
            mark = ""
        else:
            op, limit = target
            met = value >= limit if op == ">=" else value <= limit
            mark = f"{op} {limit} {'[green]met[/]' if met else '[red]missed[/]'}"
        table.add_row(key, str(value), mark)
    out.print(table)
    if as_json:
        print(json.dumps(figures))


@bench_app.command("scale")
def bench_scale(
    cases: Annotated[int, typer.Option(help="Cases to load, with plans and coordinators.")] = (
        100_000
    ),
    coordinators: Annotated[int, typer.Option(help="Coordinators in the registry.")] = 4_000,
    queries: Annotated[int, typer.Option(help="Timed requests of each overview query.")] = 200,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="A PostgreSQL URL (fresh schemas, dropped afterwards); SQLite in a temp dir "
            "if absent."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")] = False,
) -> None:
    """The KE's overview at 100,000 cases, all services in one process: p95 of cases by status,
    caseload per coordinator and overdue evaluations over NATS, and the process's peak RSS."""
    import json

    from shared.runtime.bench_scale import run_scale

    configure_logging("console", "WARNING")
    url = _settings(database_url=database_url).resolved_database_url() if database_url else None
    with tempfile.TemporaryDirectory(prefix="kenett-bench-") as tmp:
        figures = run_scale(cases, coordinators, queries, Path(tmp), url)
    table = Table(title="kenett bench scale (all-in-one, over NATS, loopback)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        if key == "overview":
            for name, v in value.items():
                table.add_row(f"overview.{name}", ", ".join(f"{k} {x}" for k, x in v.items()))
        elif isinstance(value, dict):
            table.add_row(key, ", ".join(f"{k} {x}" for k, x in value.items()))
        elif isinstance(value, list):
            table.add_row(key, " ".join(str(x) for x in value))
        else:
            table.add_row(key, str(value))
    out.print(table)
    if as_json:
        print(json.dumps(figures))


db_app = typer.Typer(help="Database migrations (Alembic, one branch per service).")
app.add_typer(db_app, name="db")


@db_app.command("revision")
def db_revision(
    service: Annotated[str, typer.Argument(help="The service whose models changed.")],
    message: Annotated[str, typer.Option("-m", "--message", help="What the migration does.")],
) -> None:
    """Write the next migration of SERVICE from the difference between its models and its
    migrations (autogenerate against a scratch SQLite database); review it before committing."""
    import re

    from sqlalchemy.ext.asyncio import create_async_engine

    from shared.db.kernel import kernel_registry
    from shared.db.migrate import autogenerate

    try:
        plugin = select([service])[0]
    except PluginError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    existing = sorted(plugin.migrations.glob("*.py"))
    numbers = [int(m.group(1)) for f in existing if (m := re.match(r"[a-z]+(\d+)_", f.name))]
    rev_id = f"{service[0]}{(max(numbers, default=0) + 1):04d}"

    async def generate() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_async_engine(f"sqlite+aiosqlite:///{tmp}/scratch.db")
            async with engine.begin() as conn:
                await conn.run_sync(
                    lambda c: autogenerate(
                        c,
                        plugin.migrations,
                        [kernel_registry.metadata, plugin.metadata],
                        message=message,
                        rev_id=rev_id,
                        branch_label=service,
                    )
                )
            await engine.dispose()

    asyncio.run(generate())


def _add_service_clis() -> None:
    """Each service's own commands, as ``kenett <service> ...``."""
    try:
        found = discover()
    except PluginError:
        return  # `kenett plugins` reports the broken plugin
    for name, installed in found.items():
        if installed.plugin.cli is not None:
            app.add_typer(installed.plugin.cli, name=name)
        for bench_name, command in installed.plugin.benchmarks.items():
            bench_app.command(bench_name)(command)


def main() -> None:
    """Console-script entry point."""
    from shared.runtime import cli_nb

    cli_nb.install()  # usage errors in bokmål
    _add_service_clis()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except ValidationError as exc:
        # A command's options that its contract refuses (say --limit 0): the field and why,
        # never the value given (it may be a person's data), and no traceback.
        for e in exc.errors(include_input=False, include_url=False):
            field = ".".join(str(p) for p in e["loc"]) or exc.title
            err.print(f"[red]ugyldig verdi[/]: {field}: {nb.text(e['msg'])}")
        sys.exit(2)
