"""The hospital takes part in a municipal plan, as far as the person's consent allows, and its
updates flow back; a person moves and the case follows (R7, R16, R17)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from shared.client import RequestFailed
from shared.clock import OSLO, local_today
from shared.contracts import consent as c
from shared.contracts import planning as p
from shared.contracts.federation import (
    GetSharedPlan,
    ListLinks,
    SweepFederation,
    TransferCase,
    UpdateMeasure,
)
from shared.contracts.intake import GetCaseDetail
from shared.contracts.xorg import open_message, parse_message
from shared.federation.topology import load_org_file, out_stream
from tests.helpers import oslo_today, read_stream, record_consent, register_coordinator

from .conftest import (
    BOTH_DATABASES,
    HOSPITAL,
    IVELAND,
    LUND,
    Federation,
    Org,
    link_view,
    report_from_hospital,
    staff,
    until_receipt,
)

pytestmark = pytest.mark.kenett_settings(auto_appoint=True)

HEALTH, HOUSING, DAYTIME = (
    c.LifeArea.HEALTH_CARE,
    c.LifeArea.HOUSING,
    c.LifeArea.DAYTIME,
)
HOSPITAL_PARTY = p.Party(kind=p.PartyKind.SERVICE, ref=HOSPITAL)
SECRETS = (
    "Jeg vil klare meg selv hjemme",  # a goal
    "Trenger tilrettelagt bolig",  # a need in another life area
    "Hjemmesykepleie morgen og kveld",  # another service's measure
    "Bolig med bemanning",  # the hospital's measure where the consent does not reach
    "Samarbeid med NAV",
)


def content(today: date) -> p.PlanContent:
    return p.PlanContent(
        goals=[p.Goal(text=SECRETS[0], horizon=p.Horizon.LONG, life_area=HEALTH)],
        resources_needs=[p.ResourceNeed(kind="need", life_area=HOUSING, text=SECRETS[1])],
        measures=[
            p.Measure(
                title="Opptrening etter utskrivning",
                life_area=HEALTH,
                scope="To ganger i uken",
                responsible=HOSPITAL_PARTY,
                start=today,
                deadline=today + timedelta(days=30),
            ),
            p.Measure(
                title=SECRETS[2],
                life_area=HEALTH,
                responsible=p.Party(kind=p.PartyKind.SERVICE, ref="hjemmesykepleien"),
                start=today,
            ),
            p.Measure(title=SECRETS[3], life_area=HOUSING, responsible=HOSPITAL_PARTY),
        ],
        cooperation=[p.Cooperation(agency="NAV", purpose=SECRETS[4])],
    )


async def municipal_plan(org: Org, case_id: uuid.UUID) -> tuple[p.GateActor, int]:
    """Lund: consents, a coordinator (appointed by itself), and a saved plan."""
    await org.cmd("assignment", register_coordinator(actor=staff(org.code)))
    for kind in (c.ConsentKind.COORDINATOR, c.ConsentKind.IP):
        await org.cmd("consent", record_consent(case_id, kind, actor=staff(org.code)))
    await org.event("planning.plan_created", case_id)
    head = p.PlanView.model_validate(
        await org.query("planning", p.GetPlan(actor=staff(org.code), case_id=case_id))
    )
    by = c.GateActor(kind="coordinator", id=str(head.coordinator_id))
    written = await org.cmd(
        "planning",
        p.SavePlan(
            actor=staff(org.code),
            case_id=case_id,
            expected_version=1,
            by=by,
            content=content(oslo_today()),
        ),
    )
    return by, written["version"]


async def share_consent(org: Org, case_id: uuid.UUID, to: str, **scope: Any) -> uuid.UUID:
    recorded = await org.cmd(
        "consent",
        record_consent(
            case_id,
            c.ConsentKind.SHARING,
            actor=staff(org.code),
            sharing=c.SharingScope(recipients=[to], **scope),
        ),
    )
    return uuid.UUID(recorded["consent_id"])


async def shared_with(org: Org, link_id: uuid.UUID) -> dict[str, Any]:
    return await org.query("federation", GetSharedPlan(actor=staff(org.code), link_id=link_id))


async def everything_sent_by(federation: Federation, sender: str) -> list[dict[str, Any]]:
    """Every message that ever left ``sender``, opened with its recipient's key."""
    org = federation[sender]
    msgs = await read_stream(org.nc.jetstream(), out_stream(sender), f"kenett-xorg.*.{sender}")
    opened = []
    for raw in msgs:
        m = parse_message(raw.data)
        key = load_org_file(federation.servers.federation_file(m.recipient)).key()
        opened.append({"type": m.type, "payload": open_message(m, key).model_dump(mode="json")})
    return opened


@BOTH_DATABASES
async def test_r7_r16_r17_the_hospital_sees_its_measures_as_consent_allows_and_reports_back(
    federation: Federation, national_id: str
) -> None:
    hospital, lund = federation[HOSPITAL], federation[LUND]
    link_id, case_id = await report_from_hospital(federation, national_id)
    by, version = await municipal_plan(lund, case_id)
    consent_id = await share_consent(
        lund, case_id, HOSPITAL, life_areas=[HEALTH], content_kinds=[c.ContentKind.MEASURES]
    )

    async def shared() -> bool:
        return bool((await shared_with(hospital, link_id))["measures"])

    await hospital.until(shared)
    view = await shared_with(hospital, link_id)
    assert [m["title"] for m in view["measures"]] == ["Opptrening etter utskrivning"]
    assert view["from_org"] == LUND and view["plan_version"] == version
    measure_id = view["measures"][0]["id"]

    # The hospital reports the measure done; Lund's plan gets a new version, and the share
    # that follows shows it.
    sent = await hospital.cmd(
        "federation",
        UpdateMeasure(
            actor=staff(HOSPITAL),
            link_id=link_id,
            measure_id=measure_id,
            status=p.MeasureStatus.DONE,
            note="Gjennomført",
        ),
    )
    receipt = await until_receipt(hospital, link_id, sent["message_id"])
    assert receipt["status"] == "accepted", receipt
    doc = p.PlanAccess.model_validate(
        await lund.query("planning", p.ViewPlan(actor=staff(LUND), case_id=case_id, who=by))
    ).document
    assert doc is not None
    assert {m.title: m.status for m in doc.content.measures}[
        "Opptrening etter utskrivning"
    ] == "done"

    async def done_at_the_hospital() -> bool:
        measures = (await shared_with(hospital, link_id))["measures"]
        return bool(measures) and measures[0]["status"] == "done"

    await hospital.until(done_at_the_hospital)

    # Withdrawn consent takes back what was shared (R7).
    await lund.cmd(
        "consent",
        c.WithdrawConsent(
            actor=staff(LUND), consent_id=consent_id, form="written", recorded_by="ke-lund"
        ),
    )

    async def taken_back() -> bool:
        return (await shared_with(hospital, link_id))["measures"] == []

    await hospital.until(taken_back)

    # Nothing the consent did not cover ever left Lund (data minimisation).
    sent_by_lund = json.dumps(await everything_sent_by(federation, LUND), ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in sent_by_lund
    assert "Opptrening etter utskrivning" in sent_by_lund  # the check can see the allowed one

    # The person's access log at Lund says what went to the hospital, and when (disclosures).
    log = await lund.client.access_log(staff(LUND), case_id)
    shares = [e for e in log.entries if e.action == "federation.sent.plan_share"]
    assert len(shares) >= 3  # shared, updated, taken back
    assert {(e.access, e.to, e.actor_kind, e.service) for e in shares} == {
        ("disclose", HOSPITAL, "service", "federation")
    }
    # Measures went on the person's consent (R7); taking them back disclosed nothing.
    assert {e.basis for e in shares} == {"consent", None}


@BOTH_DATABASES
async def test_r7_r11_r17_a_person_moves_and_the_case_follows_with_consent(
    federation: Federation, national_id: str
) -> None:
    lund, iveland = federation[LUND], federation[IVELAND]
    _link, case_id = await report_from_hospital(federation, national_id)
    await municipal_plan(lund, case_id)

    # Without a consent naming Iveland, nothing is sent.
    with pytest.raises(RequestFailed) as refused:
        await lund.cmd("federation", TransferCase(actor=staff(LUND), case_id=case_id, to=IVELAND))
    assert refused.value.error.code == "forbidden"
    assert refused.value.error.fields[0].field == "to"
    links = await lund.query("federation", ListLinks(actor=staff(LUND), case_id=case_id))
    assert len(links["links"]) == 1  # only the hospital's

    await share_consent(
        lund,
        case_id,
        IVELAND,
        life_areas=[HEALTH],
        content_kinds=[c.ContentKind.MEASURES, c.ContentKind.GOALS],
    )
    moving_on = local_today(lund.clock) + timedelta(days=14)
    sent = await lund.cmd(
        "federation",
        TransferCase(
            actor=staff(LUND),
            case_id=case_id,
            to=IVELAND,
            moving_on=moving_on,
        ),
    )
    link_id = uuid.UUID(sent["link_id"])
    receipt = await until_receipt(lund, link_id, sent["message_id"])
    assert receipt["status"] == "accepted", receipt
    new_ref = receipt["reference"]

    # Iveland has the case (from the old municipality's KE) and the plan as far as consent goes.
    there = await link_view(iveland, link_id)
    assert there["case_ref"] == new_ref
    detail = await iveland.query(
        "intake", GetCaseDetail(actor=staff(IVELAND), case_id=there["case_id"])
    )
    assert detail["reports"][0]["reporter_kind"] == "ke"
    assert detail["reports"][0]["basis"] == "consent"  # a move is sent only on consent (R7)
    log = await lund.client.access_log(staff(LUND), case_id)
    moved = [e for e in log.entries if e.action == "federation.sent.case_transfer"]
    assert [(e.access, e.to, e.basis) for e in moved] == [("disclose", IVELAND, "consent")]
    plan = await shared_with(iveland, link_id)
    assert plan["kind"] == "transfer"
    assert [g["text"] for g in plan["plan"]["goals"]] == [SECRETS[0]]
    assert {m["title"] for m in plan["plan"]["measures"]} == {
        "Opptrening etter utskrivning",
        SECRETS[2],
    }
    assert plan["plan"]["cooperation"] == [] and plan["plan"]["resources_needs"] == []

    # The old municipality's case stays open, with its coordinator, until the moving day
    # (R11): then the sweep closes it, reason moved.
    d = await lund.query("intake", GetCaseDetail(actor=staff(LUND), case_id=case_id))
    assert d["status"] != "closed"
    swept = await lund.cmd("federation", SweepFederation(actor=staff(LUND)))
    assert swept["moved_cases_closed"] == 0
    lund.clock.set(datetime.combine(moving_on, time(8), OSLO))
    swept = await lund.cmd("federation", SweepFederation(actor=staff(LUND)))
    assert swept["moved_cases_closed"] == 1
    again = await lund.cmd("federation", SweepFederation(actor=staff(LUND)))
    assert again["moved_cases_closed"] == 0  # once

    async def closed() -> bool:
        d = await lund.query("intake", GetCaseDetail(actor=staff(LUND), case_id=case_id))
        return d["status"] == "closed"

    await lund.until(closed)
    d = await lund.query("intake", GetCaseDetail(actor=staff(LUND), case_id=case_id))
    assert d["closed_reason"] == "moved"
    links = await lund.query("federation", ListLinks(actor=staff(LUND), case_id=case_id))
    assert {tuple(sorted(link["parties"])) for link in links["links"]} == {
        (LUND, HOSPITAL),
        (IVELAND, LUND),
    }
    # A page at a time, newest first (a hospital's KE links thousands of cases).
    first = await lund.query("federation", ListLinks(actor=staff(LUND), case_id=case_id, limit=1))
    rest = await lund.query(
        "federation", ListLinks(actor=staff(LUND), case_id=case_id, limit=1, offset=1)
    )
    assert (first["total"], first["next_offset"], rest["next_offset"]) == (2, 1, None)
    assert [first["links"][0]["link_id"], rest["links"][0]["link_id"]] == [
        link["link_id"] for link in links["links"]
    ]
    # The plan at Lund closes with the case: the person moved (R16).
    await lund.event("planning.status_changed", case_id, to_status="closed")
    head = p.PlanView.model_validate(
        await lund.query("planning", p.GetPlan(actor=staff(LUND), case_id=case_id))
    )
    assert (head.status, head.status_reason) == ("closed", "moved")
