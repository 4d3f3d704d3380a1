"""The committed AsyncAPI documents are what the contracts generate (kenett asyncapi)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared import __version__
from shared.plugins import discover
from shared.runtime.asyncapi import service_document

DOCS = Path(__file__).resolve().parents[2] / "docs" / "asyncapi"


@pytest.mark.parametrize("name", sorted(discover()))
def test_committed_asyncapi_is_up_to_date(name: str) -> None:
    doc = service_document(discover()[name].plugin, __version__)
    committed = json.loads((DOCS / f"{name}.json").read_text())
    assert committed == json.loads(json.dumps(doc)), "run: kenett asyncapi"


def test_no_subject_in_any_document_has_room_for_personal_data() -> None:
    for name, installed in discover().items():
        doc = service_document(installed.plugin, __version__)
        for channel in doc["channels"].values():
            address = channel["address"]
            if address is None:
                continue
            tokens = address.split(".")
            assert tokens[0] == "kenett" and tokens[1] == "{org}", (name, address)
            assert all(t.replace("_", "").isalnum() for t in tokens[2:]), address
