"""A failed run on the platform leaves every signal a data engineer looks for: the console alert in
that run's Dagster event log (sent by the run worker, so scheduled and sensor runs alert the same way),
OpenLineage FAIL for the broken model under the failed job run, and an ERROR span for it in the
product's trace in Jaeger; the fixed rerun alerts nobody. The runs are conftest's ``fault_runs``: a
failing test in financial-risk and a broken int_customer_orders in customer-360, both on the
platform's Dagster, then fixed and rerun."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tests.conftest import DEMO
from tests.e2e.conftest import DAGSTER, FAULT_MARTS, FaultRuns, graphql, wait_for

pytestmark = pytest.mark.e2e
JAEGER = "http://127.0.0.1:16686"

_LOGS = """query($id: ID!, $after: String) { logsForRun(runId: $id, afterCursor: $after) { __typename
    ... on EventConnection { events { __typename ... on MessageEvent { message level } } cursor hasMore }
    ... on RunNotFoundError { message } ... on PythonError { message } } }"""


def _alerts(run_id: str) -> list[dict[str, Any]]:
    """The console alerts in one Dagster run's event log, each with the level it was logged at."""
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        conn = graphql(_LOGS, {"id": run_id, "after": cursor})["logsForRun"]
        assert conn["__typename"] == "EventConnection", conn
        events += conn["events"]
        if not conn["hasMore"]:
            break
        cursor = conn["cursor"]
    return [{**json.loads(e["message"])["alert"], "level": e["level"]} for e in events
            if e.get("message", "").startswith('{"alert": ')]


def _alert(fault_runs: FaultRuns, product: str) -> dict[str, Any]:
    run_id = fault_runs.failures[product].run_id
    assert run_id, f"{product}: the failure names no Dagster run"
    alerts = _alerts(run_id)
    assert len(alerts) == 1, f"{product}: {len(alerts)} alerts in run {run_id}'s event log: {alerts}"
    return alerts[0]


@pytest.mark.requirement("FLOE-ALERTS")
@pytest.mark.parametrize("product", list(FAULT_MARTS))
def test_each_failed_run_has_one_console_alert_in_its_dagster_event_log(fault_runs: FaultRuns,
                                                                       product: str) -> None:
    alert = _alert(fault_runs, product)
    run_id = fault_runs.failures[product].run_id
    d = alert["details"]
    assert alert["product"] == product and alert["severity"] == "error" and alert["level"] == "ERROR"
    assert d["run_id"] == run_id and d["url"] == f"{DAGSTER}/runs/{run_id}"
    failed = {f["node"]: f["status"] for f in d["failed"]}
    if product == "financial-risk":
        assert failed == {f"financial_risk.{fault_runs.failing_test}": "fail"}, failed
        assert "mart_risk_dashboard" in d["not_run"]
        assert "int_customer_orders" not in json.dumps(alert)  # each run alerts of its own failure only
    else:
        assert failed == {"customer_360.int_customer_orders": "error"}, failed
        assert "mart_customer_360" in d["not_run"]
        assert fault_runs.failing_test not in json.dumps(alert)


@pytest.mark.requirement("FLOE-ALERTS")
@pytest.mark.parametrize("product", list(FAULT_MARTS))
def test_the_fixed_rerun_alerts_nobody(fault_runs: FaultRuns, product: str) -> None:
    failed_run = fault_runs.failures[product].run_id
    created = graphql("""query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { creationTime } } }""",
                      {"id": failed_run})["runOrError"]["creationTime"]
    runs = graphql("""query($f: RunsFilter) { runsOrError(filter: $f) { __typename
        ... on Runs { results { runId status } } ... on PythonError { message } } }""",
                   {"f": {"pipelineName": f"{product.replace('-', '_')}_job", "statuses": ["SUCCESS"],
                          "createdAfter": created}})["runsOrError"]
    assert runs["__typename"] == "Runs", runs
    assert fault_runs.fixed[product].success and runs["results"], f"no successful {product} run after {failed_run}"
    for run in runs["results"]:
        assert _alerts(run["runId"]) == [], f"{product}: successful run {run['runId']} alerted"


@pytest.mark.requirement("15-FR-008")
def test_broken_model_fails_in_lineage_under_the_failed_job_run(fault_runs: FaultRuns) -> None:
    job_run = _alert(fault_runs, "customer-360")["details"]["lineage_run_id"]
    assert job_run, "the alert names no lineage run"
    path = DEMO / ".floe" / "lineage.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    job = [e["eventType"] for e in events if e["run"]["runId"] == job_run]
    assert job == ["START", "FAIL"], job

    def states(model: str) -> list[str]:
        return [e["eventType"] for e in events if (e["job"]["namespace"], e["job"]["name"]) == ("customer-360", model)
                and e["run"].get("facets", {}).get("parent", {}).get("run", {}).get("runId") == job_run]

    assert states("int_customer_orders") == ["START", "FAIL"]
    assert states("mart_customer_360") == ["START", "ABORT"]  # not run, downstream of the failure
    assert states("stg_transactions") == ["START", "COMPLETE"]


@pytest.mark.requirement("15-FR-008")
def test_broken_model_is_an_error_span_in_the_failed_runs_trace(fault_runs: FaultRuns) -> None:
    trace_id = _alert(fault_runs, "customer-360")["details"]["trace_id"]
    assert trace_id and len(trace_id) == 32, f"the alert names no trace: {trace_id!r}"

    def spans() -> dict[str, dict[str, Any]] | None:
        r = httpx.get(f"{JAEGER}/api/traces/{trace_id}", timeout=10)
        if r.status_code != 200 or not r.json()["data"]:
            return None
        trace = r.json()["data"][0]
        found = {s["operationName"]: {**{t["key"]: t["value"] for t in s["tags"]},
                                      "service": trace["processes"][s["processID"]]["serviceName"]}
                 for s in trace["spans"]}
        return found if "dbt.model int_customer_orders" in found else None

    found = wait_for(spans, timeout=30, what=f"customer-360's failed run trace {trace_id} in Jaeger")
    failed = found["dbt.model int_customer_orders"]
    assert failed["service"] == "customer-360"
    assert failed.get("otel.status_code") == "ERROR" and failed["dbt.status"] == "error", failed
    assert found["floe.run customer-360"].get("otel.status_code") == "ERROR"
    assert found["dbt.model stg_transactions"].get("otel.status_code") != "ERROR"
