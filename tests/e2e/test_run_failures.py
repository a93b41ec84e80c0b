"""Runs on the platform's Dagster in layer order, and what a failing run does: a failing dbt test
blocks what lies downstream (block_on_failure), a broken model fails with its name, and a rerun after
the fix succeeds. Faults are injected into demo/financial-risk and always taken out again."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.conftest import DEMO, PRODUCTS
from tests.dbt_faults import broken_model, failing_data_test

from floe.errors import RuntimeFailure
from floe.runtime.context import RunContext
from floe.runtime.dagster import dbt_target_path
from floe.runtime.iceberg import load_catalog
from floe.runtime.runner import RunResult, run_product

pytestmark = pytest.mark.e2e
PRODUCT = DEMO / "financial-risk"
MART = "financial_risk.mart_risk_dashboard"


def _ctx(result: RunResult) -> RunContext:
    assert result.artifacts_path is not None
    return RunContext.load(result.artifacts_path)


def _mart_snapshot(ctx: RunContext) -> int:
    return int(load_catalog(ctx).load_table(MART).current_snapshot().snapshot_id)


@pytest.mark.requirement("15-FR-008")
@pytest.mark.parametrize("product", PRODUCTS)
def test_platform_run_results_in_layer_order(platform_runs: dict[str, RunResult], product: str) -> None:
    """The run worker's dbt run_results: staging before intermediate before marts, all successful."""
    ctx = _ctx(platform_runs[product])
    results = json.loads((dbt_target_path(ctx) / "run_results.json").read_text())["results"]
    starts: dict[str, list[str]] = {"stg": [], "int": [], "mart": []}
    for r in results:
        name = r["unique_id"].split(".")[-1]
        if r["unique_id"].startswith("model.") and name.split("_")[0] in starts:
            assert r["status"] == "success", r
            starts[name.split("_")[0]].append(next(t["started_at"] for t in r["timing"] if t["name"] == "execute"))
    assert all(starts.values()), starts
    assert max(starts["stg"]) <= min(starts["int"]) <= max(starts["int"]) <= min(starts["mart"])


@pytest.mark.requirement("FLOE-GOV-BLOCK")
def test_failing_test_blocks_downstream_on_the_platform(platform_runs: dict[str, Any]) -> None:
    ctx = _ctx(platform_runs["financial-risk"])
    assert ctx.artifacts.governance.block_on_failure
    before = _mart_snapshot(ctx)
    with failing_data_test(PRODUCT, "stg_positions") as test_name, pytest.raises(RuntimeFailure) as err:
        run_product(PRODUCT, platform=True)
    message = str(err.value)
    assert "ended FAILURE" in message and test_name in message, message
    assert "downstream of the failure" in message and "mart_risk_dashboard" in message, message
    assert _mart_snapshot(ctx) == before  # the mart was not rebuilt from data that failed its test


@pytest.mark.requirement("15-FR-008")
def test_broken_model_fails_clearly_then_rerun_succeeds_on_the_platform(platform_runs: dict[str, Any]) -> None:
    before = _mart_snapshot(_ctx(platform_runs["financial-risk"]))
    with broken_model(PRODUCT, "models/intermediate/int_portfolio_risk.sql"), pytest.raises(RuntimeFailure) as err:
        run_product(PRODUCT, platform=True)
    assert "int_portfolio_risk" in str(err.value) and "Traceback" not in str(err.value)
    fixed = run_product(PRODUCT, platform=True)
    assert fixed.success and fixed.marts[MART] > 0
    assert _mart_snapshot(_ctx(fixed)) != before
