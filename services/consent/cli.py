"""``kenett consent ...``: record, withdraw and read a case's consents (R5-R8).

Readable output is bokmål; ``--json`` prints the reply as one JSON object. Who recorded a
consent is the caller's staff id (``--actor``/``KENETT_ACTOR``), never a name.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from shared.clock import OSLO
from shared.contracts import consent as c
from shared.runtime.clitools import (
    DEFAULT_NATS,
    DEFAULT_ORG,
    ActorOpt,
    CaseId,
    JsonOpt,
    NatsOpt,
    OrgOpt,
    actor,
    local_end,
    local_time,
    moment,
    out,
    request,
    show,
)

app = typer.Typer(
    help="Consent: record, withdraw and read a case's consents (R5-R8).",
    no_args_is_help=True,
)

KIND = {
    "ip": "individuell plan",
    "coordinator": "koordinator",
    "sharing": "deling med tjenester",
    "next_of_kin": "pårørendes deltakelse",
}
HEARD = {
    "heard": "barnet er hørt",
    "could_not_be_heard": "barnet kunne ikke høres",
    "declined": "barnet ville ikke uttale seg",
}
GIVER = {
    "person": "personen selv",
    "parent": "forelder",
    "barnevern": "barnevernet",
    "representative": "representant",
}
STATUS = {
    "active": "gjeldende",
    "withdrawn": "trukket",
    "expired": "utløpt",
    "renewal_needed": "må fornyes (fylt 16)",
    "renewed": "erstattet av personens eget (fylt 16)",
}
FORM = {"oral": "muntlig", "written": "skriftlig"}


@app.command()
def record(
    case: CaseId,
    kind: Annotated[c.ConsentKind, typer.Argument(help="ip, coordinator, sharing, next_of_kin")],
    given_by: Annotated[
        c.GiverRole, typer.Option(help="Who gave it (R6): the person from 16, else parents.")
    ],
    form: Annotated[str, typer.Option(help="oral or written.")] = "oral",
    given_at: Annotated[
        str | None, typer.Option(help="When it was given (default now): YYYY-MM-DD or ISO time.")
    ] = None,
    legal_basis: Annotated[
        str | None, typer.Option(help="A representative's legal basis (e.g. vergemål).")
    ] = None,
    also_given_by: Annotated[
        c.GiverRole | None, typer.Option(help="The second parent, where both consent.")
    ] = None,
    parental_responsibility: Annotated[
        str | None, typer.Option(help="Under 16: one or both parents have it.")
    ] = None,
    valid_from: Annotated[
        str | None, typer.Option("--from", help="Counts from (YYYY-MM-DD), e.g. the 16th birthday.")
    ] = None,
    valid_until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="A time-limited consent holds through this day (YYYY-MM-DD), or ends at a "
            "time (YYYY-MM-DDTHH:MM).",
        ),
    ] = None,
    replaces: Annotated[
        uuid.UUID | None,
        typer.Option(
            help="The person's new decision replaces this consent of the same kind (R7): it "
            "is withdrawn as the new one is recorded, e.g. to share less.",
        ),
    ] = None,
    recipient: Annotated[
        list[str] | None, typer.Option("--to", help="Sharing: a service or organisation (repeat).")
    ] = None,
    relative: Annotated[
        list[str] | None, typer.Option(help="Next of kin: a relation such as mor (repeat).")
    ] = None,
    life_area: Annotated[
        list[c.LifeArea] | None, typer.Option(help="Sharing/next of kin: life areas (repeat).")
    ] = None,
    content: Annotated[
        list[c.ContentKind] | None, typer.Option(help="Sharing/next of kin: content (repeat).")
    ] = None,
    document_ref: Annotated[
        str | None, typer.Option(help="Where the written consent is filed.")
    ] = None,
    child_heard: Annotated[
        c.ChildHeard | None,
        typer.Option(
            help="R6: from 12 the child is heard before parents or barnevernet consent: heard, "
            "could_not_be_heard or declined (required then)."
        ),
    ] = None,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Record a consent with its evidence (R7): who gave it, how, when, and what it covers."""
    who = actor(staff)
    areas = life_area or list(c.LifeArea)
    kinds = content or list(c.ContentKind)
    cmd = c.RecordConsent(
        actor=who,
        case_id=case,
        kind=kind,
        given_by=c.GivenBy(role=given_by, legal_basis=legal_basis),
        also_given_by=c.GivenBy(role=also_given_by) if also_given_by else None,
        parental_responsibility=parental_responsibility,  # type: ignore[arg-type]
        valid_from=moment(valid_from, "--from"),
        valid_until=moment(valid_until, "--until", through=True),
        sharing=c.SharingScope(recipients=recipient, life_areas=areas, content_kinds=kinds)
        if recipient
        else None,
        next_of_kin=c.NextOfKinScope(relatives=relative, life_areas=areas, content_kinds=kinds)
        if relative
        else None,
        form=form,  # type: ignore[arg-type]
        recorded_by=who.id,
        given_at=moment(given_at, "--given-at") or datetime.now(OSLO),
        document_ref=document_ref,
        child_heard=child_heard,
        replaces=replaces,
    )
    result = request(nats, org, "consent", cmd)

    def render(r: dict[str, Any]) -> None:
        out.print(f"Samtykke til {KIND[r['kind']]} registrert ({r['consent_id']}).")
        if r.get("replaced"):
            out.print(f"Det erstatter samtykket {r['replaced']}, som nå er trukket tilbake.")

    show(result, as_json, render)


@app.command()
def withdraw(
    consent_id: Annotated[uuid.UUID, typer.Argument(help="The consent.")],
    form: Annotated[str, typer.Option(help="oral or written.")] = "oral",
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Withdraw a consent (R7): coordination or sharing on it stops; nothing is deleted."""
    who = actor(staff)
    cmd = c.WithdrawConsent(
        actor=who,
        consent_id=consent_id,
        form=form,  # type: ignore[arg-type]
        recorded_by=who.id,
    )
    result = request(nats, org, "consent", cmd)
    show(
        result,
        as_json,
        lambda r: out.print(
            "Samtykket er trukket."
            if r["status"] == "withdrawn"
            else f"Samtykket er endret: {STATUS.get(r['status'], r['status'])}."
        ),
    )


@app.command("list")
def list_consents(
    case: CaseId,
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """The case's consents and every change to them, oldest first (R7)."""
    result = request(nats, org, "consent", c.ListConsents(actor=actor(staff), case_id=case))

    now = datetime.now(UTC)

    def render(r: dict[str, Any]) -> None:
        table = Table(title=f"Samtykker ({len(r['consents'])})")
        for col in ("Til", "Status", "Gitt av", "Form", "Gitt", "Gjelder", "Omfang", "Id"):
            table.add_column(col)
        for v in r["consents"]:
            givers = ", ".join(
                GIVER.get(str(g.get("role")), str(g.get("role"))) for g in v["givers"]
            )
            if v.get("child_heard"):
                givers += f" ({HEARD[v['child_heard']]})"
            scope = v["scope"] or {}
            grantees = ", ".join(str(x) for x in scope.get("grantees", []))  # type: ignore[attr-defined]
            status = (
                "gjelder fra " + local_time(v["valid_from"])
                if v["status"] == "active" and datetime.fromisoformat(v["valid_from"]) > now
                else STATUS.get(v["status"], v["status"])
            )
            if any(h.get("change") == "replaced" for h in v.get("history", [])):
                # R7: the person's later decision replaced it (consent record --replaces).
                status += " (erstattet)"
            table.add_row(
                KIND.get(v["kind"], v["kind"]),
                status,
                givers,
                FORM.get(v["form"], v["form"]),
                local_time(v["given_at"]),
                f"{local_time(v['valid_from'])} – "
                + (local_end(v["valid_until"]) if v["valid_until"] else ""),
                grantees or "–",
                str(v["consent_id"]),
            )
        out.print(table)

    show(result, as_json, render)


@app.command()
def sweep(
    nats: NatsOpt = DEFAULT_NATS,
    org: OrgOpt = DEFAULT_ORG,
    staff: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Expire time-limited consents, let parents' consents lapse at 16, and put into force
    consents whose later start has come, now (R6, R7)."""
    result = request(nats, org, "consent", c.SweepConsents(actor=actor(staff)))
    show(
        result,
        as_json,
        lambda r: out.print(
            f"Utløpt: {len(r['expired'])}, må fornyes: {len(r['renewal_needed'])}, "
            f"erstattet: {len(r.get('renewed', []))}, trådt i kraft: {len(r.get('in_force', []))}."
        ),
    )
