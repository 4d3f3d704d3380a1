"""The federation's shape and its generated configuration: a hub NATS server with one account
per organisation, and per organisation a leaf-node NATS server with its own JetStream domain,
credentials (an nkey) and the directory of the others' public keys.

Everything here is pure (no I/O) except ``write``; the hub's exports and imports are what keep
organisations apart, so they are generated from one rule and tested (tests/federation).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.federation.keys import OrgKey, is_public_key

OrgKind = Literal["municipality", "hospital"]
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,30}$")


def out_stream(org: str) -> str:
    """The sender's outbound stream, in its own domain. Named per organisation so that the
    flow-control subjects (``$JS.FC.<stream>.>``) of different senders never collide."""
    return f"XORG_OUT_{org}"


def in_stream(org: str) -> str:
    """The receiver's inbound stream: it only sources, from each partner's outbound stream."""
    return f"XORG_IN_{org}"


def xorg_subject(to: str, sender: str) -> str:
    """``kenett-xorg.<to>.<from>``: one literal subject per direction, so a source filter (and
    the hub export that allows it) names exactly one sender and one receiver. What the message
    is lives inside the signed body, never in the subject."""
    return f"kenett-xorg.{to}.{sender}"


def deliver_prefix(to: str, sender: str) -> str:
    """Where the sender's domain delivers what the receiver sources."""
    return f"kenett-xdlv.{to}.{sender}"


def account(org: str) -> str:
    return "ORG_" + org.upper().replace("-", "_")


class Partner(BaseModel):
    """What every organisation knows of another: its name, kind and public key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name: str = Field(min_length=1, max_length=120)
    kind: OrgKind
    public_key: str

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _CODE.match(value):
            raise ValueError("an organisation code is 1-31 of a-z, 0-9, '-', '_'")
        return value

    @field_validator("public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not is_public_key(value):
            raise ValueError("not a user public nkey (U...)")
        return value


class OrgFederation(BaseModel):
    """One organisation's federation file (``KENETT_FEDERATION_FILE``): its own key and the
    directory of every organisation in the federation, itself included. Secret: mode 0600."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    org: str
    seed: str
    directory: dict[str, Partner]

    def key(self) -> OrgKey:
        return OrgKey(self.seed)

    def partners(self) -> list[str]:
        return sorted(code for code in self.directory if code != self.org)

    def me(self) -> Partner:
        return self.directory[self.org]


@dataclass(frozen=True)
class OrgSpec:
    code: str
    kind: OrgKind
    name: str
    client_port: int = 4222


@dataclass
class Topology:
    """What ``kenett federation config`` writes."""

    orgs: list[OrgSpec]
    hub_host: str = "0.0.0.0"
    hub_port: int = 4222
    hub_leaf_port: int = 7422
    hub_url: str = "nats-leaf://hub:7422"
    """How leaf servers reach the hub."""
    leaf_host: str = "0.0.0.0"
    store_dir: str = "/data"
    """A leaf's JetStream directory; ``{org}`` is replaced by the organisation's code."""
    keys: dict[str, OrgKey] = field(default_factory=dict)
    sync_always: bool = True
    """A leaf is one server without replicas: it keeps what it acknowledged through a power cut
    only if it syncs every write (``sync_interval: always``; ``KENETT_DURABILITY=power``).
    Off, it syncs every two minutes, as nats-server does by default (a local demo)."""

    def __post_init__(self) -> None:
        codes = [o.code for o in self.orgs]
        if len(self.orgs) < 2:
            raise ValueError("a federation needs at least two organisations")
        for code in codes:
            if not _CODE.match(code):
                raise ValueError(
                    f"organisation code {code!r}: use 1-31 of a-z, 0-9, '-', '_' (a NATS token)"
                )
        if len(set(codes)) != len(codes):
            raise ValueError("organisation codes must be unique")
        accounts = [account(c) for c in codes]
        if len(set(accounts)) != len(accounts):
            raise ValueError("two organisation codes differ only by '-' and '_'")
        for code in codes:
            self.keys.setdefault(code, OrgKey.generate())

    def directory(self) -> dict[str, Partner]:
        return {
            o.code: Partner(
                code=o.code, name=o.name, kind=o.kind, public_key=self.keys[o.code].public
            )
            for o in self.orgs
        }

    def org_file(self, code: str) -> OrgFederation:
        return OrgFederation(org=code, seed=self.keys[code].seed, directory=self.directory())

    def hub_conf(self) -> str:
        """The hub: one account per organisation, users by nkey, and for each ordered pair
        (sender S, receiver R) exactly three things crossing from S's account to R's:
        - the right to create, in S's domain, a consumer on S's outbound stream filtered to
          ``kenett-xorg.R.S`` (and no other filter: the filter is part of the API subject);
        - S's deliveries under ``kenett-xdlv.R.S``;
        - flow-control replies back to S's outbound stream's consumers.
        Nothing else is exported, so R cannot read what is addressed to anyone else, nor create
        consumers on anything else of S's."""
        codes = [o.code for o in self.orgs]
        lines = [
            "# Generated by `kenett federation config`; do not edit by hand.",
            "server_name: kenett-hub",
            f"listen: {self.hub_host}:{self.hub_port}",
            f"leafnodes {{ listen: {self.hub_host}:{self.hub_leaf_port} }}",
            "accounts {",
        ]
        for s in codes:
            exports, imports = [], []
            for r in codes:
                if r == s:
                    continue
                exports += [
                    f'{{service: "$JS.{s}.API.CONSUMER.CREATE.{out_stream(s)}.*.'
                    f'{xorg_subject(r, s)}", accounts: [{account(r)}]}}',
                    f'{{stream: "{deliver_prefix(r, s)}.>", accounts: [{account(r)}]}}',
                ]
                imports += [
                    f'{{service: {{account: {account(r)}, subject: "$JS.{r}.API.CONSUMER.CREATE.'
                    f'{out_stream(r)}.*.{xorg_subject(s, r)}"}}}}',
                    f'{{stream: {{account: {account(r)}, subject: "{deliver_prefix(s, r)}.>"}}}}',
                    f'{{service: {{account: {account(r)}, subject: "$JS.FC.{out_stream(r)}.>"}}}}',
                ]
            peers = ", ".join(account(r) for r in codes if r != s)
            exports.append(f'{{service: "$JS.FC.{out_stream(s)}.>", accounts: [{peers}]}}')
            lines.append(f"  {account(s)}: {{")
            lines.append(f"    users: [{{nkey: {self.keys[s].public}}}]")
            lines.append("    exports: [")
            lines += [f"      {e}" for e in exports]
            lines.append("    ]")
            lines.append("    imports: [")
            lines += [f"      {i}" for i in imports]
            lines.append("    ]")
            lines.append("  }")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def leaf_conf(self, code: str) -> str:
        """An organisation's own NATS: JetStream in its own domain, joined to the hub as a leaf
        with its own nkey. Its services connect to it locally."""
        spec = next(o for o in self.orgs if o.code == code)
        store = self.store_dir.replace("{org}", code)
        sync = ", sync_interval: always" if self.sync_always else ""
        return "\n".join(
            [
                "# Generated by `kenett federation config`; contains this organisation's key.",
                f"server_name: kenett-{code}",
                f"listen: {self.leaf_host}:{spec.client_port}",
                f"jetstream {{ store_dir: {json.dumps(store)}, domain: {code}{sync} }}",
                "leafnodes {",
                '  reconnect: "1s"',
                f'  remotes: [{{url: {json.dumps(self.hub_url)}, nkey: "{self.keys[code].seed}"}}]',
                "}",
                "",
            ]
        )

    def write(self, out: Path) -> list[Path]:
        """Write the hub config, the public directory and each organisation's leaf config and
        federation file (both secret: mode 0600) under ``out``; returns the paths."""
        out.mkdir(parents=True, exist_ok=True)
        written = []

        def put(path: Path, text: str, secret: bool) -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
            with os.fdopen(fd, "w") as f:
                f.write(text)
            if secret:
                os.chmod(path, 0o600)
            written.append(path)

        put(out / "hub.conf", self.hub_conf(), secret=False)
        directory = {c: p.model_dump() for c, p in self.directory().items()}
        put(out / "directory.json", json.dumps(directory, indent=2) + "\n", secret=False)
        for o in self.orgs:
            put(out / o.code / "nats-leaf.conf", self.leaf_conf(o.code), secret=True)
            put(
                out / o.code / "federation.json",
                self.org_file(o.code).model_dump_json(indent=2) + "\n",
                secret=True,
            )
        return written


def load_org_file(path: Path) -> OrgFederation:
    """Read and check an organisation's federation file; errors name the file and the field."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        fed = OrgFederation.model_validate_json(text)
    except ValueError as exc:
        from pydantic import ValidationError

        from shared.contracts.envelope import describe_validation_error

        reason = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
        raise ValueError(f"{path}: {reason}") from None
    if fed.org not in fed.directory:
        raise ValueError(f"{path}: the directory does not list this organisation ({fed.org})")
    if fed.directory[fed.org].public_key != fed.key().public:
        raise ValueError(f"{path}: the seed does not belong to {fed.org}'s public key")
    return fed
