"""What KE staff read when kenett refuses something is bokmål (the developers' guide: what users
read is Norwegian), while the replies' messages stay the services' English API.

The catalogue (``shared.runtime.nb_catalogue``) must know every message and reason the services
write literally: this test reads the code for them, so that a new refusal without its bokmål
fails here instead of reaching a KE user in English.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import typer

from shared.client import RequestFailed
from shared.contracts.replies import ErrorBody, FieldError
from shared.runtime import clitools, nb
from shared.runtime.nb_catalogue import MESSAGES

ROOT = Path(__file__).resolve().parents[2]

# Calls whose text arguments a KE user can read in a refusal: (positions, keywords).
_CALLS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    "refuse": ((1, 3), ("message", "reason")),
    "CommandRejected": ((1,), ("message",)),
    "FieldError": ((), ("reason",)),
    "failure": ((1,), ("message",)),
    "ErrorBody": ((), ("message",)),
    "ValueError": ((0,), ()),
    "CoordinationError": ((1,), ("reason",)),
    "InvalidNationalId": ((0,), ()),
    "AddressInvalid": ((0,), ()),
    "Verdict": ((1,), ("reason",)),  # the consent gate's answer, shown when it refuses
}
# Where those calls are for operators and developers, not KE users: the command line's own
# checks of its options (tests/unit/test_cli_nb.py keeps their typer.BadParameter texts in the
# catalogue), configuration, benchmarks and the demo, the kernel's internals.
_NOT_USER_FACING = (
    "bench",
    "demo",
    "/cli.py",
    "shared/db/",
    "shared/ids.py",
    "shared/config.py",
    "shared/clock.py",
    "shared/federation/topology.py",
    "shared/federation/keys.py",
    "shared/synthetic.py",
    "shared/runtime/",
)


def _template(node: ast.expr) -> str | None:
    """A string literal or f-string as the catalogue writes it (``{case.ref}`` for a value)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
                continue
            assert isinstance(value, ast.FormattedValue)
            token = ast.unparse(value.value)
            if value.conversion == ord("r"):
                token += "!r"
            if value.format_spec is not None:
                spec = value.format_spec
                assert isinstance(spec, ast.JoinedStr)
                token += ":" + "".join(
                    str(v.value) for v in spec.values if isinstance(v, ast.Constant)
                )
            parts.append("{" + token + "}")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _template(node.left), _template(node.right)
        if left is not None and right is not None:
            return left + right
    return None


def _target(node: ast.Assign | ast.AnnAssign) -> str:
    return ast.unparse(node.targets[0] if isinstance(node, ast.Assign) else node.target)


def _returned_reasons(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    """What a ``*_refusal`` or ``*why*`` function returns as its reason: a text, or the last of
    a ``(field, reason)`` pair."""
    out: list[ast.expr] = []
    for node in ast.walk(func):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            out.append(value.elts[-1] if isinstance(value, ast.Tuple) and value.elts else value)
    return out


def user_facing_texts() -> dict[str, str]:
    """Every literal message and reason of a refusal in the services and the kernel, with where
    it is written: the arguments of the calls above, and what the services' ``*_refusal`` and
    ``*why*`` functions return, and the values of the ``_WHY_*`` tables of reasons."""
    found: dict[str, str] = {}
    files = sorted((ROOT / "services").rglob("*.py")) + sorted((ROOT / "shared").rglob("*.py"))
    for path in files:
        where = path.relative_to(ROOT).as_posix()
        if any(part in where for part in _NOT_USER_FACING):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
                "refusal" in node.name or "why" in node.name
            ):
                for value in _returned_reasons(node):
                    text = _template(value)
                    if text:
                        found.setdefault(text, f"{where}:{value.lineno}")
                continue
            if (
                isinstance(node, ast.Assign | ast.AnnAssign)
                and isinstance(node.value, ast.Dict)
                and "WHY"
                in ast.unparse(node.targets[0] if isinstance(node, ast.Assign) else node.target)
            ):
                for value in node.value.values:  # reasons by state: _WHY_NOT, _WHY_ENDED
                    text = _template(value)
                    if text:
                        found.setdefault(text, f"{where}:{value.lineno}")
                continue
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name not in _CALLS:
                continue
            positions, keywords = _CALLS[name]
            args = [a for i, a in enumerate(node.args) if i in positions]
            args += [k.value for k in node.keywords if k.arg in keywords]
            for arg in args:
                text = _template(arg)
                if text:
                    found.setdefault(text, f"{where}:{node.lineno}")
    return found


def test_every_message_and_reason_the_services_write_has_its_bokmal() -> None:
    texts = user_facing_texts()
    assert len(texts) > 200  # the scan finds the services' refusals at all
    missing = {t: where for t, where in texts.items() if t not in MESSAGES}
    assert missing == {}, "add these to shared/runtime/nb_catalogue.py"


def test_a_translation_keeps_every_placeholder_of_its_english() -> None:
    wrong = {
        english: norwegian
        for english, norwegian in MESSAGES.items()
        if sorted(nb.placeholders(english)) != sorted(nb.placeholders(norwegian))
    }
    assert wrong == {}


def test_the_catalogue_is_bokmal_and_not_the_english_again() -> None:
    # A few texts are the same in both languages (a field name); whole sentences are not.
    same = [e for e, n in MESSAGES.items() if e == n and len(e.split()) > 2]
    assert same == []


def test_a_known_text_is_given_in_bokmal() -> None:
    assert nb.text("the case is closed") == MESSAGES["the case is closed"]
    assert nb.text("the case is closed") != "the case is closed"


def test_a_text_with_values_keeps_them_in_its_bokmal() -> None:
    bokmal = nb.text(
        "has 5 cases and a limit of 5 (R10); appoint anyway only with "
        "override_limit and an override_reason"
    )
    template = MESSAGES[
        "has {c.caseload} cases and a limit of {limit} (R10); appoint anyway only with "
        "override_limit and an override_reason"
    ]
    assert bokmal == template.replace("{c.caseload}", "5").replace("{limit}", "5")
    assert "override_limit" in bokmal and "(R10)" in bokmal


def test_a_text_made_of_another_is_translated_all_through() -> None:
    inner = "an IP decision needs an eligibility assessment first (R1)"
    bokmal = nb.text(f"case 2026-000042: {inner}")
    assert "2026-000042" in bokmal
    assert MESSAGES[inner] in bokmal
    assert inner not in bokmal


def test_an_unknown_text_is_shown_as_it_is() -> None:
    assert nb.text("something no service says") == "something no service says"
    assert nb.code("no_such_code") == "no_such_code"
    assert nb.code("not_found") == "finnes ikke (not_found)"


def _refusal(
    capsys: pytest.CaptureFixture[str], error: ErrorBody, command: bool = False
) -> tuple[int, str]:
    with pytest.raises(typer.Exit) as stopped:
        clitools.refused(RequestFailed(error), command=command)
    return stopped.value.exit_code, re.sub(r"\s+", " ", capsys.readouterr().err)


def test_the_command_line_shows_a_refusal_in_bokmal(capsys: pytest.CaptureFixture[str]) -> None:
    exit_code, shown = _refusal(
        capsys,
        ErrorBody(
            code="validation_failed",
            message="the report of need was not registered",
            fields=[FieldError(field="reporter.unit", reason="is required")],
        ),
    )
    assert exit_code == 1
    assert shown.startswith("avvist, ugyldig (validation_failed): ")
    assert MESSAGES["the report of need was not registered"] in shown
    assert f"reporter.unit: {MESSAGES['is required']}" in shown
    assert "was not registered" not in shown and "is required" not in shown


def test_no_answer_to_a_command_says_in_bokmal_that_it_may_have_been_done(
    capsys: pytest.CaptureFixture[str],
) -> None:
    exit_code, shown = _refusal(
        capsys,
        ErrorBody(code="unavailable", message="no answer on kenett.lund.cmd.intake.report"),
        command=True,
    )
    assert exit_code == 3
    assert "fikk ikke svar i tide" in shown and "sjekk før du gjentar den" in shown
    assert "kenett.lund.cmd.intake.report" in shown


def test_a_state_in_a_text_is_given_as_staff_see_it_elsewhere() -> None:
    # `kenett intake case` shows "aktiv", so a refusal does too.
    assert nb.text("the case is already active") == MESSAGES[
        "the case is already {current}"
    ].replace("{current}", "aktiv")
    assert "active" not in nb.text("the case is already active")
