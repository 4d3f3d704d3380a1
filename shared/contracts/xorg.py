"""The cross-organisation message: what one organisation's kenett sends another's.

On the wire a message is a signed header and a sealed payload:
- the header (id, type, version, sender, recipient, case link, sequence number, time, what it
  answers) is readable by the NATS servers it passes, and carries nothing personal;
- the payload is encrypted to the recipient's key (only the recipient can read it, not the hub
  nor the sender's stream at rest) and the whole is signed with the sender's key, so a receiver
  knows who sent it whatever path it took.

Versioning works as for events: an optional field added keeps the version (a receiver ignores
fields it does not know, so a sender may upgrade first); anything else is a
new version, and a receiver refuses versions it does not know, with a receipt saying which it
accepts. Ordering is per (sender, recipient, case link): ``seq`` counts from 1; receipts have
``seq`` 0 and are not ordered.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.contracts.consent import LifeArea
from shared.contracts.envelope import describe_validation_error, known_fields
from shared.contracts.intake import DisclosureBasis, Need
from shared.contracts.planning import MeasureStatus, PlanContent
from shared.federation.keys import FederationKeyError, OrgKey, seal, verify

_ELEVEN_DIGITS = re.compile(r"\d{11}")


def no_identity_number(value: str | None) -> str | None:
    """Free text that crosses (a refusal's reason) must not carry an identity number."""
    if value is not None and _ELEVEN_DIGITS.search(re.sub(r"[\s.-]", "", value)):
        raise ValueError("must not contain an identity number (11 digits)")
    return value


class XorgError(ValueError):
    """A message that cannot be accepted; ``code`` says what kind of problem, for the receipt."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class XPayload(BaseModel):
    """Base of every cross-organisation payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    ORDERED: ClassVar[bool] = True
    TITLE: ClassVar[str] = ""
    """What a user sees it called (bokmål)."""


_REGISTRY: dict[tuple[str, int], type[XPayload]] = {}


def xorg_contract(cls: type[XPayload]) -> type[XPayload]:
    key = (cls.TYPE, cls.VERSION)
    if key in _REGISTRY and _REGISTRY[key] is not cls:
        raise RuntimeError(f"cross-organisation contract {key} registered twice")
    _REGISTRY[key] = cls
    return cls


def xorg_contracts() -> dict[tuple[str, int], type[XPayload]]:
    return dict(_REGISTRY)


def title(message_type: str) -> str:
    for (t, _v), model in _REGISTRY.items():
        if t == message_type:
            return model.TITLE
    return message_type


# --- payloads ----------------------------------------------------------------------------------


@xorg_contract
class NeedReport(XPayload):
    """The hospital's KE tells the person's home municipality about a need for IP and/or a
    coordinator for an inpatient (R17, R2)."""

    TYPE: ClassVar[str] = "need_report"
    TITLE: ClassVar[str] = "Melding om behov"

    national_id: str = Field(description="Fødselsnummer or D-nummer: needed to find the person.")
    needs: list[Need] = Field(min_length=1, max_length=2)
    department: str = Field(min_length=1, max_length=120)
    expected_discharge: date | None = None
    services: list[str] = Field(default_factory=list, max_length=50)
    form: Literal["oral", "written"] = "written"
    hospital_coordinator: str | None = Field(None, max_length=64, description="Staff id.")
    basis: DisclosureBasis | None = Field(
        None, description="Why the hospital may pass this on; None from a sender before it."
    )

    @field_validator("department")
    @classmethod
    def _department(cls, value: str) -> str:
        no_identity_number(value)
        return value


@xorg_contract
class HandoverProposal(XPayload):
    """The sender's coordinator proposes that the recipient takes over coordination from
    ``start``, with both listed until ``start + overlap_days`` (R11, R17)."""

    TYPE: ClassVar[str] = "handover_proposal"
    TITLE: ClassVar[str] = "Forslag om overføring av koordinator"

    coordinator: str = Field(min_length=1, max_length=64, description="Staff id of the sender's.")
    start: date
    overlap_days: int = Field(ge=0, le=90)


@xorg_contract
class HandoverAnswer(XPayload):
    """Accepted (with who takes over, from when, and the overlap) or refused with a reason."""

    TYPE: ClassVar[str] = "handover_answer"
    TITLE: ClassVar[str] = "Svar på overføring av koordinator"

    proposal: uuid.UUID
    accepted: bool
    coordinator: str | None = Field(None, max_length=64)
    start: date | None = None
    overlap_until: date | None = None
    reason: str | None = Field(None, max_length=500)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        return no_identity_number(value)


class SharedMeasure(BaseModel):
    """A measure as shared with the service responsible for it: no other part of the plan."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(max_length=16)
    title: str = Field(max_length=300)
    life_area: LifeArea
    scope: str = Field("", max_length=4000)
    how: str = Field("", max_length=4000)
    where: str = Field("", max_length=300)
    start: date | None = None
    deadline: date | None = None
    evaluation_date: date | None = None
    status: MeasureStatus


@xorg_contract
class PlanShare(XPayload):
    """The municipality shares, with a service taking part in the plan (the hospital), the
    measures that service is responsible for, as far as the person's sharing consent covers them
    (R7, R17). It replaces what was shared before; an empty list takes it all back (e.g. after
    the consent was withdrawn)."""

    TYPE: ClassVar[str] = "plan_share"
    TITLE: ClassVar[str] = "Tiltak dere har ansvar for i individuell plan"

    case_ref: str = Field(max_length=32, description="The sharing organisation's case ref.")
    plan_version: int = Field(ge=1)
    measures: list[SharedMeasure] = Field(default_factory=list, max_length=500)


@xorg_contract
class MeasureUpdate(XPayload):
    """The responsible service reports where one of its measures stands (R16)."""

    TYPE: ClassVar[str] = "measure_update"
    TITLE: ClassVar[str] = "Status for tiltak"

    measure_id: str = Field(min_length=1, max_length=16)
    status: MeasureStatus
    seen_version: int = Field(ge=1, description="The plan version the sender was looking at.")
    note: str | None = Field(None, max_length=300)

    @field_validator("note")
    @classmethod
    def _note(cls, value: str | None) -> str | None:
        return no_identity_number(value)


@xorg_contract
class CaseTransfer(XPayload):
    """A person moves: the old municipality passes the case and the plan, as far as the
    person's consent to share with the new municipality covers it (R7), to the new one."""

    TYPE: ClassVar[str] = "case_transfer"
    TITLE: ClassVar[str] = "Overføring av sak ved flytting"

    national_id: str = Field(description="Fødselsnummer or D-nummer: needed to find the person.")
    needs: list[Need] = Field(min_length=1, max_length=2)
    services: list[str] = Field(default_factory=list, max_length=50)
    case_ref: str = Field(max_length=32, description="The old municipality's case ref.")
    moving_on: date | None = None
    plan: PlanContent | None = Field(None, description="Cut to what the consent covers.")
    plan_version: int | None = None
    withheld: list[str] = Field(
        default_factory=list,
        description="Parts of the plan left out: the consent does not cover them.",
    )
    basis: DisclosureBasis | None = Field(
        None, description="Why it may be sent: the person's consent naming the recipient (R7)."
    )


ReceiptCode = Literal[
    "invalid",
    "unknown_type",
    "unknown_version",
    "unknown_link",
    "not_party",
    "refused",
]


@xorg_contract
class Receipt(XPayload):
    """Every message except a receipt gets one: accepted, or refused with a code and reason."""

    TYPE: ClassVar[str] = "receipt"
    TITLE: ClassVar[str] = "Kvittering"
    ORDERED: ClassVar[bool] = False

    accepted: bool
    code: ReceiptCode | None = None
    reason: str | None = Field(None, max_length=1000)
    reference: str | None = Field(None, max_length=64, description="e.g. the receiver's case ref")


# --- the wire ----------------------------------------------------------------------------------


class XHeader(BaseModel):
    """What the servers on the way can see: nothing personal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: uuid.UUID
    type: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    version: int = Field(ge=1)
    sender: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,30}$")
    recipient: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,30}$")
    link: uuid.UUID
    seq: int = Field(ge=0)
    sent_at: datetime
    reply_to: uuid.UUID | None = None


class XMessage(XHeader):
    sealed: str = Field(max_length=1_000_000)
    sig: str = Field(max_length=200)

    def header(self) -> XHeader:
        return XHeader.model_validate(self.model_dump(exclude={"sealed", "sig"}))


def _signed_bytes(header: XHeader, sealed: str) -> bytes:
    fields = header.model_dump(mode="json")
    fields["sealed"] = sealed
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def build_message(header: XHeader, payload: XPayload, key: OrgKey, recipient_public: str) -> bytes:
    """Seal the payload to the recipient and sign header and ciphertext: the wire bytes."""
    if (header.type, header.version) != (payload.TYPE, payload.VERSION):
        raise ValueError("header type/version do not match the payload")
    return build_raw(header, payload.model_dump(mode="json"), key, recipient_public)


def build_raw(
    header: XHeader, payload: dict[str, Any], key: OrgKey, recipient_public: str
) -> bytes:
    sealed = seal(json.dumps(payload, separators=(",", ":")).encode(), recipient_public)
    message = XMessage(
        **header.model_dump(), sealed=sealed, sig=key.sign(_signed_bytes(header, sealed))
    )
    return message.model_dump_json().encode()


def parse_message(raw: bytes) -> XMessage:
    try:
        return XMessage.model_validate_json(raw)
    except ValidationError as exc:
        raise XorgError(
            "invalid", f"not a cross-organisation message: {describe_validation_error(exc)}"
        ) from None


def verify_message(message: XMessage, sender_public: str) -> None:
    try:
        verify(sender_public, _signed_bytes(message.header(), message.sealed), message.sig)
    except FederationKeyError as exc:
        raise XorgError("invalid", str(exc)) from None


def open_message(message: XMessage, key: OrgKey) -> XPayload:
    """Decrypt and validate the payload against the contract of its (type, version)."""
    try:
        data = json.loads(key.open(message.sealed))
    except (FederationKeyError, ValueError) as exc:
        raise XorgError("invalid", f"payload: {exc}") from None
    model = _REGISTRY.get((message.type, message.version))
    if model is None:
        versions = sorted(v for (t, v) in _REGISTRY if t == message.type)
        if versions:
            raise XorgError(
                "unknown_version",
                f"unsupported version {message.version} of {message.type}; "
                f"this organisation accepts versions {versions}",
            )
        raise XorgError("unknown_type", f"message type {message.type} is not known here")
    try:
        return model.model_validate(known_fields(model, data))
    except ValidationError as exc:
        raise XorgError(
            "invalid",
            f"invalid {message.type} v{message.version}: {describe_validation_error(exc)}",
        ) from None
