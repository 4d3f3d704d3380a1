"""Settings (KENETT_ prefix, clear errors) and the plugin registry."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
from pydantic import ValidationError

from shared.config import Settings
from shared.plugins import PluginError, ServicePlugin, _load, discover, select


def test_settings_come_from_kenett_environment_variables(monkeypatch) -> None:
    monkeypatch.setenv("KENETT_ORG", "lund")
    monkeypatch.setenv("KENETT_CASELOAD_LIMIT", "7")
    monkeypatch.setenv("KENETT_DATABASE_URL", "postgresql://u@db/kenett")
    s = Settings()
    assert (s.org, s.caseload_limit) == ("lund", 7)
    assert s.database_url == "postgresql+asyncpg://u@db/kenett"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("org", "Lund Kommune", "subject token"),
        ("database_url", "sqlite:///var/kenett.db", "must contain {service}"),
        ("database_url", "mysql://x/y", r"must be a sqlite\+aiosqlite"),
        ("caseload_limit", 0, "greater than or equal to 1"),
    ],
)
def test_bad_settings_are_refused_with_a_specific_reason(field, value, message) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**{field: value})


def test_all_in_one_default_is_one_sqlite_file_per_service(tmp_path) -> None:
    url = Settings(var_dir=tmp_path).resolved_database_url()
    assert url == f"sqlite+aiosqlite:///{tmp_path}/{{service}}.db"


def test_the_core_services_are_registered_as_entry_point_plugins() -> None:
    found = discover()
    assert set(found) == {
        "intake",
        "consent",
        "assignment",
        "planning",
        "notifications",
        "federation",
    }
    for name, p in found.items():
        assert p.plugin.name == name
        assert p.entry_point == f"services.{name}.plugin:plugin"
        assert p.plugin.migrations.is_dir()


def test_an_unknown_service_name_is_refused_with_the_installed_ones() -> None:
    with pytest.raises(PluginError, match=r"unknown service.*installed: assignment"):
        select(["intake", "billing"])


def test_a_broken_or_misnamed_plugin_is_reported_by_entry_point() -> None:
    broken = EntryPoint("billing", "no.such.module:plugin", "kenett.services")
    with pytest.raises(PluginError, match=r"'billing' .* failed to load"):
        _load(broken)
    misnamed = EntryPoint("billing", "services.intake.plugin:plugin", "kenett.services")
    with pytest.raises(PluginError, match="names a plugin called 'intake'"):
        _load(misnamed)
    wrong_type = EntryPoint(
        "billing", "shared.config:DEFAULT_EMBEDDED_NATS_PORT", "kenett.services"
    )
    with pytest.raises(PluginError, match="not a ServicePlugin"):
        _load(wrong_type)
    assert ServicePlugin  # the protocol a third party implements
