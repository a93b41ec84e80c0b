"""Ingestion on the embedded default for real: dlt reads customer-360's data/web_events.jsonl (and a
SQL table, and an HTTP API), floe commits Iceberg tables to customer_360_raw, dbt reads them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import copy_demo
from tests.math_cases import ALL_CASES, check_run

from floe.app import run_product
from floe.errors import RuntimeFailure
from floe.runtime.context import RunContext
from floe.runtime.iceberg import load_catalog
from floe.runtime.runner import RunResult

pytestmark = [pytest.mark.integration, pytest.mark.requirement("FLOE-INGESTION")]

RAW = "customer_360_raw.raw_web_events"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_demo(tmp_path_factory.mktemp("ingestion"))


@pytest.fixture(scope="module")
def first_run(demo_dir: Path) -> RunResult:
    return run_product(demo_dir / "customer-360", manifest_path=demo_dir / "manifest.embedded.yaml")


def _ctx(result: RunResult) -> RunContext:
    assert result.artifacts_path is not None
    return RunContext.load(result.artifacts_path)


def _events(demo_dir: Path) -> Path:
    return demo_dir / "customer-360" / "data" / "web_events.jsonl"


def _run(demo_dir: Path) -> RunResult:
    return run_product(demo_dir / "customer-360", manifest_path=demo_dir / "manifest.embedded.yaml")


def test_the_source_lands_as_an_iceberg_table_in_the_raw_namespace(first_run: RunResult, demo_dir: Path) -> None:
    ctx = _ctx(first_run)
    table = load_catalog(ctx).load_table(RAW)
    rows = table.scan().to_arrow()
    lines = [json.loads(line) for line in _events(demo_dir).read_text().splitlines()]
    assert rows.num_rows == len(lines) == 40
    assert sorted(rows.column("event_id").to_pylist()) == sorted(e["event_id"] for e in lines)
    first = next(r for r in rows.to_pylist() if r["event_id"] == lines[0]["event_id"])
    assert first["customer_id"] == lines[0]["customer_id"] and first["page"] == lines[0]["page"]
    assert json.loads(first["device"]) == lines[0]["device"]  # nested objects stay JSON (max_table_nesting 0)
    assert {f.name for f in table.schema().fields} >= {"event_id", "customer_id", "event_type", "occurred_at",
                                                       "_dlt_load_id"}
    assert "_dlt_id" not in {f.name for f in table.schema().fields}
    # the governance properties every floe table carries; no dlt bookkeeping tables next to it
    assert table.properties["floe.data-retention-days"] == "30"
    assert {t[-1] for t in load_catalog(ctx).list_tables("customer_360_raw")} == {
        "raw_customers", "raw_transactions", "raw_support_tickets", "raw_web_events"}


def test_dbt_reads_it_through_source_and_the_marts_keep_their_numbers(first_run: RunResult) -> None:
    ctx = _ctx(first_run)
    stg = load_catalog(ctx).load_table("customer_360.stg_web_events").scan().to_arrow()
    assert stg.num_rows == 40
    assert set(stg.column("event_type").to_pylist()) <= {"page_view", "search", "add_to_cart", "checkout", "other"}
    assert set(stg.column("device_type").to_pylist()) <= {"mobile", "desktop", "tablet"}
    for case in (c for c in ALL_CASES if c.product == "customer-360"):
        assert not check_run(case, ctx), case.id


def test_dlt_state_lives_under_the_target_and_lineage_names_the_file(first_run: RunResult) -> None:
    ctx = _ctx(first_run)
    work = ctx.out_dir / "ingest"
    assert (work / "pipelines" / "customer_360_raw__raw_web_events" / "state.json").is_file()
    assert not (work / "staging").exists()  # the Parquet hand-off is removed after the commit
    assert not (Path.home() / ".dlt").exists() and not (Path.cwd() / ".dlt").exists()
    transport = ctx.lineage_transport()
    assert transport is not None
    events = [json.loads(line) for line in Path(transport["log_file_path"]).read_text().splitlines()]
    ingest = [e for e in events if e["job"]["name"] == "customer_360_ingest" and e["eventType"] == "COMPLETE"]
    assert ingest, "no COMPLETE lineage event of the ingestion job"
    assert [i["name"] for i in ingest[-1]["inputs"]] == ["file:data/web_events.jsonl"]
    assert [o["name"] for o in ingest[-1]["outputs"]] == [RAW]
    stg = [e for e in events if e["job"]["name"] == "stg_web_events" and e["eventType"] == "COMPLETE"]
    assert stg and [i["name"] for i in stg[-1]["inputs"]] == [RAW]


def test_merge_updates_changed_rows_and_adds_new_ones(first_run: RunResult, demo_dir: Path) -> None:
    path = _events(demo_dir)
    original = path.read_text()
    lines = [json.loads(line) for line in original.splitlines()]
    lines[0]["page"] = "/changed"
    lines.append({**lines[1], "event_id": 1000, "page": "/new"})
    path.write_text("".join(json.dumps(e) + "\n" for e in lines))
    try:
        rerun = _run(demo_dir)
    finally:
        path.write_text(original)
    rows = {r["event_id"]: r for r in load_catalog(_ctx(rerun)).load_table(RAW).scan().to_arrow().to_pylist()}
    assert len(rows) == 41 and rows[lines[0]["event_id"]]["page"] == "/changed" and rows[1000]["page"] == "/new"
    assert load_catalog(_ctx(rerun)).load_table("customer_360.stg_web_events").scan().count() == 41


def test_a_malformed_file_fails_the_run_naming_it_and_leaves_the_tables_as_they_were(
        first_run: RunResult, demo_dir: Path) -> None:
    ctx = _ctx(first_run)
    catalog = load_catalog(ctx)
    before = {ident: catalog.load_table(ident).current_snapshot().snapshot_id
              for ident in (RAW, "customer_360.stg_web_events", "customer_360.mart_customer_360")}
    path = _events(demo_dir)
    original = path.read_text()
    path.write_text(original + '{"event_id": 2000, "customer_id": 1, "page": "/cart"\n')  # no closing brace
    try:
        with pytest.raises(RuntimeFailure) as err:
            _run(demo_dir)
    finally:
        path.write_text(original)
    message = str(err.value)
    assert "ingestion source 'raw_web_events' (file:data/web_events.jsonl) failed" in message, message
    assert "data/web_events.jsonl line 41: not valid JSON" in message, message
    catalog = load_catalog(ctx)
    after = {ident: catalog.load_table(ident).current_snapshot().snapshot_id for ident in before}
    assert after == before
    assert _run(demo_dir).success  # the fixed file runs again


@pytest.mark.requirement("FLOE-RUN-ATOMIC")
def test_a_run_failing_after_ingestion_publishes_none_of_the_ingested_rows(first_run: RunResult,
                                                                          demo_dir: Path) -> None:
    """The ingested table is published with the models, in the run's one commit: a new event ingested by
    a run whose model then fails is in no published snapshot; the fixed rerun publishes it."""
    from tests.dbt_faults import broken_model

    ctx = _ctx(first_run)
    before = load_catalog(ctx).load_table(RAW)
    rows = before.scan().count()
    path = _events(demo_dir)
    original = path.read_text()
    first = json.loads(original.splitlines()[0])
    path.write_text(original + json.dumps({**first, "event_id": 3000, "page": "/unpublished"}) + "\n")
    try:
        with (broken_model(demo_dir / "customer-360", "models/intermediate/int_customer_orders.sql"),
              pytest.raises(RuntimeFailure)):
            _run(demo_dir)
        after = load_catalog(ctx).load_table(RAW)
        assert after.current_snapshot().snapshot_id == before.current_snapshot().snapshot_id
        assert after.scan().count() == rows
        assert _run(demo_dir).success
        assert load_catalog(ctx).load_table(RAW).scan().count() == rows + 1
    finally:
        path.write_text(original)


# -- sources through manifest connections ---------------------------------------------------------
TOKEN = "floe-test-token-8f3a1c"


class _Api(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps({"data": [{"currency": c, "rate": r} for c, r in (("EUR", 1.08), ("GBP", 1.27))]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_sql_and_http_sources_through_named_connections_keep_their_secrets_off_disk(
        demo_copy: Path, api: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "crm.db"
    with sqlite3.connect(db) as con:
        con.execute("create table accounts (account_id integer primary key, name text, balance real)")
        con.executemany("insert into accounts values (?, ?, ?)", [(1, "Ada", 10.5), (2, "Lin", 20.0), (3, "Ola", 0)])
    monkeypatch.setenv("FX_API_TOKEN", TOKEN)
    manifest = demo_copy / "manifest.embedded.yaml"
    m = yaml.safe_load(manifest.read_text())
    m["plugins"]["ingestion"] = {"type": "dlt", "connections": {
        "crm": {"kind": "sql", "url": f"sqlite:///{db}"},
        "fx": {"kind": "http", "base_url": api, "token": "env:FX_API_TOKEN"},
    }}
    manifest.write_text(yaml.safe_dump(m, sort_keys=False))
    product = demo_copy / "customer-360"
    spec = yaml.safe_load((product / "floe.yaml").read_text())
    spec["ingestion"] += [
        {"name": "raw_accounts", "source": "sql", "connection": "crm", "table": "accounts",
         "write_disposition": "merge", "primary_key": "account_id"},
        {"name": "raw_fx_rates", "source": "http", "connection": "fx", "resource": "v1/rates", "data_selector": "data"},
    ]
    (product / "floe.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))

    result = run_product(product, manifest_path=manifest)
    catalog = load_catalog(_ctx(result))
    accounts = catalog.load_table("customer_360_raw.raw_accounts").scan().to_arrow().to_pylist()
    assert sorted((a["account_id"], a["name"]) for a in accounts) == [(1, "Ada"), (2, "Lin"), (3, "Ola")]
    rates = catalog.load_table("customer_360_raw.raw_fx_rates").scan().to_arrow().to_pylist()
    assert {(r["currency"], r["rate"]) for r in rates} == {("EUR", 1.08), ("GBP", 1.27)}
    leaked = [p for p in (product / "target").rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert leaked == []
