"""The data plane on the platform: each product launched through Dagster's GraphQL reaches SUCCESS,
every layer lands in the Iceberg catalog, products stay isolated (15-FR-001, 15-FR-007, 15-FR-008)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import PRODUCTS
from tests.e2e.conftest import FaultRuns

from floe.runtime.context import RunContext
from floe.runtime.iceberg import load_catalog, row_counts
from floe.runtime.runner import RunResult

pytestmark = pytest.mark.e2e


def _ctx(result: RunResult) -> RunContext:
    assert result.artifacts_path is not None
    return RunContext.load(result.artifacts_path)


@pytest.mark.requirement("15-FR-008")
@pytest.mark.requirement("15-FR-007")
@pytest.mark.parametrize("product", PRODUCTS)
def test_launched_run_succeeds(platform_runs: dict[str, RunResult], product: str) -> None:
    assert platform_runs[product].success
    assert platform_runs[product].marts and all(n > 0 for n in platform_runs[product].marts.values())


@pytest.mark.requirement("15-FR-001")
@pytest.mark.parametrize("product", PRODUCTS)
def test_every_layer_in_the_catalog_with_rows(platform_runs: dict[str, RunResult], product: str) -> None:
    ctx = _ctx(platform_runs[product])
    ident = ctx.artifacts.identity
    expected = [f"{ident.raw_namespace}.{s}" for s in ctx.artifacts.transforms.seeds]
    expected += [s.table for s in ctx.artifacts.ingestion]  # written by the ingestion step through the REST catalog
    expected += [f"{ident.namespace}.{m.name}" for m in ctx.artifacts.transforms.models]
    counts = row_counts(ctx, expected)
    assert all(n > 0 for n in counts.values()), counts
    assert {m.tier for m in ctx.artifacts.transforms.models} == {"bronze", "silver", "gold"}


@pytest.mark.requirement("15-FR-001")
@pytest.mark.parametrize("product", PRODUCTS)
def test_marts_live_in_the_manifests_warehouse(platform_runs: dict[str, RunResult], manifest_path: Any,
                                               product: str) -> None:
    """The warehouse the platform team declared is the one the run wrote to: read back through it."""
    from floe.platform.controller import load_manifest

    ctx = _ctx(platform_runs[product])
    warehouse = load_manifest(manifest_path).plugins.catalog.warehouse
    assert ctx.catalog_properties()["warehouse"] == warehouse
    ns = ctx.artifacts.identity.namespace
    served = {f"{ns}.{t[-1]}" for t in load_catalog(ctx).list_tables(ns)}
    assert set(platform_runs[product].marts) <= served, (warehouse, served)


@pytest.mark.requirement("FLOE-ISOLATION")
def test_no_table_shared_across_products(platform_runs: dict[str, RunResult], platform_catalog: Any) -> None:
    catalog = platform_catalog
    seen: dict[str, str] = {}
    for product, result in platform_runs.items():
        ident = _ctx(result).artifacts.identity
        for ns in (ident.namespace, ident.raw_namespace):
            for table in catalog.list_tables(ns):
                name = ".".join(table)
                assert name not in seen, f"{name} in {seen.get(name)} and {product}"
                seen[name] = product


@pytest.mark.requirement("FLOE-GOV-RETENTION")
def test_tables_carry_governance_retention(platform_runs: dict[str, RunResult]) -> None:
    ctx = _ctx(platform_runs["iot-telemetry"])
    table = load_catalog(ctx).load_table("iot_telemetry.mart_equipment_health")
    gov = ctx.artifacts.governance
    assert table.properties["history.expire.max-snapshot-age-ms"] == str(gov.default_ttl_hours * 3_600_000)
    assert table.properties["history.expire.min-snapshots-to-keep"] == str(gov.snapshot_keep_last)


@pytest.mark.requirement("15-FR-008")
@pytest.mark.parametrize("product", ["financial-risk", "customer-360"])
def test_rerun_does_not_duplicate_rows(fault_runs: FaultRuns, product: str) -> None:
    """Rerun after a failed, partly built run: every table of the product has the rows it had before."""
    ctx = _ctx(fault_runs.fixed[product])
    tables = list(fault_runs.before[product])
    assert row_counts(ctx, tables) == fault_runs.before[product]
