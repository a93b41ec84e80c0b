"""How the conformance suites exercise each installed plugin: one sample configuration per implementation.

A plugin the registry lists without a sample here fails ``test_contract.py::test_every_implementation_has_a_sample``
(and its type's behaviour suite): adding a plugin means saying how it is exercised. Add the sample to
``SAMPLES[PluginType.<TYPE>]`` below, keyed by the plugin's entry-point name.

Placeholders in string values: ``{tmp}`` (the test's own temporary folder) and ``{sink}`` (the URL of a
local HTTP receiver started for the test). Secret references name the variables of ``SECRET_VALUES``,
which the suites set before using a plugin; no sample holds a secret value itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from floe.plugins.registry import PluginRegistry
from floe.plugins.types import PluginType

HERE = "tests/unit/conformance/samples.py"

SECRET_VALUES: dict[str, str] = {
    "CONF_CLIENT_ID": "conformance-client-id",
    "CONF_CLIENT_SECRET": "conformance-client-secret",  # pragma: allowlist secret - generated test value
    "CONF_ACCESS_KEY": "conformance-access-key",
    "CONF_SECRET_KEY": "conformance-secret-key",  # pragma: allowlist secret - generated test value
    "CONF_DB_URL": "sqlite:///{tmp}/conformance-catalog.db",
    "CONF_TOKEN": "conformance-token-value",  # pragma: allowlist secret - generated test value
}
"""Values of the referenced secrets (env vars); none may appear in a config dump or a dbt profile."""

SAMPLES: dict[PluginType, dict[str, dict[str, Any]]] = {
    PluginType.COMPUTE: {
        "duckdb": {"type": "duckdb", "threads": 2, "memory_limit": "1GB"},
    },
    PluginType.ORCHESTRATOR: {
        "dagster": {"type": "dagster", "max_concurrent_runs": 2},
    },
    PluginType.CATALOG: {
        "sql": {"type": "sql"},
        "polaris": {"type": "polaris", "uri": "http://127.0.0.1:8181/api/catalog", "warehouse": "w",
                    "client_id": "env:CONF_CLIENT_ID", "client_secret": "env:CONF_CLIENT_SECRET"},
        "iceberg-rest": {"type": "iceberg-rest", "uri": "http://127.0.0.1:8181", "warehouse": "w",
                         "client_id": "env:CONF_CLIENT_ID", "client_secret": "env:CONF_CLIENT_SECRET"},
        # the third-party example package (tests/fixtures/plugins/floe-example), installed by the dev extra
        "example-sql": {"type": "example-sql", "uri": "env:CONF_DB_URL"},
    },
    PluginType.STORAGE: {
        "local": {"type": "local", "path": "{tmp}/warehouse"},
        "s3": {"type": "s3", "endpoint": "http://127.0.0.1:8333", "bucket": "floe-iceberg",
               "access_key_id": "env:CONF_ACCESS_KEY", "secret_access_key": "env:CONF_SECRET_KEY"},
    },
    PluginType.TELEMETRY_BACKEND: {
        "console": {"type": "console"},
        "otlp": {"type": "otlp", "endpoint": "http://127.0.0.1:4318", "protocol": "http"},
        "jaeger": {"type": "jaeger", "endpoint": "http://127.0.0.1:4317", "query_url": "http://127.0.0.1:16686"},
    },
    PluginType.LINEAGE_BACKEND: {
        "console": {"type": "console"},
        "file": {"type": "file", "path": "lineage/events.jsonl"},
        "marquez": {"type": "marquez", "url": "http://127.0.0.1:5000"},
    },
    PluginType.DBT: {
        "core": {"type": "core", "threads": 1},
    },
    PluginType.SEMANTIC_LAYER: {
        "metricflow": {"type": "metricflow"},
        "cube": {"type": "cube", "api_secret": "env:CONF_TOKEN"},
    },
    PluginType.INGESTION: {
        "dlt": {"type": "dlt"},
    },
    PluginType.QUALITY: {
        "dbt-tests": {"type": "dbt-tests"},
        "soda": {"type": "soda"},
    },
    PluginType.RBAC: {
        "k8s": {"type": "k8s", "namespace": "floe-products"},
    },
    PluginType.ALERT_CHANNEL: {
        "console": {"type": "console"},
        "webhook": {"type": "webhook", "url": "{sink}/hook", "token": "env:CONF_TOKEN"},
        "example-jsonl": {"type": "example-jsonl", "path": "{tmp}/alerts/alerts.jsonl"},
    },
    PluginType.SECRETS: {
        "env": {"type": "env"},
        "file": {"type": "file", "directory": "{tmp}/secrets"},
    },
    PluginType.IDENTITY: {
        "static-token": {"type": "static-token", "token": "env:CONF_TOKEN", "subject": "conformance"},
        "oidc": {"type": "oidc", "issuer_url": "https://issuer.test/idp", "audience": "floe-semantic"},
    },
}


CHECK_FILES: dict[str, tuple[dict[str, Any], dict[str, Any]] | None] = {
    "dbt-tests": None,
    "soda": (
        {"columns": [{"name": "id", "checks": [{"missing": None}]}, {"name": "amount", "checks": [{"missing": None}]}],
         "checks": [{"row_count": {"threshold": {"must_be_greater_than": 2}}}]},
        {"columns": [{"name": "id", "checks": [{"duplicate": None}]},
                     {"name": "amount", "checks": [{"invalid": {"valid_min": 0}}]}]},
    ),
}
"""Per quality plugin: a check file that passes and one that fails on ``test_quality.TABLE`` (ids 1, 2,
3, 3; one negative amount), or None for a plugin that reads no check files."""


def implementations(ptype: PluginType, registry: PluginRegistry | None = None) -> list[str]:
    """Every implementation of ``ptype`` the registry lists (builtin and installed packages)."""
    return (registry or PluginRegistry()).type_names(ptype.slot)


def missing_samples(ptype: PluginType, registry: PluginRegistry | None = None) -> list[str]:
    return [name for name in implementations(ptype, registry) if name not in SAMPLES.get(ptype, {})]


def missing_message(ptype: PluginType, names: list[str]) -> str:
    return (f"installed {ptype.value} plugin(s) {names} have no conformance sample: add "
            f"SAMPLES[PluginType.{ptype.name}][{names[0]!r}] = {{'type': {names[0]!r}, ...}} in {HERE} "
            "(a configuration that needs no running service; secrets as env:CONF_* references)")


def _fill(value: Any, tmp: Path, sink: str) -> Any:
    if isinstance(value, str):
        return value.replace("{tmp}", str(tmp)).replace("{sink}", sink)
    if isinstance(value, dict):
        return {k: _fill(v, tmp, sink) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, tmp, sink) for v in value]
    return value


def sample(ptype: PluginType, name: str, tmp: Path, sink: str = "http://127.0.0.1:9") -> dict[str, Any]:
    """The sample configuration of plugin ``name``; fails the test, saying what to add, when there is none."""
    raw = SAMPLES.get(ptype, {}).get(name)
    if raw is None:
        pytest.fail(missing_message(ptype, [name]), pytrace=False)
    filled: dict[str, Any] = _fill(raw, tmp, sink)
    return filled


def set_secrets(monkeypatch: pytest.MonkeyPatch, tmp: Path) -> dict[str, str]:
    """Put the referenced secrets in the environment; returns their values (to check they never leak)."""
    values = {k: v.replace("{tmp}", str(tmp)) for k, v in SECRET_VALUES.items()}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FLOE_HOME", str(tmp / "floe-home"))  # no platform's secrets.env answers instead
    return values


def params(ptype: PluginType) -> list[Any]:
    return [pytest.param(name, id=name) for name in implementations(ptype)]
