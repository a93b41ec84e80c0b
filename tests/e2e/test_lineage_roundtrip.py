"""OpenLineage round trip for runs on the platform: the product job and every model and seed emit a
START/COMPLETE pair tied to the job's run, and every dataset the lineage names is a real table in the
platform's Iceberg catalog with the columns the lineage reports (FLOE-LINEAGE)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.conftest import DEMO, PRODUCTS
from tests.e2e.conftest import run_context

from floe.runtime.runner import RunResult

pytestmark = pytest.mark.e2e


def _job(ref: dict[str, Any]) -> tuple[str, str]:
    return ref["namespace"], ref["name"]


def _last_run(product: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The product job's last COMPLETE event and every event whose parent is that run."""
    path = DEMO / ".floe" / "lineage.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    slug = product.replace("-", "_")
    job = [e for e in events if _job(e["job"]) == (product, f"{slug}_job") and e["eventType"] == "COMPLETE"]
    assert job, f"no completed {slug}_job run in {path}"
    run_id = job[-1]["run"]["runId"]
    children = [e for e in events if e["run"].get("facets", {}).get("parent", {}).get("run", {}).get("runId") == run_id]
    return job[-1], children


@pytest.mark.requirement("FLOE-LINEAGE")
@pytest.mark.parametrize("product", PRODUCTS)
def test_every_model_and_seed_has_a_start_complete_pair_under_the_job_run(
        platform_runs: dict[str, RunResult], product: str) -> None:

    run = platform_runs[product]
    a = run_context(run).artifacts
    job, children = _last_run(product)
    assert a.observability.lineage_namespace == product
    states: dict[str, dict[str, list[str]]] = {}
    for e in children:
        assert e["job"]["namespace"] == product
        assert _job(e["run"]["facets"]["parent"]["job"]) == _job(job["job"])
        states.setdefault(e["job"]["name"], {}).setdefault(e["run"]["runId"], []).append(e["eventType"])
    expected = {m.name for m in a.transforms.models} | set(a.transforms.seeds)
    assert set(states) == expected
    for name, runs in states.items():
        assert list(runs.values()) == [["START", "COMPLETE"]], f"{name}: {runs}"


@pytest.mark.requirement("FLOE-LINEAGE")
@pytest.mark.parametrize("product", PRODUCTS)
def test_lineage_datasets_are_catalog_tables_with_the_reported_columns(
        platform_runs: dict[str, RunResult], product: str) -> None:
    from floe.runtime.iceberg import load_catalog

    run = platform_runs[product]
    catalog = load_catalog(run_context(run))
    _, children = _last_run(product)
    outputs = {o["name"]: o for e in children if e["eventType"] == "COMPLETE" for o in e["outputs"]}
    assert outputs
    for name, dataset in outputs.items():
        fields = [f["name"] for f in dataset.get("facets", {}).get("schema", {}).get("fields", [])]
        assert fields, f"{name}: lineage carries no schema"
        assert [f.name for f in catalog.load_table(name).schema().fields] == fields, name


@pytest.mark.requirement("FLOE-LINEAGE")
@pytest.mark.parametrize("product", PRODUCTS)
def test_job_lineage_reads_the_seeds_and_writes_the_marts(platform_runs: dict[str, RunResult],
                                                          product: str) -> None:

    run = platform_runs[product]
    a = run_context(run).artifacts
    job, _ = _last_run(product)
    assert {i["name"] for i in job["inputs"]} == ({f"{a.identity.raw_namespace}.{s}" for s in a.transforms.seeds}
                                                 | {s.table for s in a.ingestion})
    assert {o["name"] for o in job["outputs"]} == set(run.marts)
    assert len(job["run"]["facets"]["floe_trace"]["trace_id"]) == 32
