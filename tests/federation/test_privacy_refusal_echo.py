"""A refusal never repeats what was given (domain.md: no identifier in an error
message). A fødselsnummer typed into the organisation field is a plausible slip."""

from __future__ import annotations

import pytest

from shared.client import RequestFailed
from shared.contracts.federation import SendNeedReport

from .conftest import HOSPITAL, Federation, staff


async def test_an_unknown_recipient_is_refused_without_repeating_it(
    federation: Federation, national_id: str
) -> None:
    hospital = federation[HOSPITAL]
    with pytest.raises(RequestFailed) as refused:
        await hospital.cmd(
            "federation",
            SendNeedReport(
                actor=staff(HOSPITAL),
                to=national_id,  # the number in the wrong field
                national_id=national_id,
                needs=["ip"],
                department="Medisinsk avdeling",
                basis="consent",
            ),
        )
    error = refused.value.error
    assert error.code == "not_found"
    assert national_id not in error.model_dump_json(), error.message
