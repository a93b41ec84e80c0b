"""Compute: the dbt profile target of the engine, secrets only as env_var() references."""

from __future__ import annotations

import re

import pytest
import yaml

from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params

ENV_VAR = re.compile(r"env_var\('([A-Z_][A-Z0-9_]*)'\)")


@pytest.mark.parametrize("name", params(PluginType.COMPUTE))
def test_dbt_output_is_a_profile_target_of_its_adapter(name: str, sandbox: Sandbox) -> None:
    plugin = sandbox.create(PluginType.COMPUTE, name)
    packages = plugin.required_dbt_packages()
    assert packages and all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", p) for p in packages), packages
    local = plugin.dbt_output(product_slug="customer_360", catalog=None)
    # the target's adapter is one of the packages the profile needs
    assert f"dbt-{local['type']}" in {p.partition("==")[0] for p in packages}
    assert yaml.safe_load(yaml.safe_dump({"p": {"target": "t", "outputs": {"t": local}}}))["p"]["outputs"]["t"] == local


@pytest.mark.parametrize("name", params(PluginType.COMPUTE))
def test_dbt_output_attaches_a_catalog_through_env_var_references(name: str, sandbox: Sandbox) -> None:
    polaris = sandbox.create(PluginType.CATALOG, "polaris")  # a catalog DuckDB attaches, with credentials
    catalog = polaris.duckdb_attach("")
    output = sandbox.create(PluginType.COMPUTE, name).dbt_output(product_slug="customer_360", catalog=catalog)
    text = str(output)
    assert all(v not in text for v in sandbox.secrets.values())
    # what the catalog's run_env provides is what the profile reads
    provided = set(polaris.run_env(sandbox.resolver()))
    assert provided and provided <= set(ENV_VAR.findall(text))
    assert catalog is not None and catalog["attach"]["alias"] in text
