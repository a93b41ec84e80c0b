"""Catalog: PyIceberg properties and the DuckDB attach, secrets resolved through the secrets plugin only."""

from __future__ import annotations

import re

import pytest

from floe.config._base import SecretRef
from floe.config.governance import EnforcementLevel
from floe.contract import ResolvedGovernance
from floe.errors import ConfigError
from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params

ENV_VAR = re.compile(r"env_var\('([A-Z_][A-Z0-9_]*)'\)")
PYICEBERG_TYPES = {"rest", "sql", "hive", "glue", "dynamodb", "bigquery", "in-memory"}


def _refs(plugin: object) -> set[str]:
    return {str(v) for _, v in getattr(plugin, "config") if isinstance(v, SecretRef)}


@pytest.mark.parametrize("name", params(PluginType.CATALOG))
def test_pyiceberg_properties_resolve_secrets_at_run_time(name: str, sandbox: Sandbox) -> None:
    plugin = sandbox.create(PluginType.CATALOG, name)
    root = f"file://{sandbox.tmp}/warehouse"
    props = plugin.pyiceberg_properties(sandbox.resolver(), root)
    assert props["type"] in PYICEBERG_TYPES
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in props.items())
    # every secret reference of the config was resolved through the secrets plugin, none other
    assert set(sandbox.resolved) == _refs(plugin)


@pytest.mark.parametrize("name", params(PluginType.CATALOG))
def test_missing_secret_is_a_config_error_naming_it(name: str, sandbox: Sandbox,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = sandbox.create(PluginType.CATALOG, name)
    refs = _refs(plugin)
    for ref in refs:
        monkeypatch.delenv(SecretRef.model_validate(ref).name)
    if not refs:
        plugin.pyiceberg_properties(sandbox.resolver(), "file:///tmp/wh")
        return
    with pytest.raises(ConfigError) as err:
        plugin.pyiceberg_properties(sandbox.resolver(), "file:///tmp/wh")
    assert any(ref in str(err.value) for ref in refs)
    try:
        env = plugin.run_env(sandbox.resolver())
    except ConfigError as exc:
        assert any(ref in str(exc) for ref in refs)
    else:
        assert env == {}, "run_env gave values for references that are not set"


@pytest.mark.parametrize("name", params(PluginType.CATALOG))
def test_duckdb_attach_reads_exactly_what_run_env_provides(name: str, sandbox: Sandbox) -> None:
    plugin = sandbox.create(PluginType.CATALOG, name)
    attach = plugin.duckdb_attach("")
    env = plugin.run_env(sandbox.resolver())
    assert all(re.fullmatch(r"[A-Z_][A-Z0-9_]*", k) for k in env), env
    # run_env values come from the secrets plugin, nothing else
    assert set(env.values()) <= set(sandbox.secrets.values())
    read = set(ENV_VAR.findall(str(attach))) if attach is not None else set()
    assert read == set(env), "the variables the dbt profile reads are the ones the run is given"
    assert all(v not in str(attach) for v in sandbox.secrets.values()), "secrets reach dbt only as env_var()"
    if attach is not None:
        assert {"attach", "secrets"} <= set(attach) and attach["attach"]["alias"]
    endpoint = plugin.endpoint()
    assert endpoint is None or endpoint.startswith(("http://", "https://"))


@pytest.mark.parametrize("name", params(PluginType.CATALOG))
def test_table_properties_follow_governance(name: str, sandbox: Sandbox) -> None:
    gov = ResolvedGovernance(
        policy_enforcement_level=EnforcementLevel.WARN, minimum_test_coverage=0, require_descriptions=False,
        require_column_descriptions=False, block_on_failure=True, naming_pattern=None, data_retention_days=7,
        default_ttl_hours=48, snapshot_keep_last=5, audit_logging=True, secret_scanning=True)
    tp = sandbox.create(PluginType.CATALOG, name).table_properties(gov)
    assert tp["history.expire.max-snapshot-age-ms"] == str(48 * 3600 * 1000)
    assert tp["history.expire.min-snapshots-to-keep"] == "5"
    assert tp["floe.data-retention-days"] == "7"
