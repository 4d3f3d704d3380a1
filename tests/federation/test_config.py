"""`kenett federation config`: the hub and leaf configurations a real nats-server accepts, keys
kept secret, and clear refusals of a bad organisation list."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from services.federation.cli import app
from shared.federation.topology import load_org_file
from shared.runtime.natsserver import nats_server_binary

runner = CliRunner()
ORGS = [
    "--org",
    "sykehuset:hospital:Sykehuset Innlandet",
    "--org",
    "lund:municipality:Lund kommune",
    "--org",
    "iveland:municipality",
]


def test_config_writes_what_nats_server_accepts_with_keys_kept_secret(tmp_path: Path) -> None:
    out = tmp_path / "fed"
    result = runner.invoke(
        app, ["config", *ORGS, "--out", str(out), "--store-dir", str(tmp_path / "{org}")]
    )
    assert result.exit_code == 0, result.output
    for conf in [out / "hub.conf", *out.glob("*/nats-leaf.conf")]:
        checked = subprocess.run(
            [nats_server_binary(), "-t", "-c", str(conf)], capture_output=True, text=True
        )
        assert checked.returncode == 0, (conf, checked.stderr)
    directory = json.loads((out / "directory.json").read_text())
    assert sorted(directory) == ["iveland", "lund", "sykehuset"]
    assert "seed" not in json.dumps(directory)
    for code in directory:
        fed = load_org_file(out / code / "federation.json")
        assert fed.org == code and fed.directory[code].public_key == directory[code]["public_key"]
        for secret in (out / code / "federation.json", out / code / "nats-leaf.conf"):
            assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    # Only public keys in the hub's config; each organisation's seed only in its own files.
    hub = (out / "hub.conf").read_text()
    lund_seed = load_org_file(out / "lund" / "federation.json").seed
    assert lund_seed not in hub
    assert lund_seed not in (out / "iveland" / "nats-leaf.conf").read_text()
    # A leaf is one server without replicas: by default it syncs every write before it acks.
    for code in directory:
        assert "sync_interval: always" in (out / code / "nats-leaf.conf").read_text()


def test_config_with_crash_durability_leaves_nats_servers_default_sync(tmp_path: Path) -> None:
    out = tmp_path / "fed"
    result = runner.invoke(app, ["config", *ORGS, "--out", str(out), "--durability", "crash"])
    assert result.exit_code == 0, result.output
    leaf = (out / "lund" / "nats-leaf.conf").read_text()
    assert "jetstream" in leaf and "sync_interval" not in leaf
    refused = runner.invoke(app, ["config", *ORGS, "--out", str(out), "--durability", "disk"])
    assert refused.exit_code == 2 and "disk" in refused.output


def test_config_refuses_a_bad_organisation_list_with_the_reason(tmp_path: Path) -> None:
    for args, reason in (
        (["--org", "lund:municipality"], "at least two organisations"),
        (["--org", "lund:municipality", "--org", "lund:hospital"], "must be unique"),
        (["--org", "Lund Kommune:municipality", "--org", "a:hospital"], "a NATS token"),
        (["--org", "lund:kommune", "--org", "a:hospital"], "KIND municipality or hospital"),
    ):
        result = runner.invoke(app, ["config", *args, "--out", str(tmp_path / "x")])
        assert result.exit_code != 0
        assert reason in " ".join(result.output.split()), (args, result.output)
    assert not (tmp_path / "x" / "hub.conf").exists()
