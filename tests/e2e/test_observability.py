"""Traces in Jaeger and lineage with trace correlation (15-FR-005, RC-4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import DEMO, PRODUCTS, ROOT
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e
JAEGER = "http://127.0.0.1:16686"
STAGES = {"compile.load", "compile.validate", "compile.resolve", "compile.enforce", "compile.compile",
          "compile.generate"}


def _traces(service: str, start_us: int) -> list[dict[str, Any]]:
    r = httpx.get(f"{JAEGER}/api/traces", params={"service": service, "start": start_us, "limit": 20}, timeout=10)
    r.raise_for_status()
    return list(r.json()["data"] or [])


@pytest.mark.requirement("15-FR-005")
def test_compile_trace_reaches_jaeger_with_every_stage(platform: dict[str, Any], tmp_path: Path) -> None:
    start_us = int(time.time() * 1e6)
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}
    subprocess.run([sys.executable, "-m", "floe.cli.main", "compile", str(DEMO / "customer-360"), "-o",
                    str(tmp_path / "out")], check=True, env=env, cwd=ROOT, capture_output=True)

    def stage_spans() -> set[str] | None:
        for t in _traces("floe-platform", start_us):
            names = {s["operationName"] for s in t["spans"]}
            if names >= STAGES and "compile.pipeline" in names:
                return names
        return None

    names = wait_for(stage_spans, timeout=10, what="compile trace with six stage spans in Jaeger")
    assert names >= STAGES


@pytest.mark.requirement("15-FR-005")
def test_compile_span_attributes(platform: dict[str, Any], tmp_path: Path) -> None:
    start_us = int(time.time() * 1e6)
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}
    subprocess.run([sys.executable, "-m", "floe.cli.main", "compile", str(DEMO / "iot-telemetry"), "-o",
                    str(tmp_path / "out")], check=True, env=env, cwd=ROOT, capture_output=True)

    def root_tags() -> dict[str, Any] | None:
        for t in _traces("floe-platform", start_us):
            for s in t["spans"]:
                tags = {tag["key"]: tag["value"] for tag in s["tags"]}
                if s["operationName"] == "compile.pipeline" and tags.get("floe.product") == "iot-telemetry":
                    return tags
        return None

    tags = wait_for(root_tags, timeout=10, what="compile.pipeline span for iot-telemetry")
    assert tags["floe.model_count"] == 6 and tags["floe.enforcement_level"] == "warn"
    assert tags["floe.product_version"] == "1.0.0"


@pytest.mark.requirement("15-FR-005")
def test_every_product_is_a_service_in_jaeger(platform_runs: dict[str, Any]) -> None:
    def services() -> set[str] | None:
        found = set(httpx.get(f"{JAEGER}/api/services", timeout=10).json()["data"] or [])
        return found if set(PRODUCTS) <= found else None

    assert wait_for(services, timeout=30, what="Jaeger services for all three products") >= set(PRODUCTS)


@pytest.mark.requirement("15-FR-005")
def test_run_trace_has_one_span_per_dbt_model(platform_runs: dict[str, Any]) -> None:
    def model_spans() -> set[str] | None:
        for t in _traces("customer-360", 0):
            names = {s["operationName"] for s in t["spans"]}
            if "dbt.model mart_customer_360" in names:
                return names
        return None

    names = wait_for(model_spans, timeout=30, what="a customer-360 run trace")
    assert "floe.run customer-360" in names
    assert {"dbt.model stg_crm_customers", "dbt.model int_customer_orders", "dbt.seed raw_customers"} <= names


def _lineage_events() -> list[dict[str, Any]]:
    path = DEMO / ".floe" / "lineage.jsonl"
    assert path.exists(), f"no lineage file at {path}"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.requirement("FLOE-LINEAGE")
@pytest.mark.parametrize("product", PRODUCTS)
def test_lineage_edges_raw_to_mart(platform_runs: dict[str, Any], product: str) -> None:
    events = [e for e in _lineage_events() if e["job"]["namespace"] == product and e["eventType"] == "COMPLETE"]
    edges = {(i["name"], o["name"]) for e in events for i in e["inputs"] for o in e["outputs"]}
    slug = product.replace("-", "_")
    layers = {"raw": f"{slug}_raw.", "stg": f"{slug}.stg_", "int": f"{slug}.int_", "mart": f"{slug}.mart_"}

    def has(a: str, b: str) -> bool:
        return any(i.startswith(layers[a]) and o.startswith(layers[b]) for i, o in edges)

    assert has("raw", "stg") and has("stg", "int") and has("int", "mart"), sorted(edges)


@pytest.mark.requirement("FLOE-LINEAGE")
def test_lineage_trace_id_found_in_jaeger(platform_runs: dict[str, Any]) -> None:
    events = [e for e in _lineage_events() if e["job"]["namespace"] == "iot-telemetry"
              and e["job"]["name"] == "iot_telemetry_job" and e["eventType"] == "COMPLETE"]
    trace_id = events[-1]["run"]["facets"]["floe_trace"]["trace_id"]
    assert len(trace_id) == 32

    def found() -> bool:
        r = httpx.get(f"{JAEGER}/api/traces/{trace_id}", timeout=10)
        return r.status_code == 200 and bool(r.json()["data"])

    assert wait_for(found, timeout=30, what=f"trace {trace_id} in Jaeger")
