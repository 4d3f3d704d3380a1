#!/usr/bin/env python3
"""Bootstrap: create .venv in the repo root and install kenett into it when needed, then run.

Standard library only, so it works on a fresh machine that has nothing but Python 3.11.
Re-installs when pyproject.toml or constraints.txt changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".kenett-installed"


def _fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"kenett needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print("creating .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    want = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    print("installing kenett and its pinned dependencies into .venv ...", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run(
        [*pip, "install", "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[dev]"],
        check=True,
        cwd=ROOT,
    )
    STAMP.write_text(want)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"up", "test", "install", "check"}:
        sys.exit("usage: scripts/dev.py {up|test|check|install} [args...]")
    action, args = sys.argv[1], sys.argv[2:]
    ensure_venv()
    os.chdir(ROOT)
    if action == "install":
        return
    if action == "up":
        os.execv(BIN / "kenett", [str(BIN / "kenett"), "up", *args])
    checks = [
        [str(BIN / "lint-imports")],
        [str(BIN / "ruff"), "check", "--quiet", "."],
        [str(BIN / "mypy")],
    ]
    for cmd in checks:
        print("$", Path(cmd[0]).name, *cmd[1:], file=sys.stderr)
        if subprocess.run(cmd, cwd=ROOT).returncode != 0:
            sys.exit(f"check failed: {Path(cmd[0]).name}")
    if action == "check":
        return
    os.execv(BIN / "python", [str(BIN / "python"), "-m", "pytest", *args])


if __name__ == "__main__":
    main()
