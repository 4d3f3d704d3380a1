"""Process settings (pydantic-settings, env prefix ``KENETT_``), validated once at start-up."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

DEFAULT_EMBEDDED_NATS_PORT = 4322


class Durability(StrEnum):
    """What an acknowledged commit survives (``Settings.durability``)."""

    CRASH = "crash"
    POWER = "power"


class Settings(BaseSettings):
    """One settings object per process; every field can be set as ``KENETT_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="KENETT_", extra="ignore")

    org: str = Field(
        "demo",
        description="This instance's organisation, a NATS subject token: a-z, 0-9, - or _.",
    )
    org_name: str = Field("", description="The organisation's name in letters (e.g. Lund kommune).")
    served_orgs: list[str] = Field(
        default_factory=list,
        description="Municipalities this instance serves (an inter-municipal KE serves several); "
        "default: just org. JSON list in the environment.",
    )
    nats_url: str = Field("", description="NATS to connect to; empty in all-in-one mode.")
    nats_port: int = Field(
        DEFAULT_EMBEDDED_NATS_PORT,
        ge=1,
        le=65535,
        description="Port of the embedded nats-server that `kenett up` starts.",
    )
    var_dir: Path = Field(Path("var"), description="Where all-in-one mode keeps its data.")
    database_url: str = Field(
        "",
        description=(
            "SQLAlchemy async URL. SQLite URLs must contain {service} (one file per service); "
            "a PostgreSQL URL is shared, each service in its own schema."
        ),
    )
    database_schema_prefix: str = Field("", description="Prefix for the PostgreSQL schema names.")
    durability: Durability = Field(
        Durability.CRASH,
        description="What a commit survives before anything is acked or answered. crash: a "
        "crash of kenett or of nats-server (SQLite synchronous=NORMAL; nats-server syncs to "
        "disk every 2 minutes). power: also a power cut or an operating-system crash (SQLite "
        "synchronous=FULL, each commit synced off the event loop; the embedded nats-server "
        "syncs every write): slower (docs/benchmarks.md). PostgreSQL follows its own "
        "synchronous_commit; a NATS cluster replicates.",
    )
    event_loop: Literal["uvloop", "asyncio"] = Field(
        "uvloop",
        description="The event loop of kenett's long-running processes (kenett up, kenett "
        "run). uvloop (libuv) spends less CPU per message than the standard loop "
        "(docs/benchmarks.md, pipeline); asyncio is the fallback, also used where uvloop is "
        "not installed (Windows).",
    )
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    org_kind: Literal["municipality", "hospital"] = Field(
        "municipality",
        description="A municipality (or an inter-municipal KE) or a hospital trust (R17).",
    )
    caseload_limit: int = Field(5, ge=1, le=100, description="Default caseload limit (R10).")
    auto_appoint: bool = Field(
        False,
        description="Appoint the top suggestion with free capacity as soon as coordinator "
        "consent is given, instead of waiting for the KE to confirm (R9).",
    )
    plan_retention_days: int = Field(
        3650,
        ge=0,
        le=36500,
        description="Days a closed plan is kept before the purge deletes or anonymises it.",
    )
    plan_retention_mode: Literal["delete", "anonymise"] = Field(
        "anonymise",
        description="What the purge does with a closed plan past retention: delete it, or keep "
        "its shape for statistics with every text and name removed.",
    )
    duty_due_days: dict[str, int] = Field(
        default_factory=dict,
        description="Days from first appointment to each duty's due date, e.g. "
        '{"map_children": 21}; defaults: inform_rights 14, map_children 30, first_meeting 30.',
    )
    login_url: str = Field(
        "https://kenett.example.no",
        description="Where users log in; the only link an e-mail, SMS or webhook carries.",
    )
    channels: list[str] | None = Field(
        None,
        description='Notification channels to enable (JSON list, e.g. ["email", "sms"]); '
        "default: every installed channel. The in-app inbox is always on.",
    )
    smtp_host: str = Field("", description="SMTP server for the e-mail channel; empty: no e-mail.")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str = Field("kenett@example.no", description="Sender address of notices.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_s: float = Field(10.0, gt=0)
    webhook_secret: SecretStr = Field(
        SecretStr(""),
        description="Key for the HMAC-SHA256 signature of webhook posts; empty: no webhooks.",
    )
    webhook_timeout_s: float = Field(10.0, gt=0)
    sms_dev_log: Path | None = Field(
        None,
        description="The development SMS channel appends what it would send here (JSON lines); "
        "default var_dir/sms-outbox.jsonl.",
    )
    notify_sweep_s: float = Field(
        30.0, gt=0, description="Seconds between notifications' sweeps (reminders, escalation)."
    )
    federation_file: Path | None = Field(
        None,
        description="This organisation's federation file from `kenett federation config` (its key "
        "and the directory of linked organisations); unset: not linked.",
    )
    xorg_receipt_timeout_s: float = Field(
        900.0,
        gt=0,
        description="Seconds a cross-organisation message may wait for its receipt "
        "before the KE is told.",
    )
    federation_sweep_s: float = Field(
        30.0, gt=0, description="Seconds between federation's sweeps for overdue receipts."
    )
    max_deliver: int = Field(5, ge=1, le=100, description="Deliveries before a dead letter.")
    ack_wait_s: float = Field(30.0, gt=0, description="Seconds before JetStream redelivers.")
    relay_poll_s: float = Field(
        1.0, gt=0, description="Outbox relay fallback poll interval (rows from other processes)."
    )
    command_timeout_s: float = Field(10.0, gt=0, description="Client wait for a command reply.")
    projection_wait_s: float = Field(
        0.25,
        ge=0,
        le=5,
        description="Seconds a command on a case its service has not yet heard of waits for "
        "the owner's event before asking the owner (0: ask at once).",
    )

    @field_validator("duty_due_days")
    @classmethod
    def _duty_days_known(cls, value: dict[str, int]) -> dict[str, int]:
        known = ("inform_rights", "map_children", "first_meeting")
        for key, days in value.items():
            if key not in known:
                raise ValueError(f"unknown duty {key!r}; known: {', '.join(known)}")
            if not 1 <= days <= 365:
                raise ValueError(f"{key}: days must be from 1 to 365, got {days}")
        return value

    @field_validator("org")
    @classmethod
    def _org_is_subject_token(cls, value: str) -> str:
        if not _TOKEN.match(value):
            raise ValueError(
                "must be 1-63 characters of lower-case letters, digits, '-' or '_' "
                "(it is used as a NATS subject token)"
            )
        return value

    @field_validator("federation_file")
    @classmethod
    def _federation_file_is_there(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("no such file (make it with `kenett federation config`)")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_is_async(cls, value: str) -> str:
        if not value:
            return value
        if value.startswith(("postgresql://", "postgres://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        elif value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL "
                "(postgresql:// and sqlite:/// are accepted and converted)"
            )
        if value.startswith("sqlite") and "{service}" not in value:
            raise ValueError(
                "a SQLite URL must contain {service} so that each service has its own file, "
                "e.g. sqlite+aiosqlite:///var/{service}.db"
            )
        return value

    def serves(self) -> list[str]:
        """The organisations reports may be for."""
        return self.served_orgs or [self.org]

    def display_name(self) -> str:
        """The name letters are signed with."""
        return self.org_name or self.org

    def resolved_database_url(self) -> str:
        """The database URL template, with the all-in-one default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir.resolve()}/{{service}}.db"
