"""The envelope and the versioned event contracts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.contracts import intake
from shared.contracts.envelope import (
    Actor,
    ContractError,
    Envelope,
    known_contracts,
    open_payload,
    parse_envelope,
)
from shared.contracts.federation import SendNeedReport
from shared.contracts.planning import PlanCreated
from shared.contracts.replies import field_errors
from shared.contracts.subjects import command_subject, event_subject
from shared.contracts.xorg import (
    NeedReport,
    XHeader,
    XorgError,
    build_raw,
    open_message,
    parse_message,
)
from shared.federation.keys import OrgKey
from tests.helpers import national_id, report_need

ACTOR = Actor(kind="user", id="u1")


def plan_created() -> PlanCreated:
    return PlanCreated(
        plan_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        case_ref="2026-000001",
        coordinator_id=uuid.uuid4(),
    )


def test_envelope_round_trip_and_subject_carries_no_personal_data() -> None:
    event = plan_created()
    env = Envelope.wrap(
        event, org="lund", occurred_at=datetime.now(UTC), actor=ACTOR, case_id=event.case_id
    )
    back = parse_envelope(env.model_dump_json().encode())
    assert back == env
    assert env.subject == "kenett.lund.evt.planning.plan_created"
    assert open_payload(back, known_contracts()) == event


def test_a_caused_event_keeps_the_correlation_and_names_its_cause() -> None:
    first = Envelope.wrap(
        plan_created(), org="o", occurred_at=datetime.now(UTC), actor=ACTOR, case_id=None
    )
    second = Envelope.wrap(
        plan_created(),
        org="o",
        occurred_at=datetime.now(UTC),
        actor=ACTOR,
        case_id=None,
        causation=first,
    )
    assert second.correlation_id == first.correlation_id == first.id
    assert second.causation_id == first.id


def test_unknown_version_and_unknown_type_are_refused_with_reasons() -> None:
    env = Envelope.wrap(
        plan_created(), org="o", occurred_at=datetime.now(UTC), actor=ACTOR, case_id=None
    )
    v2 = env.model_copy(update={"version": 2})
    with pytest.raises(ContractError, match=r"unsupported version 2 .* accepts versions \[1\]"):
        open_payload(v2, known_contracts())
    other = env.model_copy(update={"type": "planning.something_else"})
    with pytest.raises(ContractError, match="not handled"):
        open_payload(other, known_contracts())


def test_a_reader_ignores_an_optional_field_a_newer_producer_added() -> None:
    """Rolling upgrades (architecture: adding optional fields is compatible): a consumer that
    has not been upgraded ignores a field it does not know, within the same version, and
    still refuses a payload that lacks what it needs."""
    event = plan_created()
    env = Envelope.wrap(event, org="o", occurred_at=datetime.now(UTC), actor=ACTOR, case_id=None)
    newer = env.model_copy(update={"payload": {**env.payload, "added_later": "x"}})
    assert open_payload(newer, known_contracts()) == event
    broken = env.model_copy(update={"payload": {"added_later": "x"}})
    with pytest.raises(ContractError, match="plan_id: Field required"):
        open_payload(broken, known_contracts())
    # What is sent is still checked strictly.
    with pytest.raises(ValidationError):
        PlanCreated(**event.model_dump(), added_later="x")


def test_an_organisation_ignores_an_optional_field_a_newer_sender_added() -> None:
    sender, receiver = OrgKey.generate(), OrgKey.generate()
    payload = NeedReport(national_id="00000000000", needs=["ip"], department="Medisinsk")
    header = XHeader(
        id=uuid.uuid4(),
        type=NeedReport.TYPE,
        version=1,
        sender="sykehuset",
        recipient="lund",
        link=uuid.uuid4(),
        seq=1,
        sent_at=datetime.now(UTC),
    )
    body = {**payload.model_dump(mode="json"), "added_later": {"a": 1}}
    raw = build_raw(header, body, sender, receiver.public)
    assert open_message(parse_message(raw), receiver) == payload
    raw = build_raw(header, {"needs": ["ip"]}, sender, receiver.public)
    with pytest.raises(XorgError, match="national_id: Field required"):
        open_message(parse_message(raw), receiver)


def test_subjects_refuse_tokens_that_could_carry_data() -> None:
    assert command_subject("lund", "intake", "report_need") == "kenett.lund.cmd.intake.report_need"
    for bad in ("Lund", "lu.nd", "lund>", "*", "", "12345678901 x"):
        with pytest.raises(ValueError, match="subject token"):
            event_subject(bad, "intake", "x")


def test_validation_errors_name_fields_but_never_echo_the_input() -> None:
    number = national_id()
    body = report_need(national_id=number).model_dump(mode="json")
    body["reporter"] = {"kind": "neighbour", "relation": number}
    with pytest.raises(ValidationError) as exc:
        intake.ReportNeed.model_validate(body)
    errors = field_errors(exc.value)
    assert [e.field for e in errors] == ["reporter.kind"]
    assert number not in str([e.model_dump() for e in errors])


def test_every_contract_has_a_unique_type_and_version() -> None:
    keys = list(known_contracts())
    assert len(keys) == len(set(keys))
    for (type_, version), model in known_contracts().items():
        assert type_ == model.TYPE
        assert version == model.VERSION >= 1


def test_r17_a_hospital_report_of_need_states_its_basis() -> None:
    """No basis, no report: a patient who objects is not reported to the municipality."""
    fields = {
        "actor": Actor(kind="user", id="hk-1"),
        "to": "lund",
        "national_id": "00000000000",
        "needs": ["ip"],
        "department": "Medisinsk avdeling",
    }
    with pytest.raises(ValidationError) as missing:
        SendNeedReport(**fields)
    assert [e["loc"] for e in missing.value.errors()] == [("basis",)]
    with pytest.raises(ValidationError) as objected:
        SendNeedReport(**fields, basis="objected")
    assert [e["loc"] for e in objected.value.errors()] == [("basis",)]
    assert SendNeedReport(**fields, basis="no_objection").basis == "no_objection"
