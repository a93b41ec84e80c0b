"""dbt owns the SQL: on the platform each product's run is one `dbt build` (seeds, models, tests) whose
results floe keeps; the projects are self-contained and document against the real warehouse (15-FR-008)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import DEMO, PRODUCTS
from tests.e2e.conftest import load_artifacts, run_context

from floe.runtime.runner import RunResult

pytestmark = pytest.mark.e2e


def _results(run: RunResult) -> list[dict[str, Any]]:
    from floe.runtime.observe import run_results

    results = run_results(run_context(run))
    assert results, f"no dbt run_results kept for {run.product}"
    return results


def _kind(result: dict[str, Any]) -> str:
    return str(result["unique_id"].split(".", 1)[0])


@pytest.mark.requirement("15-FR-008")
@pytest.mark.parametrize("product", PRODUCTS)
def test_dbt_project_matches_the_compiled_product(compiled: dict[str, Path], product: str) -> None:
    project = yaml.safe_load((DEMO / product / "dbt_project.yml").read_text())
    a = load_artifacts(compiled[product])
    assert project["name"] == a.dbt.project_name == a.identity.slug
    assert project["profile"] == a.dbt.profile_name
    sql = {p.stem for p in (DEMO / product / "models").rglob("*.sql")}
    assert {m.name for m in a.transforms.models} == sql
    seeds = {p.stem for p in (DEMO / product / "seeds").glob("*.csv")}
    assert set(a.transforms.seeds) == seeds


@pytest.mark.requirement("15-FR-008")
@pytest.mark.parametrize("product", PRODUCTS)
def test_build_ran_every_seed_and_model_successfully(platform_runs: dict[str, RunResult],
                                                     compiled: dict[str, Path], product: str) -> None:
    results = _results(platform_runs[product])
    a = load_artifacts(compiled[product])
    by_kind: dict[str, dict[str, str]] = {}
    for r in results:
        by_kind.setdefault(_kind(r), {})[r["unique_id"].rsplit(".", 1)[-1]] = r["status"]
    assert by_kind["seed"] == dict.fromkeys(a.transforms.seeds, "success")
    assert by_kind["model"] == {m.name: "success" for m in a.transforms.models}


@pytest.mark.requirement("15-FR-008")
@pytest.mark.parametrize("product", PRODUCTS)
def test_dbt_tests_ran_and_passed(platform_runs: dict[str, RunResult],
                                  compiled: dict[str, Path], product: str) -> None:
    tests = [r for r in _results(platform_runs[product]) if _kind(r) == "test"]
    expected = sum(m.test_count for m in load_artifacts(compiled[product]).transforms.models)
    assert len(tests) >= expected > 0
    failing = [(r["unique_id"], r["status"]) for r in tests if r["status"] != "pass"]
    assert failing == []


@pytest.mark.requirement("15-FR-008")
@pytest.mark.parametrize("product", PRODUCTS)
def test_no_model_starts_before_its_dependencies_finished(platform_runs: dict[str, RunResult],
                                                          compiled: dict[str, Path], product: str) -> None:
    """Medallion order as dbt really runs it: independent branches run in parallel, but a silver or
    gold model never starts before every model it depends on has finished."""
    def execute(r: dict[str, Any]) -> dict[str, str]:
        return dict(next(t for t in r["timing"] if t["name"] == "execute"))

    timing = {r["unique_id"].rsplit(".", 1)[-1]: execute(r) for r in _results(platform_runs[product])
              if _kind(r) in {"model", "seed"}}
    a = load_artifacts(compiled[product])
    checked = 0
    for m in a.transforms.models:
        for dep in [*m.depends_on, *m.seeds]:
            assert timing[dep]["completed_at"] <= timing[m.name]["started_at"], f"{m.name} started before {dep}"
            checked += 1
    assert checked >= len(a.transforms.models)


@pytest.mark.requirement("15-FR-008")
def test_docs_generate_catalogs_the_warehouse_tables(platform_runs: dict[str, RunResult],
                                                     tmp_path: Path) -> None:
    """`dbt docs generate` with the compiled profile catalogs every model in the product's schema of
    the run's local database, with the same columns as the Iceberg table floe published from it."""
    from floe.plugins.dbt.core import dbt_executable

    run = platform_runs["customer-360"]
    ctx = run_context(run)
    # its own target/log folders: the run's run_results.json stays as the run left it
    env = {**os.environ, **ctx.dbt_env(), "DBT_TARGET_PATH": str(tmp_path / "target"),
           "DBT_LOG_PATH": str(tmp_path / "logs")}
    r = subprocess.run([dbt_executable(), "docs", "generate", *ctx.dbt_vars_arg(), "--project-dir",
                        str(ctx.project_dir), "--profiles-dir", str(ctx.out_dir), "--target", ctx.artifacts.dbt.target],
                       capture_output=True, text=True, env=env, timeout=300, check=False)
    assert r.returncode == 0, r.stdout[-2000:]
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    nodes = {n["metadata"]["name"]: n["metadata"] for n in catalog["nodes"].values()}
    models = {m.name for m in ctx.artifacts.transforms.models}
    assert models <= set(nodes), sorted(models - set(nodes))
    assert {nodes[m]["schema"] for m in models} == {ctx.artifacts.identity.namespace}
    from floe.runtime.iceberg import load_catalog

    lake = load_catalog(ctx)
    for node in catalog["nodes"].values():
        name = node["metadata"]["name"]
        if name in models:
            published = {f.name for f in lake.load_table(f"{ctx.artifacts.identity.namespace}.{name}").schema().fields}
            assert {c.lower() for c in node["columns"]} == published, name
