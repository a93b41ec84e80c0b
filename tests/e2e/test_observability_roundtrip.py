"""OTLP -> collector -> Jaeger round trip: spans keep their parent/child structure end to end, for a
standalone SDK client, for `floe compile` and for every product run on the platform (15-FR-005)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import DEMO, PRODUCTS, ROOT
from tests.e2e.conftest import run_context, wait_for

from floe.runtime.runner import RunResult

pytestmark = pytest.mark.e2e
JAEGER = "http://127.0.0.1:16686"
OTLP = "http://127.0.0.1:4317"


def _traces(service: str, start_us: int = 0, limit: int = 20) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"service": service, "limit": limit}
    if start_us:
        params["start"] = start_us
    r = httpx.get(f"{JAEGER}/api/traces", params=params, timeout=10)
    r.raise_for_status()
    return list(r.json()["data"] or [])


def _parents(trace: dict[str, Any]) -> dict[str, str | None]:
    """operationName -> the operationName of its CHILD_OF parent (None for the root)."""
    by_id = {s["spanID"]: s["operationName"] for s in trace["spans"]}
    return {s["operationName"]: next((by_id.get(r["spanID"]) for r in s["references"] if r["refType"] == "CHILD_OF"),
                                     None) for s in trace["spans"]}


@pytest.mark.requirement("15-FR-005")
def test_collector_forwards_an_sdk_trace_with_its_structure(platform: dict[str, Any]) -> None:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    service = f"floe-e2e-{uuid.uuid4().hex[:8]}"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=OTLP, insecure=True, timeout=5)))
    tracer = provider.get_tracer("e2e")
    with tracer.start_as_current_span("parent"), tracer.start_as_current_span("child") as child:
        child.set_attribute("floe.e2e", True)
    started = time.monotonic()
    assert provider.force_flush(10_000), "the collector did not accept the spans"
    assert time.monotonic() - started < 10
    provider.shutdown()

    trace = wait_for(lambda: next(iter(_traces(service)), None), timeout=30, what=f"the {service} trace in Jaeger")
    assert _parents(trace) == {"parent": None, "child": "parent"}
    assert service in httpx.get(f"{JAEGER}/api/services", timeout=10).json()["data"]


@pytest.mark.requirement("15-FR-005")
def test_query_api_answers_an_unknown_service_with_empty_data(platform: dict[str, Any]) -> None:
    r = httpx.get(f"{JAEGER}/api/traces", params={"service": f"absent-{uuid.uuid4().hex}", "limit": 1}, timeout=10)
    assert r.status_code == 200 and r.json()["data"] == []


@pytest.mark.requirement("15-FR-005")
def test_compile_stage_spans_are_children_of_the_pipeline_span(platform: dict[str, Any], tmp_path: Path) -> None:
    start_us = int(time.time() * 1e6)
    service = f"floe-e2e-compile-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": OTLP, "OTEL_SERVICE_NAME": service}
    subprocess.run([sys.executable, "-m", "floe.cli.main", "compile", str(DEMO / "financial-risk"), "-o",
                    str(tmp_path / "out")], check=True, env=env, cwd=ROOT, capture_output=True, timeout=300)
    trace = wait_for(lambda: next(iter(_traces(env["OTEL_SERVICE_NAME"], start_us)), None), timeout=30,
                     what="the compile trace in Jaeger")
    parents = _parents(trace)
    assert parents.pop("compile.pipeline") is None
    assert parents and set(parents.values()) == {"compile.pipeline"}, parents
    assert all(name.startswith("compile.") for name in parents)


@pytest.mark.requirement("15-FR-005")
@pytest.mark.parametrize("product", PRODUCTS)
def test_run_trace_has_a_child_span_per_model_and_seed(platform_runs: dict[str, RunResult],
                                                       product: str) -> None:

    run = platform_runs[product]
    a = run_context(run).artifacts
    expected = {f"dbt.model {m.name}" for m in a.transforms.models} | {f"dbt.seed {s}" for s in a.transforms.seeds}

    def run_trace() -> dict[str, Any] | None:
        return next((t for t in _traces(product) if expected <= {s["operationName"] for s in t["spans"]}), None)

    trace = wait_for(run_trace, timeout=30, what=f"a complete {product} run trace")
    parents = _parents(trace)
    assert parents[f"floe.run {product}"] is None
    assert {n: parents[n] for n in expected} == dict.fromkeys(expected, f"floe.run {product}")
    errors = [s["operationName"] for s in trace["spans"]
              if any(t["key"] == "otel.status_code" and t["value"] == "ERROR" for t in s["tags"])]
    assert errors == []
