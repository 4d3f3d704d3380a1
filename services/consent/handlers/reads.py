"""Reading consents: the history (R7), the gate (R5-R8), and FHIR R4 export."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam
from sqlmodel import col, select

from services.consent.domain import decider_refusal, lapses_at_sixteen
from services.consent.gate import ConsentFacts, decide
from services.consent.store import Consent, ConsentCase, ConsentChange
from shared.clock import age_on, local_today
from shared.contracts.consent import (
    UNKNOWN_CASE,
    ConsentHistory,
    ConsentView,
    ContentKind,
    ExportFhir,
    FhirBundle,
    GateDecision,
    GiverRole,
    LifeArea,
    ListConsents,
    MayQuery,
    SharedPart,
)
from shared.contracts.replies import CommandRejected, FieldError
from shared.db.fast import FastStatement
from shared.db.uow import UnitOfWork
from shared.service import ServiceContext


async def _consents(uow: UnitOfWork, case_id: Any) -> list[Consent]:
    rows = await uow.session.exec(
        select(Consent)
        .where(Consent.org == uow.org, Consent.case_id == case_id)
        .order_by(col(Consent.recorded_at))
    )
    return list(rows)


def facts(
    consent_id: Any,
    kind: str,
    status: str,
    valid_from: Any,
    valid_until: Any,
    scope_json: str | None,
    lapses_on: date | None = None,
) -> ConsentFacts:
    """What the gate needs of one consent row."""
    scope = json.loads(scope_json) if scope_json else {}
    return ConsentFacts(
        consent_id=consent_id,
        kind=kind,
        status=status,
        valid_from=valid_from,
        valid_until=valid_until,
        grantees=frozenset(scope.get("grantees", ())),
        life_areas=frozenset(scope.get("life_areas", ())),
        content_kinds=frozenset(scope.get("content_kinds", ())),
        lapses_on=lapses_on,
    )


def lapses_on(giver_role: str, sixteen_on: date | None) -> date | None:
    """R6: the day a consent given on a child's behalf stops counting, or None. The first
    giver's role is enough: a second giver is only ever a second parent (``parents_refusal``)."""
    return sixteen_on if lapses_at_sixteen([giver_role]) else None


_GATE_COLUMNS = (
    Consent.id,
    Consent.kind,
    Consent.status,
    Consent.valid_from,
    Consent.given_at,
    Consent.valid_until,
    Consent.scope,
)


def make_may(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    """The gate, answered from consent's own tables with one read-only SELECT (hot path)."""
    # With the giver's role and the case's 16th birthday (R6), in the same one SELECT.
    statement = FastStatement(
        select(  # type: ignore[call-overload]
            *_GATE_COLUMNS, Consent.giver_role, ConsentCase.sixteen_on
        )
        .select_from(Consent)
        .outerjoin(
            ConsentCase,
            and_(
                col(ConsentCase.case_id) == col(Consent.case_id),
                col(ConsentCase.org) == col(Consent.org),
            ),
        )
        .where(Consent.org == bindparam("org"), Consent.case_id == bindparam("case_id"))
    )

    birth = FastStatement(
        select(col(ConsentCase.birth_date)).where(
            ConsentCase.org == bindparam("org"), ConsentCase.case_id == bindparam("case_id")
        )
    )
    givers = FastStatement(
        select(  # type: ignore[call-overload]
            Consent.givers,
            Consent.giver_role,
            Consent.status,
            Consent.valid_from,
            Consent.given_at,
            Consent.valid_until,
        ).where(
            Consent.org == bindparam("org"),
            Consent.case_id == bindparam("case_id"),
            col(Consent.kind).in_(["ip", "coordinator"]),
        )
    )

    async def may_choose(q: MayQuery) -> GateDecision:
        """Who may choose the coordination tool (R13) is who decides for the person (R6): the
        person by their age today; anyone else only as the giver of a consent in force to an
        IP or a coordinator (a parent or barnevernet for a child, a representative with the
        legal basis recorded for an adult)."""
        assert q.chooser is not None  # the contract requires it with choose_tool
        key = {"org": ctx.org, "case_id": q.case_id}
        async with ctx.db.reader() as conn:
            rows = await birth.fetch(conn, key, alone=True)
        if not rows:
            return GateDecision(allow=False, reason=UNKNOWN_CASE)
        now = ctx.clock.now()
        refusal = decider_refusal(
            q.chooser, age_on(rows[0][0], local_today(ctx.clock)), "choose the tool"
        )
        if refusal is None and q.chooser is not GiverRole.PERSON:
            async with ctx.db.reader() as conn:
                consents = await givers.fetch(conn, key, alone=True)
            roles = {
                giver.get("role", role)
                for givers_json, role, status, valid_from, given_at, valid_until in consents
                if facts(None, "", status, valid_from or given_at, valid_until, None).in_force(now)
                for giver in (json.loads(givers_json or "[]") or [{"role": role}])
            }
            if q.chooser.value not in roles:
                refusal = (
                    f"no consent in force was given by {q.chooser.value} for this person: only "
                    f"those who consent on the person's behalf choose for them (R6)"
                )
        if refusal is not None:
            return GateDecision(allow=False, reason=refusal)
        return GateDecision(allow=True, reason=f"{q.chooser.value} may choose the tool (R6, R13)")

    async def may(q: MayQuery) -> GateDecision:
        if q.action == "choose_tool":
            return await may_choose(q)
        async with ctx.db.reader() as conn:
            rows = await statement.fetch(conn, {"org": ctx.org, "case_id": q.case_id}, alone=True)
        consents = [
            facts(
                cid,
                kind,
                status,
                valid_from or given_at,
                valid_until,
                scope_json,
                lapses_on(role, sixteen_on),
            )
            for (
                cid,
                kind,
                status,
                valid_from,
                given_at,
                valid_until,
                scope_json,
                role,
                sixteen_on,
            ) in rows
        ]
        verdict = decide(
            consents,
            who_kind=q.who.kind,
            who_id=q.who.id,
            action=q.action,
            life_area=q.life_area,
            content_kind=q.content_kind,
            now=ctx.clock.now(),
        )
        return GateDecision(
            allow=verdict.allow,
            reason=verdict.reason,
            consent_id=verdict.consent_id,
            parts=None
            if verdict.parts is None
            else [
                SharedPart(life_area=LifeArea(a), content_kind=ContentKind(k))
                for a, k in sorted(verdict.parts)
            ],
        )

    return may


async def history(uow: UnitOfWork, q: ListConsents) -> ConsentHistory:
    """Every consent of a case with its evidence, scope and every change (R7)."""
    consents = await _consents(uow, q.case_id)
    changes = await uow.session.exec(
        select(ConsentChange)
        .where(ConsentChange.case_id == q.case_id)
        .order_by(col(ConsentChange.seq))
    )
    by_consent: dict[Any, list[dict[str, object]]] = {}
    for ch in changes:
        by_consent.setdefault(ch.consent_id, []).append(
            {"at": ch.at.isoformat(), "change": ch.change, "by": ch.by, "form": ch.form}
        )
    return ConsentHistory(
        case_id=q.case_id,
        consents=[
            ConsentView(
                consent_id=c.id,
                kind=c.kind,
                status=c.status,
                givers=json.loads(c.givers),  # type: ignore[arg-type]
                form=c.form,
                recorded_by=c.recorded_by,
                given_at=c.given_at,
                valid_from=c.valid_from or c.given_at,
                valid_until=c.valid_until,
                document_ref=c.document_ref,
                scope=json.loads(c.scope) if c.scope else None,
                history=by_consent.get(c.id, []),
                child_heard=c.child_heard,  # type: ignore[arg-type]
            )
            for c in consents
        ],
    )


_FHIR_STATUS = {
    "active": "active",
    "withdrawn": "inactive",
    "expired": "inactive",
    "renewal_needed": "inactive",
    "renewed": "inactive",
}
_POLICY = {
    "ip": "https://lovdata.no/lov/1999-07-02-63/§2-5",
    "coordinator": "https://lovdata.no/lov/2011-06-24-30/§7-2",
    "sharing": "https://lovdata.no/lov/1999-07-02-64/§22",
    "next_of_kin": "https://lovdata.no/lov/1999-07-02-63/§3-3",
}


def to_fhir(c: Consent, case: ConsentCase) -> dict[str, Any]:
    """One consent as a FHIR R4 Consent (validated by fhir.resources' R4B model, whose Consent
    is R4's). The patient is referenced by case, never by identity number."""
    from fhir.resources.R4B.consent import Consent as FhirConsent

    scope = json.loads(c.scope) if c.scope else None
    period = {"start": (c.valid_from or c.given_at).isoformat()}
    if c.valid_until:
        period["end"] = c.valid_until.isoformat()
    provision: dict[str, Any] = {"type": "permit", "period": period}
    if scope:
        actor_role = "IRCP" if c.kind == "sharing" else "NOK"
        provision["actor"] = [
            {
                "role": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                            "code": actor_role,
                        }
                    ]
                },
                "reference": {"display": grantee},
            }
            for grantee in scope["grantees"]
        ]
        provision["class"] = [
            {"system": "urn:kenett:life-area", "code": a} for a in scope["life_areas"]
        ] + [{"system": "urn:kenett:content-kind", "code": k} for k in scope["content_kinds"]]
    resource = {
        "resourceType": "Consent",
        "id": str(c.id),
        "status": _FHIR_STATUS[c.status],
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy"
                    if c.kind in ("sharing", "next_of_kin")
                    else "treatment",
                }
            ]
        },
        "category": [{"coding": [{"system": "urn:kenett:consent-kind", "code": c.kind}]}],
        "patient": {
            "reference": f"EpisodeOfCare/{case.case_id}",
            "display": f"sak {case.case_ref}",
        },
        "dateTime": c.given_at.isoformat(),
        "performer": [{"display": g["role"]} for g in json.loads(c.givers)],
        "policyRule": {"coding": [{"system": "urn:kenett:policy", "code": _POLICY[c.kind]}]},
        "sourceReference": {"display": c.document_ref} if c.document_ref else None,
        "verification": [
            {
                "verified": True,
                "verifiedWith": {"display": c.recorded_by},
                "verificationDate": c.recorded_at.isoformat(),
            }
        ],
        "provision": provision,
    }
    resource = {k: v for k, v in resource.items() if v is not None}
    return json.loads(FhirConsent.model_validate(resource).model_dump_json(exclude_none=True))  # type: ignore[no-any-return]


async def export_fhir(uow: UnitOfWork, q: ExportFhir) -> FhirBundle:
    """The case's consents as a FHIR Bundle of type collection."""
    case = await uow.session.get(ConsentCase, q.case_id)
    if case is None:
        raise CommandRejected(
            "not_found", "no such case", [FieldError(field="case_id", reason="unknown case")]
        )
    entries = [{"resource": to_fhir(c, case)} for c in await _consents(uow, q.case_id)]
    return FhirBundle(bundle={"resourceType": "Bundle", "type": "collection", "entry": entries})
