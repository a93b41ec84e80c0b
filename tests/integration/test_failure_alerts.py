"""A failed embedded run (dbt on DuckDB through in-process Dagster) alerts the platform's channels once,
from the run itself: a webhook (a stand-in for Slack on 127.0.0.1) gets one POST naming the product,
the failing nodes and what was not run, authenticated with the token the secrets plugin resolved; the
console alert is in the run's log; lineage has FAIL for the broken model; the fixed rerun alerts
nobody (FLOE-ALERTS). Two runs: the failed one and the rerun."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.dbt_faults import broken_model, failing_data_test

from floe.app import run_product
from floe.errors import RuntimeFailure
from floe.runtime.context import RunContext

pytestmark = pytest.mark.integration
TOKEN_ENV = "FLOE_TEST_ALERT_TOKEN"


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A webhook receiver on 127.0.0.1: its URL, and every POST it got (headers, body)."""
    posts: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            posts.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/floe", posts
    server.shutdown()
    server.server_close()


@pytest.mark.requirement("FLOE-ALERTS")
def test_failed_run_alerts_every_channel_once_and_the_fixed_rerun_alerts_none(
        demo_copy: Path, webhook: tuple[str, list[tuple[dict[str, str], bytes]]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    url, posts = webhook
    token = f"alert-token-{uuid.uuid4().hex}"
    monkeypatch.setenv(TOKEN_ENV, token)
    manifest = demo_copy / "manifest.embedded.yaml"
    doc = yaml.safe_load(manifest.read_text())
    doc["plugins"]["alert_channels"] = [{"type": "webhook", "url": url, "token": f"env:{TOKEN_ENV}"},
                                        {"type": "console"}]
    manifest.write_text(yaml.safe_dump(doc, sort_keys=False))
    product = demo_copy / "customer-360"

    # a broken model and, on another branch, a failing test: one run, one alert naming both
    with (broken_model(product, "models/intermediate/int_customer_orders.sql"),
          failing_data_test(product, "stg_support_tickets") as test_name,
          pytest.raises(RuntimeFailure) as failed):
        run_product(product, manifest_path=manifest)

    assert len(posts) == 1, [body for _, body in posts]
    headers, body = posts[0]
    assert headers["Authorization"] == f"Bearer {token}"
    event = json.loads(body)
    assert event["product"] == "customer-360" and event["severity"] == "error"
    d = event["details"]
    assert failed.value.run_id and d["run_id"] == failed.value.run_id
    nodes = {f["node"]: f for f in d["failed"]}
    assert set(nodes) == {"customer_360.int_customer_orders", f"customer_360.{test_name}"}, nodes
    assert nodes["customer_360.int_customer_orders"]["status"] == "error"
    assert "selec" in nodes["customer_360.int_customer_orders"]["message"]  # dbt's own message
    assert nodes[f"customer_360.{test_name}"]["status"] == "fail"
    assert d["not_run"] == ["int_customer_support", "mart_customer_360"]
    assert "int_customer_orders" in event["text"] and test_name in event["text"]

    ctx = RunContext.load(product / "target" / "floe" / doc["metadata"]["name"] / "compiled_artifacts.json")
    assert d["url"] is None and d["logs"] == str(ctx.out_dir / "logs")
    run_log = (ctx.out_dir / "logs" / "run.log").read_text()
    alerts = [line for line in run_log.splitlines() if '{"alert": ' in line]
    assert len(alerts) == 1 and d["run_id"] in alerts[0], alerts

    transport = ctx.lineage_transport()
    assert transport is not None
    lineage = Path(transport["log_file_path"])
    events = [json.loads(line) for line in lineage.read_text().splitlines()]
    job_run = d["lineage_run_id"]
    assert [e["eventType"] for e in events if e["run"]["runId"] == job_run] == ["START", "FAIL"]

    def states(model: str) -> list[str]:
        return [e["eventType"] for e in events if e["job"]["name"] == model
                and e["run"]["facets"].get("parent", {}).get("run", {}).get("runId") == job_run]

    assert states("int_customer_orders") == ["START", "FAIL"]
    assert states("mart_customer_360") == ["START", "ABORT"]
    assert states("stg_transactions") == ["START", "COMPLETE"]

    for path in (lineage, ctx.artifacts_path, ctx.out_dir / "logs" / "run.log"):
        assert token not in path.read_text(), path

    assert run_product(product, manifest_path=manifest).success
    assert len(posts) == 1
    assert '{"alert": ' not in (ctx.out_dir / "logs" / "run.log").read_text()
