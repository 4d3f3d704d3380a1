"""Intake's flows on a real nats-server, SQLite and PostgreSQL: eligibility (R1), decisions and
letters (R3, R4), appeals, the lifecycle, offers (R18), waiting times, bad input."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from shared.client import RequestFailed
from shared.clock import FixedClock, local_today
from shared.contracts import intake
from tests.conftest import System
from tests.helpers import STAFF, national_id, oslo_today, report_need

pytestmark = pytest.mark.nats


async def cmd(system: System, command) -> dict:
    return await system.client.command("intake", command)


async def qry(system: System, query) -> dict:
    return await system.client.query("intake", query)


async def new_case(system: System, **kw) -> intake.ReportNeedResult:
    return intake.ReportNeedResult.model_validate(await cmd(system, report_need(**kw)))


async def assessed(system: System, services=None, duration="year_or_more") -> uuid.UUID:
    case = await new_case(system, **({"services": services} if services else {}))
    await cmd(
        system,
        intake.AssessEligibility(actor=STAFF, case_id=case.case_id, expected_duration=duration),
    )
    return case.case_id


async def test_r1_r18_assessment_proposes_with_reasons_and_points_to_offers(system: System) -> None:
    offer = intake.OfferResult.model_validate(
        await cmd(
            system,
            intake.RegisterOffer(
                actor=STAFF,
                name="Hverdagsrehabilitering",
                kind="rehabilitation",
                level="municipal",
                provider="Lund kommune, Helse og omsorg",
                contact="Tjenestekontoret, tlf. 38 00 00 00",
                service_types=["fysioterapi", "ergoterapi"],
            ),
        )
    )
    case = await new_case(system, services=["hjemmesykepleie", "fysioterapi", "fastlege"])
    result = intake.EligibilityResult.model_validate(
        await cmd(
            system,
            intake.AssessEligibility(
                actor=STAFF, case_id=case.case_id, expected_duration="permanent"
            ),
        )
    )
    assert result.proposal == "meets"
    assert any("Regnes ikke med (R1): Fastlege" in r for r in result.reasons)
    assert [o.offer_id for o in result.offers] == [offer.offer_id]
    detail = intake.CaseDetail.model_validate(
        await qry(system, intake.GetCaseDetail(actor=STAFF, case_id=case.case_id))
    )
    assert detail.status == "under_assessment"
    assert detail.assessments[0]["proposal"] == "meets"
    ev = system.events
    await ev.wait_until(lambda: ev.matching("intake.eligibility_assessed", case.case_id), 10)
    changes = await ev.wait_until(
        lambda: ev.matching("intake.case_status_changed", case.case_id), 10
    )
    assert (changes[0].payload["previous"], changes[0].payload["status"]) == (
        "received",
        "under_assessment",
    )


async def test_r3_ip_decision_letter_tells_how_and_when_to_appeal(system: System) -> None:
    case_id = await assessed(system)
    notified = oslo_today()
    decision = intake.DecisionResult.model_validate(
        await cmd(
            system,
            intake.MakeDecision(
                actor=STAFF,
                case_id=case_id,
                kind="ip",
                granted=True,
                grounds="Du mottar hjemmesykepleie og fysioterapi over lang tid.\n\nTjenestene må "
                "samordnes.",
                notified_on=notified,
            ),
        )
    )
    assert decision.appeal_deadline is not None
    assert decision.appeal_deadline >= notified + timedelta(weeks=4)
    letter = intake.Letter.model_validate(
        await qry(system, intake.RenderLetter(actor=STAFF, decision_id=decision.decision_id))
    )
    assert letter.title == "Vedtak om individuell plan"
    for phrase in (
        "Du har rett til individuell plan",
        "Statsforvalteren",
        "4 uker",
        "pasient- og brukerrettighetsloven § 7-5",
        "Tjenestene må samordnes.",
    ):
        assert phrase in letter.html
    with_pdf = intake.Letter.model_validate(
        await qry(
            system, intake.RenderLetter(actor=STAFF, decision_id=decision.decision_id, pdf=True)
        )
    )
    assert with_pdf.pdf_base64 is not None
    pdf = PdfReader(io.BytesIO(base64.b64decode(with_pdf.pdf_base64)))
    assert "Klageadgang" in pdf.pages[0].extract_text()
    windows = intake.AppealDeadlines.model_validate(
        await qry(system, intake.ListAppealDeadlines(actor=STAFF))
    )
    assert [w.decision_id for w in windows.windows] == [decision.decision_id]


async def test_r3_open_appeal_windows_come_a_page_at_a_time_soonest_first(
    system: System, clock: FixedClock
) -> None:
    """The KE's list of open appeal windows is paged: a busy KE's list can outgrow one reply."""
    decided = []
    for _ in range(3):
        result = intake.DecisionResult.model_validate(
            await cmd(
                system,
                intake.MakeDecision(
                    actor=STAFF,
                    case_id=await assessed(system),
                    kind="ip",
                    granted=True,
                    grounds="Du har behov for langvarige og koordinerte tjenester.",
                    notified_on=local_today(clock),
                ),
            )
        )
        decided.append(result)
        clock.advance(timedelta(days=3))
    soonest_first = [d.decision_id for d in sorted(decided, key=lambda d: d.appeal_deadline)]

    async def page(**kw: int) -> intake.AppealDeadlines:
        return intake.AppealDeadlines.model_validate(
            await qry(system, intake.ListAppealDeadlines(actor=STAFF, **kw))
        )

    first = await page(limit=2)
    assert (len(first.windows), first.total, first.next_offset) == (2, 3, 2)
    rest = await page(limit=2, offset=first.next_offset)
    assert (len(rest.windows), rest.total, rest.next_offset) == (1, 3, None)
    assert [w.decision_id for w in first.windows + rest.windows] == soonest_first
    assert [w.days_left for w in first.windows] == sorted(w.days_left for w in first.windows)
    everything = await page()
    assert [w.decision_id for w in everything.windows] == soonest_first
    assert everything.next_offset is None
    with pytest.raises(RequestFailed) as refused:
        await qry(system, intake.ListAppealDeadlines.model_construct(actor=STAFF, limit=501))
    assert refused.value.error.code == "validation_failed"
    assert [f.field for f in refused.value.error.fields] == ["limit"]


async def test_r4_coordinator_decision_has_no_appeal(system: System) -> None:
    case_id = await assessed(system)
    decision = intake.DecisionResult.model_validate(
        await cmd(
            system,
            intake.MakeDecision(
                actor=STAFF,
                case_id=case_id,
                kind="coordinator",
                granted=True,
                grounds="Du har behov for en fast kontaktperson.",
            ),
        )
    )
    assert decision.appeal_deadline is None
    letter = intake.Letter.model_validate(
        await qry(system, intake.RenderLetter(actor=STAFF, decision_id=decision.decision_id))
    )
    assert "kan ikke påklages" in letter.html
    assert "Klagefristen" not in letter.html
    with pytest.raises(RequestFailed) as exc:
        await cmd(
            system,
            intake.RegisterAppeal(
                actor=STAFF, decision_id=decision.decision_id, received_on=oslo_today()
            ),
        )
    assert "cannot be appealed (R4)" in exc.value.error.fields[0].reason


async def test_r3_an_appeal_is_registered_in_time_or_marked_late(
    system: System, clock: FixedClock
) -> None:
    case_id = await assessed(system)
    decision = intake.DecisionResult.model_validate(
        await cmd(
            system,
            intake.MakeDecision(
                actor=STAFF, case_id=case_id, kind="ip", granted=False, grounds="Kun én tjeneste."
            ),
        )
    )
    assert decision.appeal_deadline is not None
    clock.advance(timedelta(days=60))
    today = local_today(clock)
    late = intake.AppealResult.model_validate(
        await cmd(
            system,
            intake.RegisterAppeal(actor=STAFF, decision_id=decision.decision_id, received_on=today),
        )
    )
    assert late.in_time is False
    assert late.deadline == decision.appeal_deadline
    # One appeal per decision: the same letter registered again sends the KE no second notice.
    with pytest.raises(RequestFailed) as again:
        await cmd(
            system,
            intake.RegisterAppeal(actor=STAFF, decision_id=decision.decision_id, received_on=today),
        )
    assert again.value.error.code == "conflict"
    assert str(late.appeal_id) in again.value.error.fields[0].reason
    # The KE sees the appeal with the case.
    detail = intake.CaseDetail.model_validate(
        await qry(system, intake.GetCaseDetail(actor=STAFF, case_id=case_id))
    )
    assert [(a["decision_id"], a["in_time"]) for a in detail.appeals] == [
        (str(decision.decision_id), False)
    ]

    other = await assessed(system)
    refused = intake.DecisionResult.model_validate(
        await cmd(
            system,
            intake.MakeDecision(
                actor=STAFF, case_id=other, kind="ip", granted=False, grounds="Kun én tjeneste."
            ),
        )
    )
    # No appeal of a decision before it was made.
    for dates in (
        {"received_on": today - timedelta(days=1)},
        {"sent_on": today - timedelta(days=1)},
    ):
        with pytest.raises(RequestFailed) as early:
            await cmd(
                system,
                intake.RegisterAppeal(
                    actor=STAFF,
                    decision_id=refused.decision_id,
                    **{"received_on": today, **dates},
                ),
            )
        assert early.value.error.fields[0].field == next(iter(dates))
        assert "before the decision" in early.value.error.fields[0].reason
    clock.advance(timedelta(days=60))
    posted_in_time = intake.AppealResult.model_validate(
        await cmd(
            system,
            intake.RegisterAppeal(
                actor=STAFF,
                decision_id=refused.decision_id,
                received_on=local_today(clock),
                sent_on=refused.appeal_deadline,
            ),
        )
    )
    assert posted_in_time.in_time is True  # forvaltningsloven § 30


async def test_r3_a_decision_cannot_be_backdated(system: System) -> None:
    case_id = await assessed(system)
    with pytest.raises(RequestFailed) as exc:
        await cmd(
            system,
            intake.MakeDecision(
                actor=STAFF,
                case_id=case_id,
                kind="ip",
                granted=True,
                grounds="x",
                notified_on=oslo_today() - timedelta(days=10),
            ),
        )
    assert exc.value.error.fields[0].field == "notified_on"


async def test_r1_services_outside_the_catalogue_from_old_reports_are_skipped_not_fatal(
    system: System,
) -> None:
    case = await new_case(system)
    async with system.host.contexts["intake"].uow() as uow:
        await uow.session.exec(
            text("UPDATE intake_report SET services = :s WHERE case_id = :c").bindparams(
                s='["hjemmesykepleie", "fysioterapi", "oppfølging etter noe privat"]',
                c=case.case_id,
            )
        )
        await uow.commit()
    result = intake.EligibilityResult.model_validate(
        await cmd(
            system,
            intake.AssessEligibility(
                actor=STAFF, case_id=case.case_id, expected_duration="permanent"
            ),
        )
    )
    assert result.proposal == "meets"
    assert any("finnes ikke i tjenestekatalogen" in r for r in result.reasons)
    assert not any("privat" in r for r in result.reasons)


async def test_lifecycle_from_report_to_closure_with_events(system: System) -> None:
    case_id = await assessed(system)
    await cmd(
        system,
        intake.MakeDecision(
            actor=STAFF, case_id=case_id, kind="ip", granted=True, grounds="Vilkårene er oppfylt."
        ),
    )
    await cmd(system, intake.ActivateCase(actor=STAFF, case_id=case_id))
    closed = intake.CaseTransition.model_validate(
        await cmd(system, intake.CloseCase(actor=STAFF, case_id=case_id, reason="moved"))
    )
    assert (closed.previous, closed.status) == ("active", "closed")
    ev = system.events
    changes = await ev.wait_until(
        lambda: (
            (found := ev.matching("intake.case_status_changed", case_id))
            and len(found) == 4
            and found
        ),
        10,
    )
    assert [(e.payload["previous"], e.payload["status"]) for e in changes] == [
        ("received", "under_assessment"),
        ("under_assessment", "decided"),
        ("decided", "active"),
        ("active", "closed"),
    ]
    assert changes[-1].payload["reason"] == "moved"
    with pytest.raises(RequestFailed) as exc:
        await cmd(system, intake.ActivateCase(actor=STAFF, case_id=case_id))
    assert "closed" in exc.value.error.fields[0].reason


async def test_a_transition_that_is_not_allowed_is_refused_with_the_reason(system: System) -> None:
    case = await new_case(system)
    with pytest.raises(RequestFailed) as exc:
        await cmd(
            system,
            intake.MakeDecision(
                actor=STAFF, case_id=case.case_id, kind="ip", granted=True, grounds="x"
            ),
        )
    assert exc.value.error.fields[0].reason == "assess eligibility before deciding"
    with pytest.raises(RequestFailed) as exc:
        await cmd(system, intake.ActivateCase(actor=STAFF, case_id=case.case_id))
    assert "cannot go from received to active" in exc.value.error.fields[0].reason


async def test_after_closing_a_new_report_opens_a_new_case(system: System) -> None:
    number = national_id()
    first = await new_case(system, national_id=number)
    await cmd(system, intake.CloseCase(actor=STAFF, case_id=first.case_id, reason="declined"))
    second = await new_case(system, national_id=number)
    assert second.case_id != first.case_id
    assert not second.attached_to_open_case


async def test_waiting_time_per_case_and_for_the_org(system: System) -> None:
    for _ in range(3):
        case_id = await assessed(system)
        await cmd(
            system,
            intake.MakeDecision(
                actor=STAFF,
                case_id=case_id,
                kind="coordinator",
                granted=True,
                grounds="Behov for koordinator.",
            ),
        )
    await new_case(system)  # undecided: not counted
    stats = intake.WaitingTimeStats.model_validate(
        await qry(system, intake.WaitingTimes(actor=STAFF))
    )
    assert stats.count == 3
    assert stats.median_days is not None and stats.median_days >= 0
    assert stats.p90_days is not None and stats.p90_days >= stats.median_days


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"services": ["hjemmesykepleie", "trylledrikk"]}, "services.1", "unknown service type"),
        ({"org": "bergen"}, "org", "serves testorg only"),
        ({"note": "x" * 2001}, "note", "at most 2000 characters"),
        ({"reporter": None}, "reporter", "is required"),
        (
            {"reporter": {"kind": "next_of_kin", "relation": "r" * 81}},
            "reporter.relation",
            "at most 80 characters",
        ),
    ],
)
async def test_bad_reports_name_the_field_and_the_rule(system, change, field, reason) -> None:
    import json

    body = report_need().model_dump(mode="json")
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    msg = await system.nc.request(
        "kenett.testorg.cmd.intake.report_need", json.dumps(body).encode(), timeout=5
    )
    reply = json.loads(msg.data)
    fields = {f["field"]: f["reason"] for f in reply["error"]["fields"]}
    assert reason in fields.get(field, ""), fields
