"""Bokmål for what the services say when they refuse something, as the `kenett` command shows it.

A reply's ``message`` and each field's ``reason`` are English: they are the services' API, stable
for programs and tests, and the same in every organisation. KE staff read them in Norwegian:
:func:`text` gives the bokmål of a message or reason from the catalogue
(:mod:`shared.runtime.nb_catalogue`, English text → bokmål). A catalogue text may hold
placeholders as in the f-string that made it (``"case {case.ref} is closed"``); what stood in for
them is carried over, in Norwegian where it is a state (:data:`VALUES`) or itself a catalogue
text (``"case {case.ref}: {why}"``). A text the catalogue does not know is shown as it is:
never nothing.

Every message and reason written literally in the services is in the catalogue; a test
(``tests/unit/test_nb_texts.py``) reads the code to keep it so.
"""

from __future__ import annotations

import re
from functools import lru_cache

from shared.runtime.nb_catalogue import MESSAGES

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")

# What a refusal's code means, for the line that introduces it.
CODES: dict[str, str] = {
    "validation_failed": "ugyldig",
    "rule_violation": "ikke tillatt etter reglene",
    "not_found": "finnes ikke",
    "conflict": "konflikt",
    "forbidden": "ingen tilgang",
    "unavailable": "ikke tilgjengelig nå",
}


# What stands in a placeholder that KE staff see in Norwegian elsewhere too (`kenett intake
# case`, `kenett planning show`): the states of cases, plans, handovers and meetings, and the
# two coordination tools. Other values (ids, codes, organisation names) are shown as they are.
VALUES: dict[str, str] = {
    "received": "mottatt",
    "under_assessment": "under vurdering",
    "decided": "vedtak fattet",
    "active": "aktiv",
    "closed": "avsluttet",
    "draft": "utkast",
    "under_revision": "under revisjon",
    "frozen": "fryst",
    "planned": "planlagt",
    "started": "startet",
    "completed": "fullført",
    "cancelled": "avlyst",
    "scheduled": "innkalt",
    "held": "holdt",
    "ip": "individuell plan",
    "meetings": "ansvarsgruppemøter med referat",
}


def placeholders(template: str) -> list[str]:
    """The placeholders of a catalogue text, in order (``{case.ref}``, ...)."""
    return _PLACEHOLDER.findall(template)


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern[str], list[str], str]]:
    """The catalogue's texts with placeholders as patterns; the most literal text first, so that
    ``"the plan cannot become {cmd.to}"`` is tried before ``"{action}: invalid request"``."""
    out = []
    for english, norwegian in MESSAGES.items():
        names = placeholders(english)
        if not names:
            continue
        parts = _PLACEHOLDER.split(english)
        pattern = "(.+?)".join(re.escape(p) for p in parts)
        literal = len(_PLACEHOLDER.sub("", english))
        out.append((literal, re.compile(f"^{pattern}$", re.DOTALL), names, norwegian))
    out.sort(key=lambda item: -item[0])
    return [(pattern, names, norwegian) for _, pattern, names, norwegian in out]


def text(english: str, _depth: int = 0, *, states: bool = True) -> str:
    """The bokmål of a message or reason; the text itself where the catalogue has none.

    ``states=False``: what stands in a placeholder is not a state to put in Norwegian (in a
    usage error it is what the user typed, shown as typed); a catalogue text there still is."""
    exact = MESSAGES.get(english)
    if exact is not None and not placeholders(english):
        return exact
    if _depth > 2:
        return english
    for pattern, names, norwegian in _patterns():
        found = pattern.match(english)
        if found is None:
            continue
        out = norwegian
        for name, value in zip(names, found.groups(), strict=True):
            said = (VALUES.get(value) if states else None) or text(value, _depth + 1, states=states)
            out = out.replace(name, said, 1)
        return out
    return english


def code(value: str) -> str:
    """A refusal's code as KE staff read it, the code itself in brackets for support."""
    meaning = CODES.get(value)
    return f"{meaning} ({value})" if meaning else value
