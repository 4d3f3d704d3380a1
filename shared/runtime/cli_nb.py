"""The `kenett` command's usage errors in bokmål.

Typer words a usage error in English (its vendored Click has no translations): a KE user who
forgets an option would read "Missing option '--given-by'." :func:`install` shows every such
error through the services' catalogue instead (``shared.runtime.nb``: Typer's texts are in it,
with placeholders, beside kenett's own texts about a bad option value such as "not a date
(YYYY-MM-DD)"), with the frame around it in bokmål too: "Bruk:", "Prøv ... for hjelp.", "Feil".
A text the catalogue does not know is shown as it is. The help screens stay English, as the
options' own help does.
"""

from __future__ import annotations

from typing import Any

# typer/rich_utils.py's texts around an error, worded once when Typer is imported.
FRAME = {
    "ERRORS_PANEL_TITLE": "Feil",
    "RICH_HELP": "Prøv [blue]'{command_path} {help_option}'[/] for hjelp.",
    "ABORTED_TEXT": "Avbrutt.",
}
USAGE = ("Usage:", "Bruk:")


def bokmal(message: str) -> str:
    """A usage error's message as a KE user reads it. What the user typed stays as typed
    (``states=False``), except anything shaped like a fødselsnummer or D-nummer: typed in the
    wrong place ("'12345678901' er ikke en av 'ip', ..."), it is not repeated."""
    from shared.logging import REDACTED, redact_text
    from shared.runtime import nb

    return redact_text(nb.text(message, states=False)).replace(REDACTED, "[skjult]")


def install() -> None:
    """Show this process's usage errors in bokmål (before any command runs)."""
    from typer import rich_utils

    if getattr(rich_utils.rich_format_error, "kenett_bokmal", False):
        return  # installed already
    for name, norwegian in FRAME.items():
        setattr(rich_utils, name, norwegian)
    shown = rich_utils.rich_format_error

    def format_error(self: Any) -> None:
        english = self.format_message()
        self.format_message = lambda: bokmal(english)
        ctx = getattr(self, "ctx", None)
        if ctx is not None:
            usage = ctx.get_usage
            ctx.get_usage = lambda: usage().replace(*USAGE, 1)
        shown(self)

    format_error.kenett_bokmal = True  # type: ignore[attr-defined]
    rich_utils.rich_format_error = format_error
