"""A whole federation on this machine, on loopback: a hub and one leaf-node nats-server per
organisation, each with its own JetStream domain and key (``kenett federation up``, the
federation tests and the benchmark). Services are started by the caller: in-process hosts in
tests, one ``kenett run`` process per organisation in ``up``."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from shared.federation.topology import OrgSpec, Topology
from shared.runtime.natsserver import NatsServer, free_port
from shared.runtime.process import await_output, drain_to

DEMO_ORGS = (
    OrgSpec("sykehuset", "hospital", "Sykehuset Innlandet"),
    OrgSpec("lund", "municipality", "Lund kommune"),
    OrgSpec("iveland", "municipality", "Iveland kommune"),
)


@dataclass
class LocalFederation:
    """Generate the configuration under ``root`` and run the servers."""

    root: Path
    orgs: tuple[OrgSpec, ...] = DEMO_ORGS
    hub_port: int = 0
    hub_leaf_port: int = 0
    sync_always: bool = False
    """A demo's or a test's leaves sync every two minutes (nats-server's default); the
    configurations ``kenett federation config`` writes for real use sync every write."""
    topology: Topology = field(init=False)
    hub: NatsServer = field(init=False)
    leaves: dict[str, NatsServer] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.hub_port = self.hub_port or free_port()
        self.hub_leaf_port = self.hub_leaf_port or free_port()
        orgs = [
            OrgSpec(o.code, o.kind, o.name, o.client_port if o.client_port != 4222 else free_port())
            for o in self.orgs
        ]
        self.orgs = tuple(orgs)
        self.topology = Topology(
            orgs=orgs,
            hub_host="127.0.0.1",
            hub_port=self.hub_port,
            hub_leaf_port=self.hub_leaf_port,
            hub_url=f"nats-leaf://127.0.0.1:{self.hub_leaf_port}",
            leaf_host="127.0.0.1",
            store_dir=str(self.root / "{org}" / "jetstream"),
            sync_always=self.sync_always,
        )
        self.topology.write(self.root / "config")
        self.hub = NatsServer(
            self.root / "hub",
            port=self.hub_port,
            config_file=self.root / "config" / "hub.conf",
            log_file=self.root / "hub" / "nats-server.log",
            jetstream=False,
        )
        for o in orgs:
            self.leaves[o.code] = NatsServer(
                self.root / o.code / "jetstream",
                port=o.client_port,
                config_file=self.root / "config" / o.code / "nats-leaf.conf",
                log_file=self.root / o.code / "nats-server.log",
                jetstream=False,  # the config turns it on, in the organisation's domain
            )

    def leaf_url(self, org: str) -> str:
        return self.leaves[org].url

    def federation_file(self, org: str) -> Path:
        return self.root / "config" / org / "federation.json"

    def start(self) -> LocalFederation:
        try:
            self.hub.start()
            for leaf in self.leaves.values():
                leaf.start()
        except BaseException:
            self.stop()
            raise
        return self

    async def prepare_streams(self) -> None:
        """Every organisation's outbound stream, then every inbound one: so that no source
        starts before the stream it reads exists (the server would retry it only after 10 s)."""
        from shared.federation.streams import ensure_federation_streams
        from shared.federation.topology import load_org_file
        from shared.natsconn import connect_once

        for outbound_only in (True, False):
            for code in self.leaves:
                nc = await connect_once(self.leaf_url(code), "kenett-federation-setup")
                try:
                    fed = load_org_file(self.federation_file(code))
                    await ensure_federation_streams(
                        nc.jetstream(), fed, outbound_only=outbound_only
                    )
                finally:
                    await nc.close()

    def stop_hub(self) -> None:
        self.hub.stop()

    def start_hub(self) -> None:
        self.hub.start()

    def stop(self) -> None:
        for leaf in self.leaves.values():
            with contextlib.suppress(Exception):
                leaf.stop()
        with contextlib.suppress(Exception):
            self.hub.stop()

    def __enter__(self) -> LocalFederation:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


KENETT = str(Path(sys.executable).parent / "kenett")


class OrgProcess:
    """One organisation's services: ``kenett run <every service>`` against its leaf server."""

    def __init__(self, federation: LocalFederation, org: OrgSpec, services: list[str]) -> None:
        self.org = org
        self.log = federation.root / org.code / "kenett.log"
        self.env = {
            **os.environ,
            "KENETT_ORG": org.code,
            "KENETT_ORG_KIND": org.kind,
            "KENETT_ORG_NAME": org.name,
            "KENETT_NATS_URL": federation.leaf_url(org.code),
            "KENETT_DATABASE_URL": (
                f"sqlite+aiosqlite:///{federation.root / org.code / 'db'}/{{service}}.db"
            ),
            "KENETT_FEDERATION_FILE": str(federation.federation_file(org.code)),
            "KENETT_VAR_DIR": str(federation.root / org.code),
            "KENETT_LOG_FORMAT": "json",
        }
        self.services = services
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> OrgProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [KENETT, "run", *self.services],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C goes to `kenett federation up`, which stops us
        )
        assert self.proc.stdout is not None
        seen = await_output(self.proc, self.proc.stdout, b"services started", timeout)
        drain_to(self.proc.stdout, self.log, seen)
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
