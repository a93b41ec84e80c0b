"""`floe semantic query` on the embedded default: the same numbers as hand-written SQL over the Iceberg tables.

Each product runs for real (dbt on DuckDB through in-process Dagster, tables in Iceberg); the hand-written
SQL reads the Iceberg tables through PyIceberg, never through floe's semantic code.
"""

from __future__ import annotations

import decimal
import json
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import DEMO, PRODUCTS, ROOT
from tests.semantic_cases import CASES, hand_written_sql, norm, query_body

from floe.app import run_product
from floe.contract import ARTIFACTS_FILE
from floe.runtime.context import RunContext
from floe.runtime.iceberg import load_catalog
from floe.runtime.runner import RunResult
from floe.semantic import QueryRequest, run_query

pytestmark = pytest.mark.integration

_IGNORE = shutil.ignore_patterns("target", "logs", ".floe", "*.duckdb")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("semantic") / "demo"
    shutil.copytree(DEMO, target, ignore=_IGNORE)
    return target


@pytest.fixture(scope="module")
def runs(demo_dir: Path) -> dict[str, RunResult]:
    manifest = demo_dir / "manifest.embedded.yaml"
    return {p: run_product(demo_dir / p, manifest_path=manifest) for p in PRODUCTS}


def _ctx(result: RunResult) -> RunContext:
    assert result.artifacts_path is not None
    return RunContext.load(result.artifacts_path)


@pytest.fixture(scope="module")
def iceberg_sql(runs: dict[str, RunResult]) -> Iterator[Any]:
    """Hand-written SQL: DuckDB over full copies of the products' Iceberg tables, read with PyIceberg."""
    import duckdb

    con = duckdb.connect(":memory:")

    def sql(product: str, query: str, *tables: str) -> list[tuple[Any, ...]]:
        ctx = _ctx(runs[product])
        return hand_written_sql(con, load_catalog(ctx), ctx.artifacts.identity.namespace, query, tables)

    yield sql
    con.close()


def _floe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "floe.cli.main", *args], capture_output=True, text=True,
                          cwd=ROOT, check=False)


def _cli_json(demo_dir: Path, product: str, *args: str) -> list[tuple[Any, ...]]:
    r = _floe("semantic", "query", str(demo_dir / product), "-m", str(demo_dir / "manifest.embedded.yaml"),
              "--format", "json", *args)
    assert r.returncode == 0, r.stderr
    return [tuple(row.values()) for row in json.loads(r.stdout)]


@pytest.mark.parametrize("product", PRODUCTS)
def test_cli_numbers_equal_hand_written_sql(product: str, demo_dir: Path, iceberg_sql: Any) -> None:
    checked = 0
    for args, sql, tables in CASES[product]:
        got = _cli_json(demo_dir, product, *args)
        want = iceberg_sql(product, sql, *tables)
        assert got, f"{product} {args}: no rows"
        assert norm(got) == norm(want), f"{product} {args}"
        checked += len(got[0]) - args.count("-g")
    assert checked >= 2, "at least two metrics per product"


def test_time_grain_from_a_joined_model(demo_dir: Path, iceberg_sql: Any) -> None:
    got = _cli_json(demo_dir, "financial-risk", "--metric", "position_count", "-g", "trade_date__month",
                    "-g", "risk_level", "--where", "risk_level != 'low'")
    want = iceberg_sql("financial-risk", """
        select date_trunc('month', p.trade_date), r.risk_level, count(*)
        from financial_risk.stg_positions p
        left join financial_risk.mart_risk_dashboard r on p.portfolio_id = r.portfolio_id
        where r.risk_level != 'low' group by 1, 2 order by 1, 2""", "stg_positions", "mart_risk_dashboard")
    assert norm(got) == norm(want) and len(got) > 2


def test_in_process_query_is_exact(runs: dict[str, RunResult], iceberg_sql: Any) -> None:
    result = run_query(_ctx(runs["customer-360"]), QueryRequest(
        metrics=["lifetime_value", "completed_orders"], group_by=["signup_date__year"], order_by=["signup_date__year"]))
    assert result.columns == ["signup_date__year", "lifetime_value", "completed_orders"]
    want = iceberg_sql("customer-360", """select date_trunc('year', signup_date), sum(total_spend), sum(total_orders)
                                          from customer_360.mart_customer_360 group by 1 order by 1""",
                       "mart_customer_360")
    assert result.rows == want  # Decimal for Decimal, no float rounding
    assert isinstance(result.rows[0][1], decimal.Decimal)
    assert "customer_360.mart_customer_360" in result.sql


def test_table_output_prints_the_numbers(demo_dir: Path, iceberg_sql: Any) -> None:
    r = _floe("semantic", "query", str(demo_dir / "customer-360"), "-m", str(demo_dir / "manifest.embedded.yaml"),
              "--metric", "customer_count", "--metric", "lifetime_value", "--group-by", "segment")
    assert r.returncode == 0, r.stderr
    want = iceberg_sql("customer-360", """select segment, count(*), sum(total_spend)
                                          from customer_360.mart_customer_360 group by 1 order by 1""",
                       "mart_customer_360")
    lines = r.stdout.splitlines()
    assert "segment" in lines[1] and "customer_count" in lines[1] and "lifetime_value" in lines[1]
    for segment, count, value in want:
        row = next(line for line in lines if f" {segment} " in line)
        assert f" {count} " in row and f" {value} " in row, row
    assert lines[-1] == f"{len(want)} row(s)"


def test_unknown_metric_is_a_clean_error(demo_dir: Path, runs: dict[str, RunResult]) -> None:
    r = _floe("semantic", "query", str(demo_dir / "iot-telemetry"), "-m", str(demo_dir / "manifest.embedded.yaml"),
              "--metric", "uptime")
    assert r.returncode == 2
    assert "unknown metric 'uptime'" in r.stderr and "anomaly_rate_pct" in r.stderr
    assert "Traceback" not in r.stderr


def test_query_before_the_first_run_says_what_to_do(tmp_path: Path) -> None:
    fresh = tmp_path / "demo"
    shutil.copytree(DEMO, fresh, ignore=_IGNORE)
    r = _floe("semantic", "query", str(fresh / "financial-risk"), "-m", str(fresh / "manifest.embedded.yaml"),
              "--metric", "total_value")
    assert r.returncode != 0
    assert "financial_risk.mart_risk_dashboard is not in the catalog yet" in r.stderr
    assert "floe run financial-risk" in r.stderr and "Traceback" not in r.stderr


def test_dbt_parses_the_generated_metricflow_definitions(tmp_path: Path) -> None:
    """The dbt form of the definitions is valid to dbt-core 1.11 and to MetricFlow reading dbt's manifest."""
    from metricflow_semantic_interfaces.validations.semantic_manifest_validator import SemanticManifestValidator
    from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest

    from floe.compiler.stages import compile_pipeline
    from floe.plugins.dbt.core import DbtCorePlugin
    from floe.plugins.semantic.metricflow import MetricFlowPlugin

    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo, ignore=_IGNORE)
    product = demo / "customer-360"
    out = tmp_path / "out"
    artifacts = compile_pipeline(product, demo / "manifest.embedded.yaml", output_dir=out)
    for rel, text in MetricFlowPlugin().generate_model(artifacts).items():
        if rel.startswith("models/"):
            (product / rel).parent.mkdir(parents=True, exist_ok=True)
            (product / rel).write_text(text)
    ctx = RunContext.load(out / ARTIFACTS_FILE)
    result = DbtCorePlugin().invoke(["parse", *ctx.dbt_vars_arg()], project_dir=product, profiles_dir=out,
                                    env={**ctx.dbt_env(), "DBT_TARGET_PATH": str(out / "dbt")})
    assert result.success, result.message
    manifest = parse_manifest_from_dbt_generated_manifest((out / "dbt" / "semantic_manifest.json").read_text())
    assert sorted(m.name for m in manifest.semantic_models) == ["customers", "transactions"]
    assert manifest.project_configuration.time_spines[0].node_relation.alias == "metricflow_time_spine"
    assert {m.name for m in manifest.metrics} >= {"customer_count", "lifetime_value", "avg_lifetime_value"}
    errors = SemanticManifestValidator().validate_semantic_manifest(manifest).errors
    assert [e.message for e in errors] == []


@pytest.fixture(scope="module")
def service(runs: dict[str, RunResult], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """`floe semantic serve`'s app over the three runs, called in-process (ASGI, no socket).

    The embedded manifest sets ``plugins.identity: static-token`` with the token from
    ``env:FLOE_SEMANTIC_TOKEN``, resolved (by the env secrets plugin) when the app is created.
    """
    from starlette.testclient import TestClient

    from floe.semantic.server import create_app

    token = secrets.token_urlsafe(24)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FLOE_SEMANTIC_TOKEN", token)
        env.setenv("FLOE_HOME", str(tmp_path_factory.mktemp("home")))
        app = create_app([_ctx(r) for r in runs.values()])
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


@pytest.mark.parametrize("product", PRODUCTS)
def test_service_numbers_equal_hand_written_sql(product: str, service: Any, iceberg_sql: Any) -> None:
    for args, sql, tables in CASES[product]:
        r = service.post("/v1/query", json=query_body(product, args))
        assert r.status_code == 200, r.text
        got = [tuple(row) for row in r.json()["rows"]]
        assert got and norm(got) == norm(iceberg_sql(product, sql, *tables)), f"{product} {args}"


def test_service_describes_health_and_refuses_without_token(service: Any) -> None:
    health = service.get("/health", headers={"Authorization": ""})
    assert health.status_code == 200 and health.json()["products"] == sorted(PRODUCTS)
    meta = service.get("/v1/meta").json()["products"]
    assert {m["name"] for m in meta["iot-telemetry"]["metrics"]} >= {"equipment_count", "anomaly_rate_pct"}
    assert len(meta["customer-360"]["dimensions"]) >= 2
    wrong = secrets.token_urlsafe(24)
    for headers, why in (({"Authorization": ""}, "missing bearer token"),
                         ({"Authorization": f"Bearer {wrong}"}, "wrong bearer token")):
        r = service.post("/v1/query", json={"product": "customer-360", "metrics": ["customer_count"]}, headers=headers)
        assert r.status_code == 401 and why in r.json()["error"] and wrong not in r.text
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert "FLOE_SEMANTIC_TOKEN" in r.json()["hint"] or "Authorization: Bearer" in r.json()["hint"]


def test_service_without_its_token_does_not_start(runs: dict[str, RunResult], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from floe.errors import ConfigError
    from floe.semantic.server import create_app

    monkeypatch.delenv("FLOE_SEMANTIC_TOKEN", raising=False)
    monkeypatch.setenv("FLOE_HOME", str(tmp_path))
    with pytest.raises(ConfigError) as err:
        create_app([_ctx(runs["customer-360"])])
    assert "env:FLOE_SEMANTIC_TOKEN is not set" in str(err.value)


def test_service_errors_name_what_is_allowed(service: Any) -> None:
    r = service.post("/v1/query", json={"product": "iot-telemetry", "metrics": ["uptime"]})
    assert r.status_code == 400 and "unknown metric 'uptime'" in r.json()["error"]
    assert "anomaly_rate_pct" in r.json()["hint"]
    r = service.post("/v1/query", json={"product": "nope", "metrics": ["x"]})
    assert r.status_code == 404 and "customer-360" in r.json()["hint"]
    assert service.post("/v1/query", content=b"{not json").status_code == 400
