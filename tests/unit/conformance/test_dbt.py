"""dbt: one real invocation on a tiny project, with the compute plugin's profile: results per node."""

from __future__ import annotations

import pytest
import yaml

from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params


@pytest.mark.parametrize("name", params(PluginType.DBT))
def test_invoke_runs_dbt_and_reports_each_node(name: str, sandbox: Sandbox) -> None:
    project = sandbox.tmp / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(yaml.safe_dump(
        {"name": "conformance", "version": "1.0.0", "profile": "conformance", "config-version": 2}))
    (project / "models" / "good.sql").write_text("select 1 as x\n")
    (project / "models" / "broken.sql").write_text("select x from a_table_that_does_not_exist\n")
    output = sandbox.create(PluginType.COMPUTE, "duckdb").dbt_output(product_slug="conformance", catalog=None)
    (project / "profiles.yml").write_text(yaml.safe_dump(
        {"conformance": {"target": "t", "outputs": {"t": output}}}))
    result = sandbox.create(PluginType.DBT, name).invoke(
        ["run"], project_dir=project, profiles_dir=project,
        env={"FLOE_DUCKDB_PATH": str(sandbox.tmp / "conformance.duckdb")})
    assert result.command == "run"
    assert result.success is False, "a failing model fails the invocation"
    status = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in result.results}
    assert status == {"good": "success", "broken": "error"}, result.message
    assert "a_table_that_does_not_exist" in result.message
