"""A KE user who mistypes a `kenett` command reads what went wrong in bokmål (the developers'
guide: what users read is Norwegian), both Typer's own words ("Mangler valget") and kenett's
about a bad value ("ikke en dato"); nothing typed that may be a person's data is repeated."""

from __future__ import annotations

import ast
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from typer._click import exceptions as click_errors

from shared.runtime.cli_nb import bokmal
from shared.runtime.nb_catalogue import MESSAGES
from tests.helpers import KENETT, national_id, plain
from tests.unit.test_nb_texts import _template

ROOT = Path(__file__).resolve().parents[2]
CASE = str(uuid.uuid4())
ENGLISH = ("Missing", "No such", "Invalid value", "Usage:", "Try '", "Error", "is not one of")


def kenett(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KENETT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KENETT_ACTOR": "ke-kari", "COLUMNS": "80"},
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("consent", "record", CASE, "ip"), "Mangler valget '--given-by'. Velg blant:"),
        (("consent", "record"), "Mangler argumentet 'CASE'."),
        (("nosuch",), "Ukjent kommando 'nosuch'."),
        (("access-log", CASE, "--sinse", "2026-01-01"), "Ukjent valg: --sinse (mulige valg:"),
        (
            ("consent", "record", CASE, "ipp", "--given-by", "person"),
            "Ugyldig verdi for 'kind': 'ipp' er ikke en av 'ip'",
        ),
        (
            ("consent", "record", CASE, "ip", "--given-by", "person", "--until", "2027-13-01"),
            "Ugyldig verdi for --until: ikke en dato (ÅÅÅÅ-MM-DD)",
        ),
        (("access-log", CASE, "--since", "2026-01-01", "--extra"), "Ukjent valg: --extra"),
        (
            ("consent", "record", CASE, "sharing", "--given-by", "person", "--replaces", "abc"),
            "Ugyldig verdi for '--replaces': må være en gyldig UUID; ugyldig lengde: fant 3 tegn",
        ),
    ],
)
def test_a_usage_error_is_shown_in_bokmal(args: tuple[str, ...], said: str) -> None:
    done = kenett(*args)
    assert done.returncode == 2, done.stderr
    shown = plain(done.stderr)
    assert said in shown, shown
    assert "Feil" in shown and "for hjelp." in shown
    assert not [word for word in ENGLISH if word in shown], shown
    assert "Traceback" not in shown


def test_the_usage_line_above_the_error_is_bokmal() -> None:
    shown = plain(kenett("consent", "record").stderr)
    assert shown.startswith("Bruk: kenett consent record"), shown
    assert "Prøv 'kenett consent record --help' for hjelp." in shown


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--from", "{n}"), "ikke en dato"),
        (("--from", "{n6} {n5}"), "ikke en dato"),
        (("extra", "{n}"), "Fikk argumenter for mye (extra [skjult])"),
        (("--given-by", "{n}"), "'[skjult]' er ikke en av"),
    ],
)
def test_a_national_id_typed_in_the_wrong_place_is_not_repeated(
    args: tuple[str, ...], said: str
) -> None:
    number = national_id()
    typed = [a.format(n=number, n6=number[:6], n5=number[6:]) for a in args]
    done = kenett("consent", "record", CASE, "ip", "--given-by", "person", *typed)
    assert done.returncode == 2 and said in plain(done.stderr), done.stderr
    assert number not in done.stdout + done.stderr
    assert number[6:] not in done.stdout + done.stderr


def test_what_the_user_typed_is_shown_as_typed_not_translated() -> None:
    # "ip" and "closed" are states the catalogue puts in Norwegian elsewhere; typed, they stay.
    shown = plain(kenett("consent", "record", CASE, "ip", "--given-by", "person", "ip").stderr)
    assert "Fikk argumenter for mye (ip)" in shown, shown


@pytest.mark.parametrize(
    "error",
    [
        click_errors.MissingParameter(param_hint="'--to'", param_type="option"),
        click_errors.MissingParameter(param_hint="'CASE'", param_type="argument"),
        click_errors.NoSuchOption("--sinse", possibilities=["--since"]),
        click_errors.NoSuchOption("--x"),
        click_errors.BadParameter("not a date (YYYY-MM-DD)", param_hint="--since"),
        click_errors.BadParameter("Value must be an iterable."),
        click_errors.BadOptionUsage("--to", "Option '--to' requires an argument."),
        click_errors.BadOptionUsage("--json", "Option '--json' does not take a value."),
        click_errors.UsageError("Got unexpected extra argument(s) (a b)"),
        click_errors.UsageError("Missing command."),
    ],
)
def test_typers_own_words_are_in_the_catalogue(error: click_errors.ClickException) -> None:
    # Typer's vendored Click words these itself: a Typer that words them otherwise fails here.
    english = error.format_message()
    norwegian = bokmal(english)
    assert norwegian != english
    assert not [
        word for word in (*ENGLISH, "requires", "does not", "unexpected") if word in norwegian
    ]


def _bad_parameter_texts() -> dict[str, str]:
    """kenett's own literal texts about a bad option value, where a KE user can meet them."""
    found: dict[str, str] = {}
    files = sorted((ROOT / "services").rglob("cli.py")) + sorted(
        (ROOT / "shared" / "runtime").glob("*.py")
    )
    for path in files:
        if "bench" in path.name or "demo" in path.name:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("BadParameter")):
                continue
            message = node.args[0] if node.args else None
            message = next((k.value for k in node.keywords if k.arg == "message"), message)
            text = _template(message) if message is not None else None
            if text:
                found[text] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_every_text_about_a_bad_option_value_has_its_bokmal() -> None:
    texts = _bad_parameter_texts()
    assert len(texts) > 20  # the scan finds them at all
    missing = {t: where for t, where in texts.items() if t not in MESSAGES}
    assert missing == {}, "add these to shared/runtime/nb_catalogue.py"
