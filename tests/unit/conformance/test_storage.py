"""Storage: the warehouse root, FileIO properties and dbt secrets; the run is given what dbt reads."""

from __future__ import annotations

import re

import pytest

from floe.config._base import SecretRef
from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params

ENV_VAR = re.compile(r"env_var\('([A-Z_][A-Z0-9_]*)'\)")


@pytest.mark.parametrize("name", params(PluginType.STORAGE))
def test_warehouse_root_is_a_uri(name: str, sandbox: Sandbox) -> None:
    root = sandbox.create(PluginType.STORAGE, name).warehouse_root(sandbox.tmp)
    assert re.fullmatch(r"(file://|s3://|gs://|abfss://)\S+", root), root
    if root.startswith("file://"):
        assert root.removeprefix("file://").startswith("/"), "a local root is absolute"


@pytest.mark.parametrize("name", params(PluginType.STORAGE))
def test_fileio_properties_resolve_the_configs_references(name: str, sandbox: Sandbox) -> None:
    plugin = sandbox.create(PluginType.STORAGE, name)
    props = plugin.fileio_properties(sandbox.resolver())
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in props.items())
    refs = {str(v) for _, v in plugin.config if isinstance(v, SecretRef)}
    assert set(sandbox.resolved) == refs


@pytest.mark.parametrize("name", params(PluginType.STORAGE))
def test_dbt_secrets_read_exactly_what_run_env_provides(name: str, sandbox: Sandbox) -> None:
    plugin = sandbox.create(PluginType.STORAGE, name)
    secrets = plugin.dbt_secrets()
    assert all(isinstance(s, dict) and s.get("type") and s.get("name") for s in secrets)
    assert all(v not in str(secrets) for v in sandbox.secrets.values()), "secrets reach dbt only as env_var()"
    env = plugin.run_env(sandbox.resolver())
    assert set(env.values()) <= set(sandbox.secrets.values())
    assert set(ENV_VAR.findall(str(secrets))) == set(env)
