"""The embedded default for real: dbt on DuckDB through in-process Dagster, marts in Iceberg."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import PRODUCTS
from tests.dbt_faults import broken_model, failing_data_test
from tests.math_cases import ALL_CASES, MathCase, check_run

from floe.app import run_product
from floe.errors import RuntimeFailure
from floe.runtime.context import RunContext
from floe.runtime.iceberg import load_catalog, row_counts
from floe.runtime.runner import RunResult

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    from tests.conftest import DEMO

    target = tmp_path_factory.mktemp("embedded") / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("target", "logs", ".floe", "*.duckdb"))
    return target


@pytest.fixture(scope="module")
def runs(demo_dir: Path) -> dict[str, RunResult]:
    manifest = demo_dir / "manifest.embedded.yaml"
    return {p: run_product(demo_dir / p, manifest_path=manifest) for p in PRODUCTS}


def _ctx(result: RunResult) -> RunContext:
    assert result.artifacts_path is not None
    return RunContext.load(result.artifacts_path)


@pytest.mark.requirement("15-FR-008")
@pytest.mark.parametrize("product", PRODUCTS)
def test_every_layer_lands_in_iceberg_with_rows(runs: dict[str, RunResult], product: str) -> None:
    result = runs[product]
    assert result.success
    ctx = _ctx(result)
    ident = ctx.artifacts.identity
    tables = [f"{ident.raw_namespace}.{s}" for s in ctx.artifacts.transforms.seeds]
    tables += [f"{ident.namespace}.{m.name}" for m in ctx.artifacts.transforms.models]
    counts = row_counts(ctx, tables)
    assert all(n > 0 for n in counts.values()), counts
    assert result.marts and all(n > 0 for n in result.marts.values())


@pytest.mark.requirement("15-FR-008")
@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.id)
def test_mart_numbers_match_the_seeds(runs: dict[str, RunResult], case: MathCase) -> None:
    """The gold figures, recomputed by hand from the seed CSVs the run loaded (tests/math_cases.py)."""
    problems = check_run(case, _ctx(runs[case.product]))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("product", PRODUCTS)
def test_layers_run_in_order(runs: dict[str, RunResult], product: str) -> None:
    ctx = _ctx(runs[product])
    results = json.loads((ctx.out_dir / "dbt" / "run_results.json").read_text())["results"]
    starts: dict[str, list[str]] = {"stg": [], "int": [], "mart": []}
    for r in results:
        name = r["unique_id"].split(".")[-1]
        prefix = name.split("_")[0]
        if r["unique_id"].startswith("model.") and prefix in starts:
            assert r["status"] == "success"
            starts[prefix].append(next(t["started_at"] for t in r["timing"] if t["name"] == "execute"))
    assert max(starts["stg"]) <= min(starts["int"]) <= max(starts["int"]) <= min(starts["mart"])


def test_no_table_shared_across_products(runs: dict[str, RunResult]) -> None:
    owners: dict[str, str] = {}
    for product, result in runs.items():
        catalog = load_catalog(_ctx(result))
        ident = _ctx(result).artifacts.identity
        for ns in (ident.namespace, ident.raw_namespace):
            for table in catalog.list_tables(ns):
                key = ".".join(table)
                assert key not in owners, f"{key} shared by {owners.get(key)} and {product}"
                owners[key] = product


def test_governance_retention_on_tables(runs: dict[str, RunResult]) -> None:
    ctx = _ctx(runs["customer-360"])
    table = load_catalog(ctx).load_table("customer_360.mart_customer_360")
    assert table.properties["history.expire.min-snapshots-to-keep"] == str(ctx.artifacts.governance.snapshot_keep_last)
    assert table.properties["history.expire.max-snapshot-age-ms"] == str(
        ctx.artifacts.governance.default_ttl_hours * 3600 * 1000)


def test_rerun_does_not_duplicate(runs: dict[str, RunResult], demo_dir: Path) -> None:
    before = runs["customer-360"].marts
    ctx = _ctx(runs["customer-360"])
    stg_before = row_counts(ctx, ["customer_360.stg_transactions"])
    again = run_product(demo_dir / "customer-360", manifest_path=demo_dir / "manifest.embedded.yaml")
    assert again.marts == before
    assert row_counts(ctx, ["customer_360.stg_transactions"]) == stg_before


def test_broken_model_fails_clearly_then_rerun_succeeds(runs: dict[str, RunResult], demo_dir: Path) -> None:
    with broken_model(demo_dir / "financial-risk", "models/intermediate/int_portfolio_risk.sql"), \
            pytest.raises(RuntimeFailure) as err:
        run_product(demo_dir / "financial-risk", manifest_path=demo_dir / "manifest.embedded.yaml")
    assert "int_portfolio_risk" in str(err.value)
    assert run_product(demo_dir / "financial-risk", manifest_path=demo_dir / "manifest.embedded.yaml").success


@pytest.mark.requirement("FLOE-GOV-BLOCK")
def test_failing_test_blocks_downstream_then_fix_reruns(runs: dict[str, RunResult], demo_dir: Path) -> None:
    """block_on_failure: a failing test on a staging model fails the run and leaves the mart as it was."""
    ctx = _ctx(runs["financial-risk"])
    assert ctx.artifacts.governance.block_on_failure
    mart = "financial_risk.mart_risk_dashboard"
    before = load_catalog(ctx).load_table(mart).current_snapshot().snapshot_id
    with failing_data_test(demo_dir / "financial-risk", "stg_positions") as test_name, \
            pytest.raises(RuntimeFailure) as err:
        run_product(demo_dir / "financial-risk", manifest_path=demo_dir / "manifest.embedded.yaml")
    assert test_name in str(err.value)
    assert "downstream of the failure" in str(err.value) and "mart_risk_dashboard" in str(err.value)
    assert load_catalog(ctx).load_table(mart).current_snapshot().snapshot_id == before
    assert run_product(demo_dir / "financial-risk", manifest_path=demo_dir / "manifest.embedded.yaml").success
    assert load_catalog(ctx).load_table(mart).current_snapshot().snapshot_id != before
