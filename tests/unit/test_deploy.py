"""The distributed-mode deployment: docker-compose.yml runs services that kenett knows.

No Docker engine runs here, so the compose file is parsed and checked instead of started.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from shared.config import Settings
from shared.runtime.natsserver import nats_server_binary

ROOT = Path(__file__).resolve().parents[2]
KENETT = str(Path(sys.executable).parent / "kenett")


def installed_services() -> set[str]:
    out = subprocess.run([KENETT, "plugins", "--json"], capture_output=True, check=True, text=True)
    import json

    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return {r["name"] for r in rows if r["kind"] == "service"}


def kenett_containers() -> dict[str, dict]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return {
        name: svc
        for name, svc in compose["services"].items()
        if svc.get("image", "").startswith("kenett")
    }


def test_every_service_container_runs_a_service_kenett_plugins_knows() -> None:
    known = installed_services()
    containers = kenett_containers()
    assert containers
    for name, svc in containers.items():
        cmd = svc["command"]
        assert cmd[:2] == ["kenett", "run"], name
        assert set(cmd[2:]) <= known, f"{name} runs {cmd[2:]}, installed: {known}"


def test_every_installed_service_has_a_container() -> None:
    run = {s for svc in kenett_containers().values() for s in svc["command"][2:]}
    assert installed_services() <= run


def test_service_containers_are_configured_through_valid_kenett_settings(monkeypatch) -> None:
    for svc in kenett_containers().values():
        env = svc["environment"]
        assert env["KENETT_NATS_URL"].startswith("nats://nats:")
        for key, value in env.items():
            value = value.replace("${KENETT_ORG:-demo}", "demo")
            value = value.replace("${POSTGRES_PASSWORD:-kenett}", "kenett")
            monkeypatch.setenv(key, value)
        s = Settings()
        assert s.database_url.startswith("postgresql+asyncpg://")
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (ROOT / svc["build"]["dockerfile"]).exists()


def test_compose_mounts_the_nats_config_and_enables_jetstream() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    nats = compose["services"]["nats"]
    mount = next(v for v in nats["volumes"] if v.startswith("./deploy/nats/"))
    conf = (ROOT / mount.split(":")[0]).read_text()
    assert "jetstream" in conf
    assert "store_dir" in conf


def test_the_distributed_nats_config_is_valid_and_syncs_every_write() -> None:
    """One server without replicas: a message it acknowledged survives a power cut only if it
    synced it first (KENETT_DURABILITY's counterpart for an external NATS)."""
    conf = ROOT / "deploy" / "nats" / "single.conf"
    assert re.search(r"^\s*sync_interval:\s*always\s*$", conf.read_text(), re.M)
    done = subprocess.run(
        [nats_server_binary(), "-c", str(conf), "-t"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_service_container_checks_its_own_process() -> None:
    """A scaled service's containers each report on themselves (``kenett status --here``),
    for the service they run, so a stuck instance is restarted and not hidden by the others."""
    for name, svc in kenett_containers().items():
        test = svc["healthcheck"]["test"]
        assert test[:4] == ["CMD", "kenett", "status", "--here"], name
        assert test[test.index("--service") + 1 :][:1] == svc["command"][2:3], name
        done = subprocess.run([KENETT, *test[2:], "--help"], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr  # the options exist
