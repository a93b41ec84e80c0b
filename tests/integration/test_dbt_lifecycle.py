"""Plain dbt commands against the compiled embedded profile pass for all three products (RC-6)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.conftest import DEMO, PRODUCTS

from floe.compiler.stages import compile_pipeline
from floe.contract import ARTIFACTS_FILE
from floe.plugins.dbt.core import DbtCorePlugin
from floe.runtime.context import RunContext
from floe.runtime.ingest import run_ingestion

pytestmark = pytest.mark.integration


@pytest.mark.requirement("15-FR-008")
@pytest.mark.parametrize("product", PRODUCTS)
def test_dbt_lifecycle(product: str, tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo, ignore=shutil.ignore_patterns("target", "logs", ".floe", "*.duckdb"))
    out = tmp_path / "out"
    artifacts = compile_pipeline(demo / product, demo / "manifest.embedded.yaml", output_dir=out)
    project = demo / product
    ctx = RunContext.load(out / ARTIFACTS_FILE)
    env = {"FLOE_DUCKDB_PATH": str(ctx.duckdb_path)}
    # what a floe run does before dbt: the product's ingested raw tables, which its models read via source()
    assert [t.rows > 0 for t in run_ingestion(ctx)] == [True] * len(artifacts.ingestion)
    dbt = DbtCorePlugin()
    vars_arg = ["--vars", str(artifacts.dbt.vars)]
    for command in (["deps"], ["parse"], ["seed"], ["run"], ["test"], ["docs", "generate"], ["run", "--full-refresh"]):
        result = dbt.invoke([*command, *vars_arg], project_dir=project, profiles_dir=out, env=env)
        assert result.success, f"dbt {' '.join(command)} failed for {product}:\n{result.message}"
    assert (project / "target" / "catalog.json").exists()
