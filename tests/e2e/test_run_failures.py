"""Runs on the platform's Dagster in layer order, and what failing runs do: a failing dbt test blocks
what lies downstream (block_on_failure), a broken model fails with its name, two products failing at
once each fail for their own reason, and reruns after the fix succeed. The faults (conftest's
``fault_runs``) are injected into demo/financial-risk and demo/customer-360 and always taken out again."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.conftest import PRODUCTS
from tests.e2e.conftest import FAULT_MARTS, FaultRuns, run_context

from floe.runtime.dbt import dbt_target_path
from floe.runtime.runner import RunResult

pytestmark = pytest.mark.e2e


@pytest.mark.requirement("15-FR-008")
@pytest.mark.parametrize("product", PRODUCTS)
def test_platform_run_results_in_layer_order(platform_runs: dict[str, RunResult], product: str) -> None:
    """The run worker's dbt run_results: staging before intermediate before marts, all successful."""
    ctx = run_context(platform_runs[product])
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
def test_failing_test_blocks_downstream_on_the_platform(platform_runs: dict[str, Any], fault_runs: FaultRuns) -> None:
    assert run_context(platform_runs["financial-risk"]).artifacts.governance.block_on_failure
    message = fault_runs.failures["financial-risk"].message
    assert "ended FAILURE" in message and fault_runs.failing_test in message, message
    assert "downstream of the failure" in message and "mart_risk_dashboard" in message, message
    mart = FAULT_MARTS["financial-risk"]
    # the mart was not rebuilt from data that failed its test
    assert fault_runs.snapshots_after_failure[mart] == fault_runs.snapshots_before[mart]


@pytest.mark.requirement("15-FR-008")
def test_broken_model_fails_clearly_on_the_platform(fault_runs: FaultRuns) -> None:
    message = str(fault_runs.failures["customer-360"])
    assert "int_customer_orders" in message and "Traceback" not in message, message
    assert "mart_customer_360" in message  # named as not run, downstream of the failure
    mart = FAULT_MARTS["customer-360"]
    assert fault_runs.snapshots_after_failure[mart] == fault_runs.snapshots_before[mart]


@pytest.mark.requirement("FLOE-RUN-ATOMIC")
def test_a_failed_platform_run_publishes_none_of_its_tables(fault_runs: FaultRuns) -> None:
    """Write-audit-publish on the platform: the failed runs ingested their sources and built their seeds
    and staging models, yet no table of either product has a new snapshot."""
    changed = [t for t, snap in fault_runs.snapshots_after_failure.items() if fault_runs.snapshots_before[t] != snap]
    assert len(fault_runs.snapshots_before) > 2 * len(FAULT_MARTS) and not changed, changed


@pytest.mark.requirement("15-FR-008")
def test_each_concurrent_failure_names_only_its_own_product(fault_runs: FaultRuns) -> None:
    assert set(fault_runs.failures) == set(FAULT_MARTS)
    assert fault_runs.failing_test not in str(fault_runs.failures["customer-360"])
    assert "int_customer_orders" not in str(fault_runs.failures["financial-risk"])


@pytest.mark.requirement("15-FR-008")
@pytest.mark.parametrize("product", list(FAULT_MARTS))
def test_rerun_after_the_fix_succeeds_with_a_new_snapshot(fault_runs: FaultRuns, product: str) -> None:
    fixed = fault_runs.fixed[product]
    mart = FAULT_MARTS[product]
    assert fixed.success and fixed.marts[mart] > 0
    from floe.runtime.iceberg import load_catalog

    snapshot = load_catalog(run_context(fixed)).load_table(mart).current_snapshot().snapshot_id
    assert snapshot != fault_runs.snapshots_before[mart]
