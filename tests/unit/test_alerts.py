"""A failed run tells the platform's alert channels once, with what failed and where to look; channels
are best effort; and the failed run's lineage and trace say which model failed (FLOE-ALERTS)."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import DEMO

from floe.config.plugins import PluginConfig
from floe.contract import PluginRef
from floe.plugins.orchestrator.dagster_definitions import watch_dbt
from floe.runtime.alerts import alert_on_failure
from floe.runtime.context import RunContext
from floe.runtime.dbt import dbt_target_path

RUN_ID = "5f0c1e2a-0000-4000-8000-00000000abcd"


def _result(unique_id: str, status: str, message: str | None = None) -> dict[str, Any]:
    ran = status not in {"skipped"}
    timing = [{"name": "execute", "started_at": "2026-01-01T10:00:00.000000Z",
               "completed_at": "2026-01-01T10:00:01.000000Z"}] if ran else []
    return {"unique_id": unique_id, "status": status, "message": message, "timing": timing}


# customer-360 with a broken intermediate model and a failing test on another branch
RESULTS = [
    _result("seed.customer_360.raw_transactions", "success"),
    _result("model.customer_360.stg_transactions", "success"),
    _result("model.customer_360.int_customer_orders", "error", 'Parser Error: syntax error at or near "selec"'),
    _result("model.customer_360.stg_support_tickets", "success"),
    _result("test.customer_360.floe_fault_stg_support_tickets", "fail", "Got 40 results, configured to fail if != 0"),
    _result("model.customer_360.int_customer_support", "skipped"),
    _result("model.customer_360.mart_customer_360", "skipped"),
]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> RunContext:
    from floe.compiler.stages import compile_pipeline

    out = tmp_path_factory.mktemp("compiled")
    compile_pipeline(DEMO / "customer-360", DEMO / "manifest.embedded.yaml", output_dir=out)
    return RunContext.load(out / "compiled_artifacts.json")


def _ctx(base: RunContext, *channels: dict[str, Any], url: str | None = None,
         secrets: dict[str, Any] | None = None) -> RunContext:
    """``base`` with these alert channels (and orchestrator url / secrets plugin), as compiled."""
    p = base.artifacts.plugins
    update: dict[str, Any] = {"alert_channels": [PluginRef(type=c["type"], version="0.1.0",
                                                           config={k: v for k, v in c.items() if k != "type"})
                                                 for c in channels]}
    if url:
        update["orchestrator"] = p.orchestrator.model_copy(update={"config": {"url": url}})
    if secrets:
        update["secrets"] = PluginRef(type=secrets["type"], version="0.1.0",
                                      config={k: v for k, v in secrets.items() if k != "type"})
    return RunContext(base.artifacts_path, base.artifacts.model_copy(update={"plugins": p.model_copy(update=update)}))


def _keep(ctx: RunContext, results: list[dict[str, Any]], *, mtime: float | None = None) -> None:
    path = dbt_target_path(ctx) / "run_results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"results": results}))
    if mtime is not None:
        os.utime(path, (mtime, mtime))


class RunLog:
    """Stands in for Dagster's context.log."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, msg: str) -> None:
        self.errors.append(msg)

    def warning(self, msg: str) -> None:
        self.warnings.append(msg)


class Receiver:
    """A webhook receiver (Slack's stand-in) on 127.0.0.1: records each POST, answers ``status``;
    ``hang`` keeps it from answering until the test ends."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.hang = False
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((dict(self.headers), body))
                if receiver.hang:
                    receiver.release.wait(30)
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/secret-path"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.posts]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.release.set()
    r.server.shutdown()
    r.server.server_close()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/hooks/secret-path"


def _fail_run(ctx: RunContext, log: RunLog | None, error: Exception | None = None,
              results: list[dict[str, Any]] | None = RESULTS) -> Exception:
    """A run that fails as dbt would (run_results kept, then the dbt step raises); returns what the
    run raised, as it reached the orchestrator."""
    error = error or RuntimeError("The dbt CLI process with command `dbt build` failed with exit code `1`.")
    with pytest.raises(Exception) as raised, alert_on_failure(ctx, run_id=RUN_ID, log=log):
        if results is not None:
            _keep(ctx, results)
        raise error
    return raised.value


@pytest.mark.requirement("FLOE-ALERTS")
def test_failed_run_alert_names_failing_nodes_what_was_not_run_and_where_to_look(
        compiled: RunContext, receiver: Receiver) -> None:
    from floe.runtime.runner import dbt_failures

    ctx = _ctx(compiled, {"type": "webhook", "url": receiver.url}, url="http://127.0.0.1:3000")
    _fail_run(ctx, RunLog())
    [event] = receiver.payloads()
    assert event["product"] == "customer-360" and event["severity"] == "error"
    assert "int_customer_orders (model error)" in event["title"]
    assert "floe_fault_stg_support_tickets (test fail)" in event["title"]
    d = event["details"]
    assert d["run_id"] == RUN_ID
    assert {(f["node"], f["status"]) for f in d["failed"]} == {
        ("customer_360.int_customer_orders", "error"), ("customer_360.floe_fault_stg_support_tickets", "fail")}
    assert 'syntax error at or near "selec"' in next(f["message"] for f in d["failed"] if f["kind"] == "model")
    assert d["not_run"] == ["int_customer_support", "mart_customer_360"]
    assert d["url"] == f"http://127.0.0.1:3000/runs/{RUN_ID}"
    # the same account of the failure `floe run` prints, in the Slack-style text too
    assert d["summary"] == "\n".join(dbt_failures(ctx))
    assert d["summary"] in event["text"] and d["url"] in event["text"]
    assert event["text"].startswith("[error] customer-360: run failed: ")


@pytest.mark.requirement("FLOE-ALERTS")
def test_embedded_alert_points_at_the_run_log_and_a_failure_outside_dbt_names_the_error(
        compiled: RunContext, receiver: Receiver) -> None:
    """No orchestrator url: the run log folder is where to look. dbt results older than the run (an
    earlier run's) are not this run's: the alert carries the error instead (an unreachable catalog)."""
    ctx = _ctx(compiled, {"type": "webhook", "url": receiver.url})
    _keep(ctx, RESULTS, mtime=time.time() - 3600)
    _fail_run(ctx, RunLog(), error=ConnectionError("catalog http://127.0.0.1:8181 unreachable"), results=None)
    [event] = receiver.payloads()
    d = event["details"]
    assert d["failed"] == [] and d["not_run"] == []
    assert event["title"] == "run failed: ConnectionError: catalog http://127.0.0.1:8181 unreachable"
    assert "catalog http://127.0.0.1:8181 unreachable" in d["summary"]
    assert d["url"] is None and d["logs"] == str(ctx.out_dir / "logs")


@pytest.mark.requirement("FLOE-ALERTS")
def test_webhook_token_comes_from_the_secrets_plugin_and_never_reaches_payload_logs_or_artifacts(
        demo_copy: Path, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiled for real from a manifest whose webhook has a token reference; the platform's secrets
    plugin (files here, not the environment) resolves it at send time, and it travels only in the
    Authorization header."""
    import yaml

    from floe.compiler.stages import compile_pipeline

    token = f"alert-token-{uuid.uuid4().hex}"
    monkeypatch.delenv("FLOE_ALERT_TOKEN", raising=False)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "FLOE_ALERT_TOKEN").write_text(token + "\n")
    manifest = demo_copy / "manifest.embedded.yaml"
    doc = yaml.safe_load(manifest.read_text())
    doc["plugins"]["alert_channels"] = [{"type": "webhook", "url": receiver.url, "token": "env:FLOE_ALERT_TOKEN"},
                                        {"type": "console"}]
    doc["plugins"]["secrets"] = {"type": "file", "directory": str(secrets)}
    manifest.write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    compile_pipeline(demo_copy / "customer-360", manifest, output_dir=out)
    ctx = RunContext.load(out / "compiled_artifacts.json")
    log = RunLog()
    _fail_run(ctx, log)
    [(headers, body)] = receiver.posts
    assert headers["Authorization"] == f"Bearer {token}"
    assert token not in body.decode()
    assert log.errors and not log.warnings
    assert all(token not in m for m in log.errors + log.warnings)
    assert "env:FLOE_ALERT_TOKEN" in (out / "compiled_artifacts.json").read_text()
    assert not [f for f in out.rglob("*") if f.is_file() and token.encode() in f.read_bytes()]


@pytest.mark.requirement("FLOE-ALERTS")
def test_unreachable_webhook_is_one_warning_and_the_runs_error_stands(compiled: RunContext) -> None:
    url = _closed_port_url()
    ctx = _ctx(compiled, {"type": "webhook", "url": url, "timeout_seconds": 2}, {"type": "console"})
    log = RunLog()
    original = RuntimeError("dbt build failed")
    started = time.monotonic()
    assert _fail_run(ctx, log, error=original) is original
    assert time.monotonic() - started < 2.5
    [warning] = log.warnings
    port = url.split(":")[2].split("/")[0]
    assert f"alert channel webhook (http://127.0.0.1:{port}) failed for run {RUN_ID}: ConnectError" in warning
    assert "secret-path" not in warning  # a webhook's path is often its secret
    [line] = log.errors  # the console channel still alerted
    assert json.loads(line)["alert"]["details"]["run_id"] == RUN_ID


@pytest.mark.requirement("FLOE-ALERTS")
def test_webhook_answering_500_is_one_warning(compiled: RunContext, receiver: Receiver) -> None:
    receiver.status = 500
    log = RunLog()
    _fail_run(_ctx(compiled, {"type": "webhook", "url": receiver.url}), log)
    assert len(receiver.posts) == 1
    [warning] = log.warnings
    assert warning.endswith(f"failed for run {RUN_ID}: HTTP 500")


@pytest.mark.requirement("FLOE-ALERTS")
def test_a_receiver_that_never_answers_holds_the_run_no_longer_than_the_timeout(
        compiled: RunContext, receiver: Receiver) -> None:
    receiver.hang = True
    log = RunLog()
    started = time.monotonic()
    _fail_run(_ctx(compiled, {"type": "webhook", "url": receiver.url, "timeout_seconds": 0.5}), log)
    assert time.monotonic() - started < 1.5
    [warning] = log.warnings
    assert warning.endswith("no answer within 0.5s")


@pytest.mark.requirement("FLOE-ALERTS")
def test_a_channel_that_raises_is_logged_and_hides_nothing(compiled: RunContext) -> None:

    from floe.plugins.interfaces import AlertChannelPlugin, AlertEvent
    from floe.plugins.registry import get_registry
    from floe.plugins.types import PluginType

    class BrokenConfig(PluginConfig):
        type: str

    class Broken(AlertChannelPlugin):
        name = "broken"
        config_model = BrokenConfig

        def validate_config(self) -> list[str]:
            return []

        def send_alert(self, event: AlertEvent) -> bool:
            raise OSError("disk full")

    get_registry().register(PluginType.ALERT_CHANNEL, Broken)
    log = RunLog()
    original = ValueError("model failed")
    assert _fail_run(_ctx(compiled, {"type": "broken"}, {"type": "console"}), log, error=original) is original
    assert log.warnings == [f"floe: alert channel broken failed for run {RUN_ID}: OSError: disk full"]
    assert len(log.errors) == 1


@pytest.mark.requirement("FLOE-ALERTS")
def test_no_alert_when_the_run_succeeds(compiled: RunContext, receiver: Receiver) -> None:
    log = RunLog()
    with alert_on_failure(_ctx(compiled, {"type": "webhook", "url": receiver.url}, {"type": "console"}),
                          run_id=RUN_ID, log=log):
        _keep(compiled, [{**r, "status": "success"} for r in RESULTS])
    assert receiver.posts == [] and log.errors == [] and log.warnings == []


@pytest.mark.requirement("FLOE-ALERTS")
def test_console_alert_goes_to_the_run_log_else_stderr(compiled: RunContext,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    ctx = _ctx(compiled, {"type": "console"})
    log = RunLog()
    _fail_run(ctx, log)
    assert capsys.readouterr().err == ""
    [line] = log.errors
    assert json.loads(line)["alert"]["product"] == "customer-360"
    _fail_run(ctx, None)
    err = capsys.readouterr().err
    assert json.loads(err.strip())["alert"]["details"]["not_run"] == ["int_customer_support", "mart_customer_360"]


# -- the failed run's lineage and trace ------------------------------------------------------------

class _Invocation:
    """A dagster-dbt invocation whose dbt fails: it streams nothing, then raises like dagster-dbt."""

    def __init__(self, results: list[dict[str, Any]] | None) -> None:
        self.results = results

    def stream(self) -> Iterator[Any]:
        raise RuntimeError("The dbt CLI process with command `dbt build` failed with exit code `1`.")
        yield

    def get_artifact(self, name: str) -> dict[str, Any]:
        if self.results is None:
            raise FileNotFoundError(name)
        return {"results": self.results}


@pytest.fixture
def observed(compiled: RunContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Path]]:
    """Spans of the run kept in memory; lineage in a file of the test's own."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from floe.runtime import observe

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr("floe.telemetry.product_tracer", lambda *a, **k: provider.get_tracer("test"))
    monkeypatch.setattr(observe.ModelRunObserver, "_columns", lambda self, name: [])
    lineage = tmp_path / "lineage.jsonl"
    monkeypatch.setattr(RunContext, "lineage_transport",
                        lambda self: {"type": "file", "log_file_path": str(lineage), "append": True})
    yield exporter, lineage


def _lineage(path: Path) -> dict[str, list[str]]:
    states: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        e = json.loads(line)
        states.setdefault(e["job"]["name"], []).append(e["eventType"])
    return states


@pytest.mark.requirement("15-FR-008")
def test_failed_dbt_step_leaves_fail_lineage_and_an_error_span_for_the_failed_model(
        compiled: RunContext, observed: tuple[Any, Path]) -> None:
    from opentelemetry.trace import StatusCode

    from floe.runtime.observe import model_run_observer

    exporter, lineage = observed
    with pytest.raises(RuntimeError, match="dbt build"), model_run_observer(compiled) as observer:
        list(watch_dbt(observer, _Invocation(RESULTS)))
    states = _lineage(lineage)
    assert states["int_customer_orders"] == ["START", "FAIL"]
    assert states["stg_transactions"] == ["START", "COMPLETE"]
    # not run, downstream of the failure: aborted, not failed
    assert states["mart_customer_360"] == ["START", "ABORT"]
    assert states["customer_360_job"] == ["START", "FAIL"]
    spans = {s.name: s for s in exporter.get_finished_spans()}
    failed = spans["dbt.model int_customer_orders"]
    assert failed.status.status_code is StatusCode.ERROR and "selec" in (failed.status.description or "")
    assert spans["dbt.model mart_customer_360"].status.status_code is not StatusCode.ERROR
    assert spans["dbt.model stg_transactions"].status.status_code is not StatusCode.ERROR
    assert spans["floe.run customer-360"].status.status_code is StatusCode.ERROR
    assert failed.context.trace_id == spans["floe.run customer-360"].context.trace_id
    assert observer.trace_id == f"{failed.context.trace_id:032x}"


@pytest.mark.requirement("15-FR-008")
def test_dbt_failing_before_it_writes_results_does_not_replay_an_older_runs_models(
        compiled: RunContext, observed: tuple[Any, Path]) -> None:
    from floe.runtime.observe import model_run_observer

    exporter, lineage = observed
    _keep(compiled, [{**r, "status": "success"} for r in RESULTS])  # a previous, successful run's
    with pytest.raises(RuntimeError), model_run_observer(compiled) as observer:
        list(watch_dbt(observer, _Invocation(None)))
    assert _lineage(lineage) == {"customer_360_job": ["START", "FAIL"]}
    assert [s.name for s in exporter.get_finished_spans()] == ["floe.run customer-360"]
