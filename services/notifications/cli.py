"""``kenett notifications ...``: the inbox, read state, preferences, the org's policy,
deliveries through channels and reminders on the clock.

Readable output is bokmål; ``--json`` prints the reply as one JSON object. Addresses are shown
masked. A recipient is given as KIND[:ID]: ``ke``, ``coordinator:<id>``, ``staff:<id>``,
``member:<inbox id>``, ``person:<case id>`` or ``next_of_kin:<case id>:<relative>``.
"""

from __future__ import annotations

import uuid
from datetime import time
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from shared.contracts import notifications as c
from shared.runtime.clitools import (
    DEFAULT_NATS,
    DEFAULT_ORG,
    ActorOpt,
    JsonOpt,
    NatsOpt,
    OrgOpt,
    actor,
    case_option,
    err,
    local_time,
    out,
    page_footer,
    request,
    show,
)

app = typer.Typer(
    help="Notifications: inbox, read state, preferences, policy, deliveries and reminders.",
    no_args_is_help=True,
)

KIND = {
    "coordinator_appointed": "Oppnevnt som koordinator",
    "plan_created": "Planutkast opprettet",
    "consent_renewal_coordinator": "Samtykke må fornyes (16 år)",
    "consent_renewal_person": "Samtykke må gis av deg",
    "consent_renewal_due": "Samtykke må fornyes snart",
    "case_needs_coordinator": "Sak trenger koordinator",
    "case_still_without_coordinator": "Sak venter fortsatt på koordinator",
    "coordinator_over_limit": "Koordinator over anbefalt antall saker",
    "duty_overdue": "Oppgave over frist",
    "evaluation_due": "Evaluering nærmer seg",
    "revision_due": "Revisjon av planen nærmer seg",
    "revision_overdue": "Revisjon av planen forfalt",
    "evaluation_overdue": "Evaluering forfalt",
    "measure_deadline_due": "Tiltaksfrist nærmer seg",
    "measure_deadline_passed": "Tiltaksfrist passert",
    "meeting_scheduled": "Møteinnkalling",
    "meeting_reminder": "Møtepåminnelse",
    "meeting_cancelled": "Møte avlyst",
    "appeal_deadline_due": "Klagefrist nærmer seg",
    "appeal_deadline_passed": "Klagefrist ute",
    "appeal_registered": "Klage registrert",
    "handover_planned": "Overføring planlagt",
    "handover_completed": "Overføring fullført",
    "new_coordinator_for_person": "Ny koordinator",
    "unread_escalation": "Uleste viktige varsler",
    "xorg_message_refused": "Melding til annen virksomhet avvist",
    "xorg_receipt_overdue": "Kvittering fra annen virksomhet mangler",
    "xorg_handover_proposed": "Forslag om å overta koordineringen",
    "xorg_handover_answered": "Svar på forslag om overføring",
}
STATUS = {
    "pending": "venter",
    "sending": "sendes",
    "sent": "sendt",
    "held_digest": "holdt til daglig oppsummering",
    "digested": "med i oppsummering",
    "dead": "feilet (se kenett dlq)",
    "skipped": "ikke sendt",
}
RecipientArg = Annotated[
    str, typer.Argument(help="ke, coordinator:<id>, person:<case id>, next_of_kin:<case>:<who>")
]


def _recipient(value: str) -> c.RecipientRef:
    kind, _, rest = value.partition(":")
    try:
        if kind == "ke":
            return c.RecipientRef(kind="ke")
        if kind == "person":
            return c.RecipientRef(kind="person", case_id=uuid.UUID(rest))
        if kind == "next_of_kin":
            case, _, relative = rest.partition(":")
            return c.RecipientRef(kind="next_of_kin", case_id=uuid.UUID(case), relative=relative)
        return c.RecipientRef(kind=kind, id=uuid.UUID(rest))
    except (ValueError, ValidationError):
        raise typer.BadParameter(
            "give ke, coordinator:<id>, staff:<id>, member:<id>, person:<case id> or "
            "next_of_kin:<case id>:<relative>",
            param_hint="RECIPIENT",
        ) from None


def _hhmm(value: str, option: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("give a time as HH:MM", param_hint=option) from None


@app.command()
def inbox(
    recipient: RecipientArg,
    unread: Annotated[bool, typer.Option(help="Only unread notices.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """A recipient's inbox, newest first."""
    rid = _recipient(recipient).recipient_id(org)
    result = request(
        nats,
        org,
        "notifications",
        c.ListInbox(actor=actor(staff), recipient_id=rid, unread_only=unread, limit=limit),
    )

    def render(r: dict[str, Any]) -> None:
        t = Table(title=f"Innboks ({r['unread']} uleste)")
        for col in ("", "Tid", "Varsel", "Tekst", "Id"):
            t.add_column(col)
        for x in r["notifications"]:
            mark = "[bold]•[/]" if x["read_at"] is None else ""
            if x["important"]:
                mark += "[red]![/]"
            text = x["text"] + (f"\n[yellow]Merk: {x['problem']}[/]" if x["problem"] else "")
            t.add_row(
                mark,
                local_time(x["created_at"]),
                KIND.get(x["kind"], x["kind"]),
                text,
                x["notification_id"],
            )
        out.print(t)

    show(result, as_json, render)


@app.command()
def read(
    recipient: RecipientArg,
    notification_ids: Annotated[list[uuid.UUID], typer.Argument(help="Notices to mark.")],
    unread: Annotated[bool, typer.Option("--unread", help="Mark unread again.")] = False,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Mark notices read (or unread again)."""
    who = actor(staff)
    result = request(
        nats,
        org,
        "notifications",
        c.MarkRead(
            actor=who,
            recipient_id=_recipient(recipient).recipient_id(org),
            notification_ids=notification_ids,
            read=not unread,
            by=who.id,
        ),
    )
    show(result, as_json, lambda r: out.print(f"{r['changed']} endret; {r['unread']} uleste igjen"))


@app.command("unread-important")
def unread_important(
    hours: Annotated[float | None, typer.Option(help="Unread at least this long.")] = None,
    limit: Annotated[int, typer.Option(help="Notices per page (at most 500).")] = 200,
    offset: Annotated[int, typer.Option(help="Skip this many: the next page's offset.")] = 0,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Important notices nobody has read in time (the KE's follow-up list)."""
    result = request(
        nats,
        org,
        "notifications",
        c.ListUnreadImportant(
            actor=actor(staff), older_than_hours=hours, limit=limit, offset=offset
        ),
    )

    def render(r: dict[str, Any]) -> None:
        t = Table(title=f"Viktige varsler som ikke er lest ({r['total']})")
        for col in ("Varsel", "Mottaker", "Sak", "Ulest i timer", "Eskalert"):
            t.add_column(col)
        for x in r["notices"]:
            t.add_row(
                KIND.get(x["kind"], x["kind"]),
                f"{x['recipient_kind']} {x['recipient_id']}",
                x["case_id"] or "–",
                str(x["hours_unread"]),
                local_time(x["escalated_at"]),
            )
        out.print(t)
        page_footer(r, offset, "notices")

    show(result, as_json, render)


@app.command()
def prefs(
    recipient: RecipientArg,
    address: Annotated[
        list[str] | None, typer.Option(help="CHANNEL=ADDRESS, e.g. email=ola@example.no.")
    ] = None,
    channel: Annotated[
        list[str] | None, typer.Option(help="Channels to use (default: the org's).")
    ] = None,
    quiet: Annotated[str | None, typer.Option(help="Quiet hours HH:MM-HH:MM.")] = None,
    no_quiet: Annotated[bool, typer.Option("--no-quiet", help="No quiet hours.")] = False,
    digest: Annotated[bool, typer.Option(help="One daily digest instead.")] = False,
    show_only: Annotated[bool, typer.Option("--show", help="Only show them.")] = False,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Show or set a recipient's preferences (addresses, channels, quiet hours, digest)."""
    ref = _recipient(recipient)
    if show_only:
        result = request(
            nats, org, "notifications", c.GetPreferences(actor=actor(staff), recipient=ref)
        )
    else:
        addresses: dict[str, str] = {}
        for item in address or []:
            name, sep, value = item.partition("=")
            if not sep or not name or not value:
                raise typer.BadParameter("give CHANNEL=ADDRESS", param_hint="--address")
            addresses[name] = value
        quiet_hours = None
        if quiet:
            start, sep, end = quiet.partition("-")
            if not sep:
                raise typer.BadParameter("give HH:MM-HH:MM", param_hint="--quiet")
            try:
                quiet_hours = c.QuietHours(start=_hhmm(start, "--quiet"), end=_hhmm(end, "--quiet"))
            except ValidationError as exc:
                raise typer.BadParameter(exc.errors()[0]["msg"], param_hint="--quiet") from None
        result = request(
            nats,
            org,
            "notifications",
            c.SetPreferences(
                actor=actor(staff),
                recipient=ref,
                addresses=addresses,
                channels=channel,
                quiet_hours=quiet_hours,
                quiet_hours_off=no_quiet,
                digest=digest,
            ),
        )

    def render(r: dict[str, Any]) -> None:
        q = r["quiet_hours"]
        out.print(f"Mottaker: {r['kind']} {r['recipient_id']}")
        out.print(
            f"Kanaler: {', '.join(r['channels']) or 'bare innboksen'}"
            + ("" if r["own_channels"] is not None else " (virksomhetens standard)")
        )
        for name, value in r["addresses"].items():
            out.print(f"  {name}: {value}")
        out.print(f"Stille timer: {q['start'][:5]}–{q['end'][:5]}" if q else "Stille timer: ingen")
        out.print(f"Daglig oppsummering: {'ja' if r['digest'] else 'nei'}")
        if r["missing_addresses"]:
            out.print(f"[yellow]Mangler adresse for: {', '.join(r['missing_addresses'])}[/]")

    show(result, as_json, render)


@app.command()
def policy(
    set_json: Annotated[
        str | None, typer.Option("--set", help="A new policy as JSON (see --json output).")
    ] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Show or replace the organisation's defaults: channels, quiet hours, digest time, lead
    times of reminders and when unread important notices escalate."""
    if set_json is not None:
        try:
            new = c.Policy.model_validate_json(set_json)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            err.print(f"[red]the policy is not valid[/]: {where}: {first['msg']}")
            raise typer.Exit(2) from None
        result = request(nats, org, "notifications", c.SetPolicy(actor=actor(staff), policy=new))
    else:
        result = request(nats, org, "notifications", c.GetPolicy(actor=actor(staff)))

    def render(r: dict[str, Any]) -> None:
        lt = r["lead_times"]
        q = r["quiet_hours"]
        out.print(f"Standardkanaler: {', '.join(r['default_channels']) or 'bare innboksen'}")
        out.print(f"Stille timer: {q['start'][:5]}–{q['end'][:5]}" if q else "Stille timer: ingen")
        out.print(f"Daglig oppsummering kl. {r['digest_at'][:5]}")
        out.print(f"Eskalering etter {r['escalate_after_hours']} timer uten lesing")
        out.print(
            f"Varsel før: evaluering {lt['evaluation_days']} d, tiltaksfrist "
            f"{lt['measure_deadline_days']} d, møte {lt['meeting_hours']} t, fornyelse ved 16 år "
            f"{lt['consent_renewal_days']} d, klagefrist {lt['appeal_days']} d; uten koordinator "
            f"etter {lt['without_coordinator_days']} d"
        )

    show(result, as_json, render)


@app.command()
def deliveries(
    notification: Annotated[uuid.UUID | None, typer.Option(help="Of one notice.")] = None,
    recipient: Annotated[str | None, typer.Option(help="Of one recipient.")] = None,
    status: Annotated[str | None, typer.Option(help="pending, sent, dead, ...")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Deliveries through channels, with attempts and the last error."""
    try:
        query = c.ListDeliveries(
            actor=actor(staff),
            notification_id=notification,
            recipient_id=_recipient(recipient).recipient_id(org) if recipient else None,
            status=status,
            limit=limit,
        )
    except ValidationError:
        raise typer.BadParameter(", ".join(STATUS), param_hint="--status") from None
    result = request(nats, org, "notifications", query)

    def render(r: dict[str, Any]) -> None:
        t = Table(title=f"Utsendinger ({len(r['deliveries'])})")
        for col in ("Kanal", "Status", "Forsøk", "Neste forsøk", "Feil", "Id"):
            t.add_column(col)
        for d in r["deliveries"]:
            t.add_row(
                d["channel"],
                STATUS.get(d["status"], d["status"]),
                str(d["attempts"]),
                local_time(d["next_attempt_at"]),
                d["last_error"] or "",
                d["delivery_id"],
            )
        out.print(t)

    show(result, as_json, render)


@app.command()
def resend(
    delivery_id: Annotated[uuid.UUID, typer.Argument(help="The delivery to send again.")],
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Send a delivery again from the first attempt (also: kenett dlq --resend SEQ)."""
    result = request(
        nats, org, "notifications", c.ResendDelivery(actor=actor(staff), delivery_id=delivery_id)
    )
    show(result, as_json, lambda r: out.print(f"Sendes på nytt via {r['channel']}"))


@app.command()
def reminders(
    case: Annotated[
        uuid.UUID | None,
        case_option("Of one case: its id or case number."),
    ] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Reminders on the clock, soonest first."""
    result = request(nats, org, "notifications", c.ListReminders(actor=actor(staff), case_id=case))

    def render(r: dict[str, Any]) -> None:
        t = Table(title="Påminnelser")
        for col in ("Type", "Punkt", "Dato", "Aktiv", "Varslet", "Sak"):
            t.add_column(col)
        for x in r["reminders"]:
            t.add_row(
                x["kind"],
                x["item_id"] or "",
                local_time(x["due_at"]),
                "ja" if x["active"] else "nei",
                ", ".join(x["fired"]),
                x["case_id"] or "",
            )
        out.print(t)

    show(result, as_json, render)


@app.command()
def channels(
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The channels this instance sends through."""
    result = request(nats, org, "notifications", c.ListChannels(actor=actor(staff)))

    def render(r: dict[str, Any]) -> None:
        t = Table(title="Kanaler")
        for col in ("Navn", "Tittel", "Stille timer", "Forsøk", "Beskrivelse"):
            t.add_column(col)
        for ch in r["channels"]:
            t.add_row(
                ch["name"],
                ch["title"],
                "ja" if ch["respects_quiet_hours"] else "nei",
                str(ch["attempts"]),
                ch["description"],
            )
        out.print(t)

    show(result, as_json, render)


@app.command()
def sweep(
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Fire due reminders, escalate, send digests and what waits, now."""
    result = request(nats, org, "notifications", c.SweepNotifications(actor=actor(staff)))
    show(
        result,
        as_json,
        lambda r: out.print(
            f"Påminnelser: {r['reminders']}, eskalert: {r['escalated']}, oppsummeringer: "
            f"{r['digests']}, sendt: {r['sent']}, prøves igjen: {r['retrying']}, "
            f"feilet: {r['dead']}"
        ),
    )
