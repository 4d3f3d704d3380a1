"""A usage error does not repeat what was given: it may be a fødselsnummer typed in
the wrong place (as clitools._case says, and does, for a case)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from tests.helpers import national_id, plain

KENETT = os.path.join(os.path.dirname(sys.executable), "kenett")


def test_a_date_option_that_is_not_a_date_is_refused_without_repeating_it() -> None:
    number = national_id()
    done = subprocess.run(
        [KENETT, "access-log", str(uuid.uuid4()), "--since", number],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KENETT_ACTOR": "ke-leder"},
    )
    assert done.returncode == 2 and "ikke en dato" in plain(done.stderr), done.stderr
    assert number not in done.stdout + done.stderr
