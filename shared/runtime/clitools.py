"""Helpers for the command-line forms of services' commands and queries (``kenett <service> ...``).

A service contributes a Typer app through its plugin (``ServicePlugin.cli``); these helpers
give every such command the same connection options, error output and ``--json``.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import re
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from shared.client import KenettClient, RequestFailed
from shared.clock import OSLO
from shared.config import DEFAULT_EMBEDDED_NATS_PORT
from shared.contracts.commands import Command, Query
from shared.contracts.envelope import Actor
from shared.contracts.intake import CASE_REF_PATTERN, FindCase
from shared.ids import new_id
from shared.natsconn import connect_once
from shared.runtime import nb

out = Console()
err = Console(stderr=True)

# Eager: read before the arguments, so that a case number (``CaseId``) can be looked up on the
# right system in the caller's name.
NatsOpt = Annotated[
    str,
    typer.Option(
        "--nats", envvar="KENETT_NATS_URL", help="NATS of the kenett to talk to.", is_eager=True
    ),
]
OrgOpt = Annotated[
    str, typer.Option("--org", envvar="KENETT_ORG", help="Organisation.", is_eager=True)
]
ActorOpt = Annotated[
    str,
    typer.Option(
        "--actor",
        envvar="KENETT_ACTOR",
        help="Your staff id, for the audit log (default: your login name).",
        is_eager=True,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")]
DEFAULT_NATS = f"nats://127.0.0.1:{DEFAULT_EMBEDDED_NATS_PORT}"
DEFAULT_ORG = "demo"


CASE_HELP = "The case: its id, or its case number (2026-000123)."


def _as_given(value: str) -> str:
    return value


def _case(ctx: typer.Context, value: str | None) -> uuid.UUID | None:
    """A case id as given, or the case with this case number, asked of intake on the
    command's ``--nats``/``--org`` as its ``--actor`` (eager options, read first; the look-up
    is audited). Anything else is a usage error that does not repeat what was given (it may
    be a fødselsnummer typed in the wrong place); an unknown number is refused naming it."""
    if value is None:  # an optional --case not given
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    ref = value.strip()
    if not re.fullmatch(CASE_REF_PATTERN, ref):
        raise typer.BadParameter("neither a case id nor a case number (2026-000123)")
    params = ctx.params
    found = request(
        str(params.get("nats") or DEFAULT_NATS),
        str(params.get("org") or DEFAULT_ORG),
        "intake",
        FindCase(actor=actor(str(params.get("staff") or "")), case_ref=ref),
    )
    return uuid.UUID(str(found["case_id"]))


CaseId = Annotated[
    uuid.UUID,
    typer.Argument(parser=_as_given, callback=_case, metavar="CASE", help=CASE_HELP),
]
"""A command's case: its id or its case number."""


def case_option(help: str) -> Any:
    """``--case``: one case, by id or case number (``CaseId`` as an option)."""
    return typer.Option("--case", parser=_as_given, callback=_case, help=help)


def default_actor() -> str:
    return os.environ.get("KENETT_ACTOR") or getpass.getuser()


def actor(staff_id: str) -> Actor:
    return Actor(kind="user", id=staff_id or default_actor())


def request(nats: str, org: str, service: str, message: Command | Query) -> dict[str, Any]:
    """Send a command or query; on refusal print each field and reason, and exit 1.

    Every command carries an idempotency key, so a retry by the client library is harmless.
    """
    if isinstance(message, Command) and message.request_id is None:
        message = message.model_copy(update={"request_id": new_id()})

    async def go(client: KenettClient) -> dict[str, Any]:
        if isinstance(message, Command):
            return await client.command(service, message)
        return await client.query(service, message)

    return with_client(nats, org, service, go, command=isinstance(message, Command))


def with_client(
    nats: str,
    org: str,
    name: str,
    go: Callable[[KenettClient], Awaitable[dict[str, Any]]],
    *,
    command: bool = False,
) -> dict[str, Any]:
    """Run ``go`` with a client of ``org`` on a connection of its own; a refusal prints each
    field and reason (exit 1), no answer to a command says it may have been carried out
    (exit 3), no connection says so (exit 2)."""

    async def run() -> dict[str, Any]:
        nc = await connect_once(nats, f"kenett-cli-{name}")
        try:
            return await go(KenettClient(nc, org))
        finally:
            await nc.close()

    try:
        return asyncio.run(run())
    except RequestFailed as exc:
        refused(exc, command=command)
    except Exception as exc:
        err.print(f"[red]får ikke kontakt med kenett på {nats}[/]: {exc}")
        raise typer.Exit(2) from None


def refused(exc: RequestFailed, *, command: bool = False) -> NoReturn:
    """A refusal as KE staff read it, in bokmål (``shared.runtime.nb``): each field and reason
    (exit 1); no answer to a command says it may have been carried out (exit 3)."""
    if exc.error.code == "unavailable" and command:
        err.print(
            f"[red]fikk ikke svar i tide[/]: {nb.text(exc.error.message)}. Kommandoen kan være "
            "utført eller ikke: sjekk før du gjentar den."
        )
        raise typer.Exit(3) from None
    fields = exc.error.fields
    if len(fields) == 1 and fields[0].reason == exc.error.message:
        # One field whose reason is the message: said once, naming the field.
        only = fields[0]
        err.print(
            f"[red]avvist[/], {nb.code(exc.error.code)}: {only.field}: {nb.text(only.reason)}"
        )
        raise typer.Exit(1) from None
    err.print(f"[red]avvist[/], {nb.code(exc.error.code)}: {nb.text(exc.error.message)}")
    for f in fields:
        err.print(f"  {f.field}: {nb.text(f.reason)}")
    raise typer.Exit(1) from None


def read_national_id() -> str:
    """The identity number is never an argument (it would stay in shell history and process
    lists): asked for, hidden, on a terminal, else read from standard input."""
    if sys.stdin.isatty():
        return str(typer.prompt("Fødselsnummer eller D-nummer", hide_input=True))
    return sys.stdin.readline().strip()


def show(result: dict[str, Any], as_json: bool, render: Callable[[dict[str, Any]], None]) -> None:
    """One JSON object on stdout with --json, else the readable form."""
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        render(result)


def page_footer(r: dict[str, Any], offset: int, rows: str) -> None:
    """Under a page that is not the last: which rows it showed, and how to get the next."""
    if r.get("next_offset") is not None:
        shown = f"{offset + 1}–{offset + len(r[rows])} av {r['total']}"
        out.print(f"Viser {shown}; neste side: --offset {r['next_offset']}")


def local_time(iso: str | None) -> str:
    """A moment from a reply as a KE user reads it: Norwegian time, "–" for none."""
    if not iso:
        return "–"
    return datetime.fromisoformat(str(iso)).astimezone(OSLO).strftime("%d.%m.%Y %H:%M")


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")


def moment(value: str | None, option: str, *, through: bool = False) -> datetime | None:
    """A YYYY-MM-DD or ISO-time option as a moment (Norwegian time unless an offset is given).

    A bare date is the start of that day; with ``through`` (an option that says when something
    ends) it is the whole of that day, as a KE user means "til og med 30.06.2027": the end is
    the start of the next day. A time with a clock reading is taken as it is written. Other
    forms Python would read (20270630, 2027-W26) are refused: they would be read as a day's
    start where the user meant the whole day."""
    if value is None:
        return None
    if _DAY.fullmatch(value):
        first = day(value, option)
        assert first is not None
        if through and first == date.max:
            raise typer.BadParameter(
                "too far ahead: leave the option out for no end", param_hint=option
            )
        return datetime.combine(first + timedelta(days=1 if through else 0), time(), OSLO)
    try:
        if not _TIME.fullmatch(value):
            raise ValueError(value)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        # Not repeated: it may be a fødselsnummer typed in the wrong place.
        raise typer.BadParameter(
            "not a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM+01:00)", param_hint=option
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=OSLO)


def local_end(iso: str | None) -> str:
    """When something ends, as a KE user reads it: an end at midnight is the last whole day,
    "t.o.m. 30.06.2027" (the start of 01.07.2027); any other end as ``local_time``."""
    if not iso:
        return "–"
    at = datetime.fromisoformat(str(iso)).astimezone(OSLO)
    if at.time() == time():
        return "t.o.m. " + (at.date() - timedelta(days=1)).strftime("%d.%m.%Y")
    return at.strftime("%d.%m.%Y %H:%M")


def day(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option, or a clear error naming the option (None stays None)."""
    if value is None:
        return None
    try:
        if not _DAY.fullmatch(value):  # not 20270630 or 2027-W26-3, which Python also reads
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        # Not repeated: it may be a fødselsnummer typed in the wrong place.
        raise typer.BadParameter("not a date (YYYY-MM-DD)", param_hint=option) from None


def coordinator_ref(
    ref: str | None, option: str, nats: str, org: str, staff: str
) -> uuid.UUID | None:
    """A coordinator by their staff id (what the registry table shows) or coordinator id.

    A staff id is looked up in the registry; one that is not there is a usage error that
    names the option, before anything is sent. A coordinator id is passed on as it is."""
    if ref is None:
        return None
    try:
        return uuid.UUID(ref)
    except ValueError:
        pass
    return uuid.UUID(find_coordinator(ref, option, nats, org, staff)["coordinator_id"])


def find_coordinator(ref: str, option: str, nats: str, org: str, staff: str) -> dict[str, Any]:
    """The registry entry of a coordinator given by staff id or coordinator id (one query);
    a usage error naming the option if there is none."""
    from shared.contracts.assignment import ListCoordinators

    try:
        by: dict[str, Any] = {"coordinator_ids": [uuid.UUID(ref)], "include_inactive": True}
    except ValueError:
        by = {"staff_ids": [ref]}
    found = request(nats, org, "assignment", ListCoordinators(actor=actor(staff), limit=1, **by))
    if not found["coordinators"]:
        raise typer.BadParameter(
            f"no coordinator {ref!r} in the registry (kenett assignment coordinators lists them)",
            param_hint=option,
        )
    entry: dict[str, Any] = found["coordinators"][0]
    return entry
